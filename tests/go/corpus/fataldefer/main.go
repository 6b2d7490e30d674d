// fataldefer panics, and a deferred call then dies of a fatal error (sync: unlock of unlocked
// mutex) while the panic unwinds. From Go 1.26 the runtime prints the panics in flight before the
// "fatal error" line, as they are (not through Error(): "(*errors.errorString) 0x..."); earlier
// versions print the fatal error alone.
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

import (
	"errors"
	"sync"
)

var mu sync.Mutex

//go:noinline
func unlock() {
	mu.Unlock() // CRASH-HERE
}

//go:noinline
func run() {
	defer unlock()
	panic(errors.New("disk full")) // FIRST-PANIC
}

func main() {
	run() // CALLER-HERE
}
