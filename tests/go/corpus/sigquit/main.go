// sigquit: a busy program (a goroutine spinning, others parked) that the test stops with SIGQUIT
// once it has written "ready" on stdout. The runtime prints "SIGQUIT: quit" and every goroutine and
// exits 2; lastgasp leaves SIGQUIT to the runtime (no dump).
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

import (
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
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

func main() {
	runtime.GOMAXPROCS(2)
	var mu sync.Mutex
	mu.Lock()
	ch := make(chan int)
	for i := 0; i < 4; i++ {
		go func() { <-ch }()     // CHAN-HERE
		go func() { mu.Lock() }() // LOCK-HERE
	}
	buf := make([]byte, 1<<20)
	for { // wait until the 8 goroutines are parked (before the spinner: runtime.Stack preempts it)
		s := string(buf[:runtime.Stack(buf, true)])
		if strings.Count(s, " [chan receive") == 4 && strings.Count(s, " [sync.Mutex.Lock") == 4 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	go spin() // GO-HERE
	for !spinning.Load() {
		runtime.Gosched()
	}
	os.Stdout.WriteString("ready\n")
	select {} // MAIN-WAITS
}
