// repanic recovers a panic and panics again with the same value, the way a deferred cleanup that
// logs and re-raises does: Go 1.25 and later print one line "[recovered, repanicked]", earlier
// versions two ("[recovered]", then the same panic again).
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

import "errors"

//go:noinline
func serve() {
	defer func() {
		if r := recover(); r != nil {
			panic(r) // CRASH-HERE
		}
	}()
	panic(errors.New("connection reset")) // FIRST-PANIC
}

func main() {
	serve() // CALLER-HERE
}
