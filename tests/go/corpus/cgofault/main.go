// cgofault faults in C code called through cgo: the runtime sees a signal outside Go code and
// throws "unexpected signal during runtime execution".
package main

/*
static volatile int *volatile crash_target; // NULL: the compiler cannot see it

__attribute__((noinline)) static int store_in_c(int v)
{
	*crash_target = v;
	return v;
}
*/
import "C"

//go:noinline
func callC() int {
	return int(C.store_in_c(42)) // CALLER-HERE
}

func main() {
	callC() // MAIN-CALLS
}
