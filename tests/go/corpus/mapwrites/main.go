// mapwrites writes one map from two goroutines without a lock until the runtime notices and
// throws "concurrent map writes" (a fatal error, not a panic: recover cannot stop it).
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

import (
	"runtime"
	"strings"
	"time"
)

//go:noinline
func writer(m map[int]int, base int) {
	mainParked()
	for i := 0; ; i++ {
		m[base+i%1024] = i // CRASH-HERE
	}
}

func main() {
	m := make(map[int]int)
	go writer(m, 0)     // GO-HERE
	go writer(m, 1<<20) // GO-HERE
	select {}           // MAIN-WAITS
}

// mainParked waits until goroutine 1 is in its select{}: runtime.Stack prints the same goroutine
// headers as the crash traceback.
func mainParked() {
	buf := make([]byte, 1<<20)
	for !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "goroutine 1 [select (no cases)]") {
		time.Sleep(time.Millisecond)
	}
}
