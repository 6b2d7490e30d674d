// matrix: one Go program, many named ways to die (or not), for the capture matrix
// (tests/go/test_capture_matrix.py). Usage: matrix SCENARIO. It prints "ready" on stdout once the
// scenario's setup is done, for scenarios that wait for something from outside.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
)

type node struct{ next *node }

var sink *node

//go:noinline
func nilDeref(n *node) int { return len(fmt.Sprint(n.next.next)) }

func indexOut(s []int, i int) int { return s[i] }

func nestedPanic() {
	defer func() { panic("panic in a deferred function") }()
	panic("first panic")
}

func mapWrites() {
	m := map[int]int{}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ; i++ {
				m[i%1000+g] = i
			}
		}(g)
	}
	wg.Wait()
}

//go:noinline
func recurse(n int) int {
	var pad [64]byte
	pad[n%64] = byte(n)
	return recurse(n+1) + int(pad[0])
}

// serveRecovered: an HTTP server whose middleware recovers handler panics; every request to
// /panic panics. Prints the port, serves until SIGTERM or 60 s.
func serveRecovered() {
	mux := http.NewServeMux()
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) { sink.next = nil })
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	recoverer := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					http.Error(w, fmt.Sprint("recovered: ", v), http.StatusInternalServerError)
				}
			}()
			h.ServeHTTP(w, r)
		})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Printf("ready %d\n", ln.Addr().(*net.TCPAddr).Port)
	go func() { time.Sleep(60 * time.Second); os.Exit(1) }()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	go http.Serve(ln, recoverer(mux))
	<-stop
	os.Exit(0)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: matrix SCENARIO")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "nilderef":
		nilDeref(sink)
	case "panic":
		panic("explicit panic")
	case "goroutinepanic":
		done := make(chan bool)
		go func() { panic(fmt.Errorf("panic in goroutine %d", 7)) }()
		<-done
	case "index":
		indexOut(make([]int, 3), len(os.Args)+3)
	case "nestedpanic":
		nestedPanic()
	case "mapwrites":
		mapWrites()
	case "deadlock":
		fmt.Println("ready")
		select {}
	case "stackoverflow":
		debug.SetMaxStack(1 << 20)
		recurse(0)
	case "cfault":
		cFault()
	case "cgotraceback":
		setCgoTraceback()
		cFault()
	case "cabort":
		cAbort()
	case "callbackpanic":
		cCallsGo()
	case "cthread":
		cThreadFault()
	case "killsegv", "sigterm":
		if os.Args[1] == "sigterm" {
			stop := make(chan os.Signal, 1)
			signal.Notify(stop, syscall.SIGTERM)
			fmt.Println("ready")
			<-stop
			fmt.Println("stopping on SIGTERM")
			os.Exit(0)
		}
		fmt.Println("ready")
		time.Sleep(30 * time.Second)
	case "recoverhttp":
		serveRecovered()
	case "killself":
		// A goroutine sends its own thread SIGSEGV: the runtime's signal path, not a panic.
		done := make(chan bool)
		go func() {
			runtime.LockOSThread()
			syscall.Tgkill(syscall.Getpid(), syscall.Gettid(), syscall.SIGSEGV)
			time.Sleep(10 * time.Second)
		}()
		<-done
	case "breakpoint":
		runtime.Breakpoint()
	case "busy":
		// Busy goroutines, for a signal from outside (SIGQUIT): prints "ready" when they run.
		for i := 0; i < 4; i++ {
			go func() {
				for n := 0; ; n++ {
					if n%1000000 == 0 {
						runtime.Gosched()
					}
				}
			}()
		}
		fmt.Println("ready")
		time.Sleep(30 * time.Second)
	case "parked10k":
		// 10,000 goroutines parked in a channel, then a nil dereference.
		block := make(chan bool)
		for i := 0; i < 10000; i++ {
			go func() { <-block }()
		}
		time.Sleep(100 * time.Millisecond)
		nilDeref(sink)
	case "settraceback":
		// The program chooses its own level at run time, then panics.
		debug.SetTraceback(os.Getenv("MATRIX_LEVEL"))
		panic("explicit panic")
	case "abortexit0":
		// A C SIGABRT handler that exits 0: from a C constructor (MATRIX_ABORT_EXIT0=ctor), else now.
		if os.Getenv("MATRIX_ABORT_EXIT0") != "ctor" {
			installAbortExit0()
		}
		panic("explicit panic")
	case "child":
		// A child process (this program again) that panics; the parent reports its status.
		cmd := exec.Command(os.Args[0], "nilderef")
		cmd.Stderr = os.Stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		fmt.Printf("child exited %d\n", code)
		os.Exit(0)
	case "exit3":
		os.Exit(3)
	case "env":
		// What the program (and so any child it starts) sees of the variables lastgasp touches.
		fmt.Printf("GOTRACEBACK=%q LASTGASP_DIR=%q\n", os.Getenv("GOTRACEBACK"), os.Getenv("LASTGASP_DIR"))
		os.Exit(0)
	case "recovered":
		// A nil dereference recovered in place: recover() must work with lastgasp installed.
		func() {
			defer func() { fmt.Println("recovered:", recover() != nil) }()
			nilDeref(sink)
		}()
		os.Exit(0)
	default:
		fmt.Fprintln(os.Stderr, "matrix: unknown scenario", os.Args[1])
		os.Exit(2)
	}
}
