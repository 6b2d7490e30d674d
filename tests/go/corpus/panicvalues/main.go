// panicvalues dies of a chain of panics, each deferred function panicking again while the one before
// unwinds, with one value of each kind the runtime prints its own way (printpanicval): a builtin
// int, string, bool, uint8 and int64, declared types of int and string kind, a struct, and a
// float64, which lastgasp does not decode (its reason says so in place of the value).
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

type celsius int
type label string
type point struct{ x, y int }

var origin = &point{1, 2}

//go:noinline
func run() {
	defer func() { panic(*origin) }()       // struct: "(main.point) 0x..."
	defer func() { panic(2.5) }()           // float64: not decoded
	defer func() { panic(label("a\nb")) }() // declared string kind, with a newline
	defer func() { panic(celsius(-40)) }()  // declared int kind
	defer func() { panic(int64(-7)) }()     // builtin int64
	defer func() { panic(uint8(200)) }()    // builtin uint8
	defer func() { panic(true) }()          // builtin bool
	defer func() { panic("disk\nfull") }()  // builtin string, with a newline
	panic(42)                               // CRASH-HERE
}

func main() {
	run() // CALLER-HERE
}
