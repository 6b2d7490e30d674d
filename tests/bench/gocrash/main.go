// gocrash: a Go service-sized crash for the benchmark. N goroutines parked in a channel receive,
// HEAP_MIB of live heap, then a nil dereference in main. Just before the fault it writes
// CLOCK_MONOTONIC (ns) to the fd given, so the parent measures crash-to-exit on one clock.
//
//	gocrash N HEAP_MIB FD
//	gocrash -1       (start, exit 0: the startup-cost benchmark)
package main

/*
// cgo, so the binary is dynamically linked and LD_PRELOAD reaches it.
int gocrash_unused;
*/
import "C"

import (
	"encoding/binary"
	"os"
	"strconv"
	"sync"
	"syscall"
	"unsafe"
)

type T struct{ x int }

var sink [][]byte

func park(wg *sync.WaitGroup, ch chan int) {
	wg.Done()
	<-ch
}

func monotonicNs() uint64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1, uintptr(unsafe.Pointer(&ts)), 0)
	return uint64(ts.Sec)*1e9 + uint64(ts.Nsec)
}

func main() {
	n, _ := strconv.Atoi(os.Args[1])
	if n < 0 {
		return // "gocrash -1": start and exit, to measure what loading lastgasp costs at startup
	}
	heap, _ := strconv.Atoi(os.Args[2])
	fd, _ := strconv.Atoi(os.Args[3])
	for i := 0; i < heap; i++ {
		b := make([]byte, 1<<20)
		for j := range b {
			b[j] = byte(j)
		}
		sink = append(sink, b)
	}
	ch := make(chan int)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go park(&wg, ch)
	}
	wg.Wait()
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], monotonicNs())
	os.NewFile(uintptr(fd), "clock").Write(buf[:])
	var p *T
	p.x = 1 // the crash
	_ = C.gocrash_unused
}
