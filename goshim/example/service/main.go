// Command service is a small HTTP service that shows lastgasp in a Go program: it serves
// /hello, and two requests that crash it, /crash/goroutine (a nil dereference in a goroutine the
// handler starts) and /crash/cgo (a fault in C code called through cgo).
//
// Built as is, it installs lastgasp itself through the goshim package (install.go). Built with
// -tags nolastgasp, it is an unmodified service for the other way in:
//
//	LD_PRELOAD=/path/to/liblastgasp.so LASTGASP_DIR=/dumps ./service
//
// Either way the dump lands in $LASTGASP_DIR; `lastgasp show DUMP` renders it.
package main

/*
// A C library with a bug: it dereferences the pointer it is given.
static int *volatile no_buffer;
static __attribute__((noinline)) int parse_header(int *buf) { return buf[1] + 1; }
static int c_parse(void) { return parse_header(no_buffer); }
*/
import "C"

import (
	"encoding/json"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
)

type order struct {
	ID    int
	Items map[string]int
}

var orders = map[int]*order{1: {ID: 1, Items: map[string]int{"tea": 2}}}

// total has a bug: an order that does not exist is a nil pointer.
func total(o *order) int {
	n := 0
	for _, q := range o.Items {
		n += q
	}
	return n
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	installLastgasp()

	http.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"hello": "world", "total": total(orders[1])})
	})
	http.HandleFunc("/crash/goroutine", func(w http.ResponseWriter, r *http.Request) {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); total(orders[42]) }()
		wg.Wait()
	})
	http.HandleFunc("/crash/cgo", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte{byte(C.c_parse())})
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("serving on http://%s (pid %d)", ln.Addr(), os.Getpid())
	log.Fatal(http.Serve(ln, nil))
}
