package main

/*
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

// Faults go through a volatile pointer the compiler cannot see through.
static int *volatile null_ptr;

static void matrix_c_fault(void) { *null_ptr = 42; }
static void matrix_c_abort(void) { abort(); }

extern void matrixGoCallback(void);
static void matrix_c_calls_go(void) { matrixGoCallback(); }

static void *c_thread(void *arg) { (void)arg; matrix_c_fault(); return 0; }
static void matrix_c_thread_fault(void)
{
	pthread_t t;
	pthread_create(&t, 0, c_thread, 0);
	pthread_join(t, 0);
}
void matrix_cgo_traceback(void *arg); // tb.c: this file's //export allows only declarations here
void matrix_abort_exit0(void);       // tb.c
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// setCgoTraceback does what another library may do once per process; lastgasp never calls it.
func setCgoTraceback() { runtime.SetCgoTraceback(0, unsafe.Pointer(C.matrix_cgo_traceback), nil, nil) }

func cFault()       { C.matrix_c_fault() }
func cAbort()       { C.matrix_c_abort() }
func cCallsGo()     { C.matrix_c_calls_go() }
func cThreadFault() { C.matrix_c_thread_fault() }

func installAbortExit0() { C.matrix_abort_exit0() }

//export matrixGoCallback
func matrixGoCallback() { panic("panic in a Go callback from C") }
