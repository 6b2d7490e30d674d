// parked1000 parks 1000 goroutines, 200 in each of five ways (chan receive, select,
// sync.Mutex.Lock, sleep, IO wait on a loopback connection), then panics in main. Three of the
// channel receivers have locked their OS thread.
package main

import "C" // cgo: the binary is dynamically linked, as LD_PRELOAD needs

import (
	"net"
	"runtime"
	"strings"
	"sync"
	"time"
)

const perKind = 200

var (
	never  = make(chan int)
	never2 = make(chan int)
	mu     sync.Mutex
)

//go:noinline
func receive(started *sync.WaitGroup, lock bool) {
	if lock {
		lockThread()
	}
	started.Done()
	<-never // RECV-HERE
}

//go:noinline
func choose(started *sync.WaitGroup) {
	started.Done()
	select { // SELECT-HERE
	case <-never:
	case <-never2:
	}
}

//go:noinline
func lockMutex(started *sync.WaitGroup) {
	started.Done()
	mu.Lock() // MUTEX-HERE
}

//go:noinline
func nap(started *sync.WaitGroup) {
	started.Done()
	time.Sleep(time.Hour) // SLEEP-HERE
}

//go:noinline
func read(started *sync.WaitGroup, c net.Conn) {
	var buf [1]byte
	started.Done()
	c.Read(buf[:]) // READ-HERE
}

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	var accepted []net.Conn
	acceptedAll := make(chan struct{})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted = append(accepted, c) // kept open; never written to
			if len(accepted) == perKind {
				close(acceptedAll)
			}
		}
	}()

	mu.Lock() // held by main for good
	var started sync.WaitGroup
	started.Add(5 * perKind)
	for i := 0; i < perKind; i++ {
		go receive(&started, i < 3) // GO-RECV
		go choose(&started)         // GO-SELECT
		go lockMutex(&started)      // GO-MUTEX
		go nap(&started)            // GO-SLEEP
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			panic(err)
		}
		go read(&started, c) // GO-READ
	}
	started.Wait()
	<-acceptedAll
	settle()
	panic("1000 goroutines parked") // CRASH-HERE
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
