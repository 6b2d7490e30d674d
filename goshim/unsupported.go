//go:build !(linux && (amd64 || arm64) && cgo)

package lastgasp

// Install returns ErrUnsupported: lastgasp's crash handler exists for linux/amd64 and linux/arm64 only.
func Install(o Options) error { return ErrUnsupported }

// SetAnnotation returns ErrUnsupported.
func SetAnnotation(key, value string) error { return ErrUnsupported }

func preloaded() bool { return false }

func secureMode() bool { return false }
