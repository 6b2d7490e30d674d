// nilderef dereferences a nil pointer in main.main: SIGSEGV in Go code, turned into a panic
// ("invalid memory address or nil pointer dereference") on goroutine 1.
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

type node struct {
	next *node
	val  int
}

// find is not inlined, so the compiler cannot see that it returns nil.
//
//go:noinline
func find(key int) *node {
	if key < 0 {
		return &node{val: key}
	}
	return nil
}

func main() {
	n := find(7)
	n.val = 42 // CRASH-HERE
}
