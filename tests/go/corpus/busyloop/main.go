// busyloop panics in main while another goroutine spins on another thread in a loop that makes
// no calls. With asynchronous preemption off (the program re-executes itself with
// GODEBUG=asyncpreemptoff=1) the runtime cannot stop the spinner, so the traceback shows it as
// "goroutine running on other thread; stack unavailable"; at GOTRACEBACK=crash the spinner's
// own thread then prints its stack when the runtime relays SIGQUIT to it.
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

import (
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
)

var (
	spinning atomic.Bool
	counter  uint64
)

//go:noinline
func spin() {
	spinning.Store(true)
	for { // SPIN-HERE
		counter++
	}
}

// reexec makes sure asynchronous preemption is off: GODEBUG is read once, at start-up.
func reexec() {
	godebug := os.Getenv("GODEBUG")
	if strings.Contains(godebug, "asyncpreemptoff=1") {
		return
	}
	if godebug != "" {
		godebug += ","
	}
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	env := append(os.Environ(), "GODEBUG="+godebug+"asyncpreemptoff=1")
	panic(syscall.Exec(exe, os.Args, env))
}

func main() {
	reexec()
	runtime.GOMAXPROCS(2) // the spinner holds one P for good; main needs the other
	go spin()             // GO-HERE
	for !spinning.Load() {
		runtime.Gosched()
	}
	panic("main gives up while a goroutine spins") // CRASH-HERE
}
