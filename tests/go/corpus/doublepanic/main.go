// doublepanic panics, and a deferred function panics again while the first panic unwinds.
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

//go:noinline
func cleanup() {
	panic("cleanup failed") // CRASH-HERE
}

//go:noinline
func run() {
	defer cleanup()
	panic("first failure") // FIRST-PANIC
}

func main() {
	run() // CALLER-HERE
}
