// A Go program for the module-identity and debug-info tests. Built two ways by tests/crash/test_module_id.py:
// with the cgo file (cgo_side.go, an `import "C"`: Go links it externally by default) and without it (only
// package net uses cgo: Go's internal linker, the way a usual net/http service is built). `nil` dereferences
// a nil pointer in Go; `cfault` (with cgo) faults in C.
package main

import (
	"fmt"
	"net"
	"os"
)

var p *int

var cFault func() // set by cgo_side.go

func main() {
	_, _ = net.LookupPort("tcp", "http")
	switch {
	case len(os.Args) > 1 && os.Args[1] == "cfault" && cFault != nil:
		cFault()
	case len(os.Args) > 1 && os.Args[1] == "nil":
		fmt.Println(*p)
	}
}
