// Go crashes for the shipping tests (test_upload_go.py): each scenario dies its own way, at a line marked
// "// SITE name" that the tests look up. cgo is imported so that the binary is dynamically linked and
// LD_PRELOAD reaches it. Prints nothing of its own: stderr is the Go runtime's crash output.
package main

import "C"

import (
	"fmt"
	"os"
	"sync"
)

type conf struct{ name string }

var (
	nilConf *conf
	table   = []int{1, 2, 3}
	where   = 5
)

//go:noinline
func loadA() string { return nilConf.name } // SITE nil_a

//go:noinline
func loadB() string { return nilConf.name } // SITE nil_b

//go:noinline
func pick() int { return table[where] } // SITE index

//go:noinline
func job(id string) { panic(fmt.Sprintf("job %s failed", id)) } // SITE value

func mapwrites() {
	m := map[int]int{}
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			for i := 0; ; i++ {
				m[i%64] = i // SITE mapwrites
			}
		}()
	}
	wg.Wait()
}

func main() {
	switch os.Args[1] {
	case "nil_a":
		fmt.Fprint(os.Stdout, loadA())
	case "nil_b":
		fmt.Fprint(os.Stdout, loadB())
	case "index":
		fmt.Fprint(os.Stdout, pick())
	case "value":
		job(os.Args[2])
	case "mapwrites":
		mapwrites()
	}
}
