//go:build withcgo

package main

/*
#cgo CFLAGS: -O2 -g
#include <stdint.h>

volatile int *volatile lg_target;

// static and small: at -O2 it is inlined into its caller, which is what the debug-info test looks for.
static inline __attribute__((always_inline)) int lg_store(int v)
{
	*lg_target = v;
	return v + 1;
}

static int lg_crash_in_c(int v)
{
	return lg_store(v) * 3;
}
*/
import "C"

func init() { cFault = func() { C.lg_crash_in_c(7) } }
