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
// An error from Install means no crash dumps; errors.Is tells why (ErrBadDirectory, ErrAlreadyInstalled, ...).
// A program that is also preloaded with liblastgasp.so gets nil: the preloaded library writes its dumps.
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
// Only linux/amd64 and linux/arm64 with cgo are supported; elsewhere (or with CGO_ENABLED=0) Install returns
// ErrUnsupported and nothing is installed.
//
// The package is named lastgasp, after what callers install, but lives in the folder goshim: the
// module is the whole lastgasp repository, whose top-level folders are the parts of one C library
// (sigsafe, reporter, formats) and its shims, and goshim is the shim that lets go build compile that
// library's C sources into a Go program. Import it under its name:
//
//	import lastgasp "github.com/lastgasp/lastgasp/goshim"
//
// go mod vendor works: the C source folders goshim compiles hold a Go file of their own, so vendoring
// copies them (csources.go says how).
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

// The errors Install, InstallFromEnv and SetAnnotation return, one per reason, for errors.Is. The error
// returned is an *InstallError or *AnnotationError, which matches one of them and says more (the directory,
// the system's reason, lastgasp.h's code). Any error from Install means that nothing was installed: the
// program runs on without crash dumps.
var (
	// ErrUnsupported: lastgasp's crash handler exists for linux/amd64 and linux/arm64 with cgo only.
	ErrUnsupported = errors.New("lastgasp: needs linux/amd64 or linux/arm64 and cgo (CGO_ENABLED=1 and a C compiler)")
	// ErrNoDirectory: Options.Dir is empty (for InstallFromEnv: LASTGASP_DIR is not set).
	ErrNoDirectory = errors.New("lastgasp: no dump directory given")
	// ErrBadDirectory: the dump directory cannot be opened, or is not writable; errors.Unwrap gives the
	// system's reason when there is one (errors.Is(err, fs.ErrNotExist) works).
	ErrBadDirectory = errors.New("lastgasp: the dump directory cannot be opened or is not writable")
	// ErrNoMemory: the crash handler's stack or arena could not be reserved.
	ErrNoMemory = errors.New("lastgasp: cannot reserve memory for the crash handler")
	// ErrSignals: a signal handler could not be installed.
	ErrSignals = errors.New("lastgasp: cannot install signal handlers")
	// ErrMemRead: no fault-tolerant way to read memory works in this process (a seccomp filter, say).
	ErrMemRead = errors.New("lastgasp: no fault-tolerant memory read works in this process")
	// ErrAlreadyInstalled: Install was called before in this process, and succeeded.
	ErrAlreadyInstalled = errors.New("lastgasp: already installed")
	// ErrSecureMode: InstallFromEnv in a setuid, setgid or setcap program, whose environment is not
	// trusted; Install with a directory of the program's own choosing still works.
	ErrSecureMode = errors.New("lastgasp: secure-execution mode: the environment is not trusted")
	// ErrBadAnnotation: SetAnnotation's key is empty or too long, or its value too long.
	ErrBadAnnotation = errors.New("lastgasp: annotation key empty or too long, or value too long")
	// ErrAnnotationsFull: MaxAnnotations keys are set already.
	ErrAnnotationsFull = errors.New("lastgasp: too many annotations")
)

// byCode maps lastgasp.h's LASTGASP_ERR_* codes to the errors above (codes 2 and 3 are both a bad directory).
var byCode = [...]error{1: ErrNoDirectory, 2: ErrBadDirectory, 3: ErrBadDirectory, 4: ErrNoMemory, 5: ErrSignals,
	6: ErrMemRead, 7: ErrAlreadyInstalled, 8: ErrBadAnnotation, 9: ErrAnnotationsFull, 10: ErrSecureMode}

// isCode says whether target is the error value of lastgasp.h's code.
func isCode(code int, target error) bool {
	return code > 0 && code < len(byCode) && byCode[code] != nil && target == byCode[code]
}

// InstallError is returned by Install when the crash handler could not be installed. Nothing
// stays installed then: the program runs on without crash dumps. errors.Is matches it with the
// error value of its Code (ErrBadDirectory, ErrAlreadyInstalled, ...) and with Err.
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

// Is reports whether target is the error value of e's code, for errors.Is.
func (e *InstallError) Is(target error) bool { return isCode(e.Code, target) }

// AnnotationError is returned by SetAnnotation for a key or value out of bounds (errors.Is matches
// ErrBadAnnotation), or a full table (ErrAnnotationsFull).
type AnnotationError struct {
	Code int // lastgasp's error code (lastgasp.h: LASTGASP_ERR_ANNOTATION*)
	Key  string
	Msg  string // lastgasp_strerror(Code)
}

func (e *AnnotationError) Error() string {
	return fmt.Sprintf("lastgasp: annotation %q: %s", e.Key, e.Msg)
}

// Is reports whether target is the error value of e's code, for errors.Is.
func (e *AnnotationError) Is(target error) bool { return isCode(e.Code, target) }

// Preloaded reports whether liblastgasp.so was preloaded into this process (LD_PRELOAD): then it
// handles the crashes, and Install installs nothing and returns nil.
func Preloaded() bool { return preloaded() }
