//go:build linux && (amd64 || arm64) && cgo && !go1.23

package lastgasp

// copyCrashOutput: debug.SetCrashOutput exists from Go 1.23; older programs' dumps have no
// runtime crash text (the goroutines and frames are still there).
func copyCrashOutput() {}
