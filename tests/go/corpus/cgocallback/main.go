// cgocallback calls C, which calls back into Go, and the Go callback panics: the panic unwinds a
// goroutine whose stack crosses C (cgocallback) and is locked to its thread.
package main

// void call_into_go(int n); // in bridge.c: //export forbids definitions here
import "C"

import "strconv"

//export goHandler
func goHandler(n C.int) {
	panic("handler " + strconv.Itoa(int(n)) + " failed") // CRASH-HERE
}

func main() {
	C.call_into_go(3) // CALLER-HERE
}
