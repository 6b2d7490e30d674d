// stackoverflow recurses without end in a goroutine until its stack passes the limit (lowered
// to 1 MiB so the crash comes quickly): "fatal error: stack overflow", and a traceback whose
// middle is elided.
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

import "runtime/debug"

var sink byte

//go:noinline
func descend(depth int) byte { // CRASH-HERE (the overflow is found in the prologue)
	var pad [64]byte
	pad[depth%64] = byte(depth)
	return descend(depth+1) + pad[(depth*7)%64] // RECURSE-HERE
}

func main() {
	debug.SetMaxStack(1 << 20)
	done := make(chan struct{})
	go func() { // GO-HERE
		sink = descend(0)
		close(done)
	}()
	<-done
}
