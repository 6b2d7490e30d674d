// throw: the runtime throws on a bad argument (runtime.SetFinalizer of a value that is not a
// pointer): "fatal error: runtime.SetFinalizer: first argument is int, not pointer", an error of the
// runtime's own kind (throw, not fatal), which shows every runtime frame of the crashing goroutine at
// any level; the runtime aborts the process from there (crash() -> SIGABRT once lastgasp has set the
// crash bit).
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

import "runtime"

//go:noinline
func finalize(v int) {
	runtime.SetFinalizer(v, func(int) {}) // CRASH-HERE
}

func main() {
	finalize(42) // CALLER-HERE
}
