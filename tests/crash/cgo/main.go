// A cgo program that crashes in C, for the C crash matrix: lastgasp sees it as a native crash.
// Go-aware dumps (goroutines, Go frames across the cgo boundary) are a later capability.
package main

/*
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
static volatile int *volatile g_null;
__attribute__((noinline)) void c_crash(void)
{
    fprintf(stderr, "crasher: tid=%ld expect=c_crash addr=0x0\n", (long)syscall(SYS_gettid));
    *g_null = 1;
}
*/
import "C"

//go:noinline
func goCaller() { C.c_crash() }

func main() {
	goCaller()
}
