// cgowait: main sends its own thread SIGTRAP while a goroutine that came back from a cgo call waits
// for a P (GOMAXPROCS 1, asynchronous preemption off so that the spinning main keeps the P; the
// program re-executes itself with GODEBUG=asyncpreemptoff=1). That goroutine is runnable in
// runtime.exitsyscall, with its system call state still saved: the runtime walks it from there
// (runtime.cgocall, at the call into C). main makes no call that could yield on the way to the crash:
// sysmon has asked it to yield long before, and any function prologue would give the P to the waiting
// goroutine (a panic, or runtime.Breakpoint when not inlined, as in -gcflags=-l builds); tgkill by
// syscall.RawSyscall is nosplit down to the system call.
package main

/*
#include <unistd.h>

int cgowait_returned;

static void wait_in_c(void)
{
	usleep(100 * 1000);
	__atomic_store_n(&cgowait_returned, 1, __ATOMIC_SEQ_CST);
}
*/
import "C"

import (
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"
)

var sink uint64

//go:noinline
func callC(started chan struct{}) {
	close(started)
	C.wait_in_c() // CALLER-HERE
}

// reexec makes sure asynchronous preemption is off: GODEBUG is read once, at start-up.
func reexec() {
	godebug := os.Getenv("GODEBUG")
	if strings.Contains(godebug, "asyncpreemptoff=1") {
		return
	}
	if godebug != "" {
		godebug += ","
	}
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	env := append(os.Environ(), "GODEBUG="+godebug+"asyncpreemptoff=1")
	panic(syscall.Exec(exe, os.Args, env))
}

func main() {
	reexec()
	runtime.GOMAXPROCS(1)
	pid := uintptr(syscall.Getpid())
	started := make(chan struct{})
	go callC(started) // GO-HERE
	<-started
	// Hold the only P without a call (nothing can preempt this loop) until the C function returned,
	// and a while longer: the goroutine finds no P and queues itself in runtime.exitsyscall.
	returned := (*int32)(unsafe.Pointer(&C.cgowait_returned))
	for atomic.LoadInt32(returned) == 0 {
	}
	for i := uint64(0); i < 300_000_000; i++ {
		sink += i
	}
	tid, _, _ := syscall.RawSyscall(syscall.SYS_GETTID, 0, 0, 0)
	syscall.RawSyscall(syscall.SYS_TGKILL, pid, tid, uintptr(syscall.SIGTRAP)) // CRASH-HERE
}
