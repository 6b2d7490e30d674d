// killself: a goroutine sends its own thread SIGSEGV with tgkill. A signal from the program
// itself (si_code SI_TKILL) is not a fault: the runtime does not turn it into a panic, it prints
// "SIGSEGV: segmentation violation", PC=, the goroutines and the registers, and exits 2. The signal
// arrives in a running goroutine, on its own stack: the dump must walk it from the signal's context,
// as the runtime's tracebacktrap does. Meanwhile another goroutine spins on another thread in a loop
// that makes no calls, with asynchronous preemption off (the program re-executes itself with
// GODEBUG=asyncpreemptoff=1): the runtime cannot stop it, so it prints "goroutine running on other
// thread; stack unavailable"; the dump must show its stack (from that thread's registers).
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

import (
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
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

//go:noinline
func killSelf() {
	runtime.LockOSThread() // the thread tgkill names stays this goroutine's
	syscall.Tgkill(syscall.Getpid(), syscall.Gettid(), syscall.SIGSEGV) // CRASH-HERE
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
	runtime.GOMAXPROCS(2) // the spinner holds one P; main needs the other
	done := make(chan struct{})
	go func() { <-done }() // PARKED-HERE
	settle()               // before the spinner: runtime.Stack stops the world, which cannot stop it
	go spin()              // GO-HERE
	for !spinning.Load() {
		runtime.Gosched()
	}
	killSelf() // CALLER-HERE
}

// settle waits until the other goroutine is parked (runtime.Stack prints the same headers as the
// crash traceback).
func settle() {
	buf := make([]byte, 1<<20)
	for {
		s := string(buf[:runtime.Stack(buf, true)])
		if strings.Contains(s, " [chan receive") {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
