// cgothread starts a thread in C that calls into Go; the Go function panics. The goroutine runs
// on an m the runtime made for a foreign thread: no "created by", locked to its thread. main
// waits in C (pthread_join) meanwhile.
package main

// int run_c_thread(void); // in thread.c: //export forbids definitions here
import "C"

//export goFromCThread
func goFromCThread(n C.int) {
	if n > 0 {
		panic("called from a C thread") // CRASH-HERE
	}
}

func main() {
	C.run_c_thread() // CALLER-HERE
}
