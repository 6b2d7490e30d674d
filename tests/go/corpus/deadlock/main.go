// deadlock blocks every goroutine: main in a channel receive, another goroutine in a send on a
// different channel. The runtime throws "all goroutines are asleep - deadlock!".
//
// The one program of the corpus without cgo, because cgo turns the runtime's deadlock detector
// off (checkdead counts the extra M that cgo callbacks need as running: golang/go#25538), so a
// cgo build just hangs. The binary is static: LD_PRELOAD cannot reach it, and a lastgasp that is
// in a process (through cgo) never sees this fatal error. It is here for the traceback parser.
package main

//go:noinline
func send(out chan<- int) {
	out <- 1 // SEND-HERE
}

func main() {
	in := make(chan int)
	out := make(chan int)
	go send(out) // GO-HERE
	<-in         // CRASH-HERE
}
