//go:build linux && (amd64 || arm64) && cgo && go1.23

package lastgasp

import "runtime/debug"

// copyCrashOutput has the runtime copy its crash output (the panic message, the fatal signal, the
// goroutine tracebacks) to a memory file the crash handler puts into the dump. Best effort: a
// failure only means the dump lacks the runtime's text.
func copyCrashOutput() {
	if f := crashOutputFile(); f != nil {
		debug.SetCrashOutput(f, debug.CrashOptions{})
		f.Close()
	}
}
