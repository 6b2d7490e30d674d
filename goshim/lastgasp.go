// Package lastgasp writes a minidump from inside a Go program that dies of a crash: an
// unrecovered panic, a fatal error of the runtime (concurrent map writes, a goroutine stack
// overflow, ...), or a fatal signal in Go or in C code reached through cgo. The dump holds the fault,
// every thread's registers and stack, and every goroutine with its frames symbolized in-process;
// `lastgasp show FILE` renders it, and Breakpad, rust-minidump, LLDB and Sentry read it.
//
// Install it once, early:
//
//	if err := lastgasp.Install(lastgasp.Options{Dir: "/dumps"}); err != nil {
//		log.Printf("crash dumps are off: %v", err)
//	}
//
// or import the auto package, which installs from the LASTGASP_* environment variables:
//
//	import _ "github.com/lastgasp/lastgasp/goshim/auto"
//
// What Install changes: nothing a crash shows. An unrecovered panic or fatal error prints what the
// runtime prints at the traceback level the program chose (GOTRACEBACK, debug.SetTraceback) and exits
// with status 2, as without lastgasp, and leaves a dump. To see it, lastgasp adds only the runtime's
// "crash" bit to that level, so the runtime's last step is a SIGABRT that lastgasp catches; after
// writing the dump, lastgasp ends the process with status 2 itself (with GOTRACEBACK=crash, the runtime's
// SIGABRT and core dump, as asked). Set Options.KeepTraceback to leave the level alone: such crashes then
// leave no dump. On Go 1.23 and later the runtime's crash output is also copied into the dump
// (debug.SetCrashOutput), so the dump shows the panic as Go printed it. Recovered panics, os.Exit,
// signals handled with os/signal and signal masks behave as before.
//
// Only linux/amd64 with cgo is supported; elsewhere (or with CGO_ENABLED=0) Install returns
// ErrUnsupported and nothing is installed.
package lastgasp

import (
	"errors"
	"fmt"
)

// Options configure Install.
type Options struct {
	// Dir is the directory dumps are written to. It must exist and be writable. Required.
	Dir string
	// IncludeEnviron also writes the process environment into the dump (it may hold secrets).
	IncludeEnviron bool
	// Quiet suppresses the one-line summary lastgasp prints on stderr when it writes a dump.
	Quiet bool
	// KeepTraceback leaves the runtime's traceback word alone: unrecovered panics and fatal errors
	// then leave no dump (unless GOTRACEBACK=crash is set). They end the same way either way.
	KeepTraceback bool
	// NoCrashOutput does not copy the runtime's crash output into the dump. Set it if the program
	// calls debug.SetCrashOutput itself: the runtime keeps only one crash output.
	NoCrashOutput bool
}

// Bounds of SetAnnotation, in bytes and keys (lastgasp.h's LASTGASP_ANNOTATION_* values).
const (
	MaxAnnotations     = 64
	MaxAnnotationKey   = 63
	MaxAnnotationValue = 1023
)

// ErrUnsupported is returned by Install on a platform lastgasp does not support.
var ErrUnsupported = errors.New("lastgasp: needs linux/amd64 and cgo (CGO_ENABLED=1 and a C compiler)")

// errPreloaded: the LD_PRELOAD library was in the process first and handles its crashes.
var errPreloaded = &InstallError{Code: 7, Msg: "lastgasp is already loaded with LD_PRELOAD, which handles this process"}

// InstallError is returned by Install when the crash handler could not be installed. Nothing
// stays installed then: the program runs on without crash dumps.
type InstallError struct {
	Code int    // lastgasp's error code (lastgasp.h: LASTGASP_ERR_*)
	Msg  string // lastgasp_strerror(Code)
	Dir  string
	Err  error // the system's reason, when there is one
}

func (e *InstallError) Error() string {
	s := "lastgasp: " + e.Msg
	if e.Dir != "" {
		s += fmt.Sprintf(" (%s)", e.Dir)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *InstallError) Unwrap() error { return e.Err }

// AnnotationError is returned by SetAnnotation for a key or value out of bounds, or a full table.
type AnnotationError struct {
	Key string
	Msg string
}

func (e *AnnotationError) Error() string {
	return fmt.Sprintf("lastgasp: annotation %q: %s", e.Key, e.Msg)
}
