// goinstall: what lastgasp.Install costs a Go program (the goshim package): wall time of the call
// and memory before and after, printed as installbench.c prints them for C (tests/bench/install.py).
// Usage: goinstall DUMPDIR
package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"time"

	lastgasp "github.com/lastgasp/lastgasp/goshim"
)

// kib reads one "Name: N kB" field of a /proc file.
func kib(file, name string) int {
	b, _ := os.ReadFile(file)
	m := regexp.MustCompile(`(?m)^` + name + `:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

type mem struct{ rss, anon, file, exact, size int }

func read() mem {
	s := "/proc/self/status"
	return mem{kib(s, "VmRSS"), kib(s, "RssAnon"), kib(s, "RssFile"), kib("/proc/self/smaps_rollup", "Rss"),
		kib(s, "VmSize")}
}

func main() {
	before := read()
	t0 := time.Now()
	err := lastgasp.Install(lastgasp.Options{Dir: os.Args[1], Quiet: true})
	ns := time.Since(t0).Nanoseconds()
	after := read()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("install_ns=%d rss=%d,%d anon=%d,%d file=%d,%d exact_rss=%d,%d size=%d,%d\n", ns,
		before.rss, after.rss, before.anon, after.anon, before.file, after.file, before.exact, after.exact,
		before.size, after.size)
}
