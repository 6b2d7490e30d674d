// pprof_live writes the goroutine profile of a live Go process, as net/http/pprof serves it at
// /debug/pprof/goroutine, to the file named by its argument: the reference that tests/go/test_pprof.py
// holds `lastgasp pprof` to (the same sample and period types, the same way of showing a stack).
package main

import (
	"os"
	"runtime/pprof"
	"sync"
)

func main() {
	var ready, done sync.WaitGroup
	ready.Add(1)
	done.Add(1)
	go func() {
		ready.Done()
		done.Wait()
	}()
	ready.Wait()
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := pprof.Lookup("goroutine").WriteTo(f, 0); err != nil {
		panic(err)
	}
	if err := f.Close(); err != nil {
		panic(err)
	}
	done.Done()
}
