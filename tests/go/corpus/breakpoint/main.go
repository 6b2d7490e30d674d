// breakpoint: runtime.Breakpoint in a goroutine that main started. The INT3 raises SIGTRAP in a
// running goroutine; the runtime prints "SIGTRAP: trace trap", PC=, the goroutines and exits 2. The
// pc of a trap is the instruction after it, and neither the runtime nor the dump rewinds it.
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

import (
	"runtime"
	"strings"
	"time"
)

//go:noinline
func trap() {
	settle()
	runtime.Breakpoint() // CRASH-HERE
}

func main() {
	done := make(chan struct{})
	go trap() // GO-HERE
	<-done    // MAIN-WAITS
}

func settle() {
	buf := make([]byte, 1<<20)
	for {
		s := string(buf[:runtime.Stack(buf, true)])
		if strings.Count(s, " [running") == 1 && !strings.Contains(s, " [runnable") {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
