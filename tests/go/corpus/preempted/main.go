// preempted: main panics while the program's only P was taken from a goroutine by asynchronous
// preemption (GOMAXPROCS 1): that goroutine is runnable, its stack is runtime.asyncPreempt2,
// runtime.asyncPreempt, then the interrupted function at the exact pc it was stopped at (not a return
// address: no pc-1).
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

import (
	"runtime"
	"time"
)

var a, b, c, d, e, f, g, h uint64

// spin's loop is nine instructions, eight of them each a line of its own: a lookup at pc-1 names the
// wrong line unless the goroutine was stopped at the loop's jump (the last line's second instruction).
//
//go:noinline
func spin(p, q, r, s, t, u, v, w *uint64) {
	for {
		*p += 1 // SPIN-HERE
		*q += 2
		*r += 3
		*s += 4
		*t += 5
		*u += 6
		*v += 7
		*w += 8
	}
}

func main() {
	runtime.GOMAXPROCS(1)
	go spin(&a, &b, &c, &d, &e, &f, &g, &h) // GO-HERE
	// main wakes up only when sysmon has preempted the spinner (it never yields on its own).
	time.Sleep(50 * time.Millisecond)
	panic("main panics while a preempted goroutine waits") // CRASH-HERE
}
