// panicstring panics with a string in a goroutine that main started, while main waits in a
// channel receive.
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

import (
	"runtime"
	"strconv"
	"strings"
	"time"
)

//go:noinline
func worker(id int) {
	settle() // main is now in its channel receive

	panic("worker " + strconv.Itoa(id) + " gave up") // CRASH-HERE
}

func main() {
	done := make(chan struct{})
	go worker(7) // GO-HERE
	<-done       // MAIN-WAITS
}

// settle waits until every other goroutine of the program is parked: runtime.Stack prints the
// same goroutine headers as the crash traceback, and the only one running is the caller.
func settle() {
	buf := make([]byte, 8<<20)
	for {
		s := string(buf[:runtime.Stack(buf, true)])
		if strings.Count(s, " [running") == 1 && !strings.Contains(s, " [runnable") {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
