// indexinline indexes a slice out of range inside a function the compiler inlines into main.main:
// the traceback shows the inlined frame ("main.pick(...)") above its caller.
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

import "os"

var sink int

// pick is small enough to be inlined.
func pick(s []int, i int) int {
	return s[i] // CRASH-HERE
}

func main() {
	s := []int{1, 2, 3}
	i := len(os.Args) + 4 // 5: not a constant, so the check stays
	sink = pick(s, i)     // CALLER-HERE
}
