// panicerror panics with an error value in a goroutine created by another goroutine, so its
// "created by" names a goroutine other than 1.
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

type fetchError struct {
	url  string
	code int
}

func (e *fetchError) Error() string { return "fetch " + e.url + ": status " + strconv.Itoa(e.code) }

//go:noinline
func fetch(url string) {
	settle() // main and dispatch are in wg.Wait
	var err error = &fetchError{url: url, code: 503}
	panic(err) // CRASH-HERE
}

//go:noinline
func dispatch(wg *sync.WaitGroup) {
	go fetch("http://127.0.0.1/status") // GO-HERE
	wg.Wait()
}

func main() {
	var wg sync.WaitGroup
	wg.Add(1)
	go dispatch(&wg) // DISPATCH-HERE
	wg.Wait()
}

// settle waits until every other goroutine of the program is parked: runtime.Stack prints the
// same goroutine headers as the crash traceback, and the only one running is the caller.
func settle() {
	buf := make([]byte, 8<<20)
	for {
		s := string(buf[:runtime.Stack(buf, true)])
		if strings.Count(s, " [running") == 1 && !strings.Contains(s, " [runnable") {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
