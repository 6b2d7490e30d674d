// gohttp: a small Go HTTP service for the steady-state benchmark (tests/bench/gohttp.py). It
// serves GET /item?id=N from a map of 1024 items, JSON-encoded, the kind of work a real handler
// does per request. It listens on 127.0.0.1 only, on a port the kernel picks, and says which on
// stdout ("listening 127.0.0.1:PORT pid N"). It exits when its stdin closes, so it never outlives
// the benchmark that started it.
//
//	gohttp
package main

/*
// cgo, so the binary is dynamically linked and LD_PRELOAD reaches it.
#include <unistd.h>
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
)

type item struct {
	ID      int      `json:"id"`
	Name    string   `json:"name"`
	Price   float64  `json:"price"`
	InStock bool     `json:"in_stock"`
	Tags    []string `json:"tags"`
}

const nitems = 1024

var items = make(map[int]*item, nitems)

func serveItem(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.URL.Query().Get("id"))
	if err != nil {
		http.Error(w, "bad id", http.StatusBadRequest)
		return
	}
	it, ok := items[id%nitems]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(it)
}

func main() {
	for i := 0; i < nitems; i++ {
		items[i] = &item{ID: i, Name: "item-" + strconv.Itoa(i), Price: float64(i) * 1.25, InStock: i%3 != 0,
			Tags: []string{"bench", "tag-" + strconv.Itoa(i%7)}}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gohttp:", err)
		os.Exit(1)
	}
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	fmt.Printf("listening %s pid %d\n", ln.Addr(), int(C.getpid()))
	mux := http.NewServeMux()
	mux.HandleFunc("/item", serveItem)
	fmt.Fprintln(os.Stderr, "gohttp:", http.Serve(ln, mux))
	os.Exit(1)
}
