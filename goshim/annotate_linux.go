//go:build linux && (amd64 || arm64) && cgo

package lastgasp

/*
#include <dlfcn.h>
#include <stdlib.h>
#include "lastgasp.h"

typedef int (*goshim_setter)(const char *, const char *);

// With liblastgasp.so preloaded, its table is the one its dumps carry (install_linux.go): set the
// annotation there. dlsym finds that copy, or none (this copy's symbols are not in the dynamic table). Looked
// up once: threads racing here all store the same pointer.
static int goshim_set_annotation(const char *key, const char *value)
{
	static goshim_setter cached;
	goshim_setter f = __atomic_load_n(&cached, __ATOMIC_ACQUIRE);
	if (!f) {
		f = (goshim_setter)dlsym(RTLD_DEFAULT, "lastgasp_set_annotation");
		if (!f)
			f = lastgasp_set_annotation;
		__atomic_store_n(&cached, f, __ATOMIC_RELEASE);
	}
	return f(key, value);
}
*/
import "C"

import "unsafe"

// The Go constants must equal lastgasp.h's: these fail to compile (negative constant to uint)
// if either side changes alone.
const (
	_ = uint(C.LASTGASP_ANNOTATIONS_MAX-MaxAnnotations) + uint(MaxAnnotations-C.LASTGASP_ANNOTATIONS_MAX)
	_ = uint(C.LASTGASP_ANNOTATION_KEY_MAX-MaxAnnotationKey) + uint(MaxAnnotationKey-C.LASTGASP_ANNOTATION_KEY_MAX)
	_ = uint(C.LASTGASP_ANNOTATION_VALUE_MAX-MaxAnnotationValue) + uint(MaxAnnotationValue-C.LASTGASP_ANNOTATION_VALUE_MAX)
)

// SetAnnotation sets, replaces, or (value "") removes the annotation key. Every dump written
// afterwards carries the annotations: `lastgasp show` prints them, and they are stored as
// Crashpad-style annotations, which Sentry and rust-minidump show. Safe to call from any goroutine
// at any time, before or after Install. Keys are 1 to MaxAnnotationKey bytes, values at most
// MaxAnnotationValue bytes; at most MaxAnnotations keys are kept. Invalid UTF-8 is stored as '?'.
// A key or value out of bounds, or a full table, returns an *AnnotationError (ErrBadAnnotation,
// ErrAnnotationsFull) and stores nothing. With liblastgasp.so preloaded (see Install), the
// annotation goes to the preloaded library, which writes the dumps.
func SetAnnotation(key, value string) error {
	if key == "" || len(key) > MaxAnnotationKey || len(value) > MaxAnnotationValue {
		return annotationError(key, C.LASTGASP_ERR_ANNOTATION)
	}
	k := C.CString(key) // C strings end at the first NUL: such a key or value is cut there
	defer C.free(unsafe.Pointer(k))
	var v *C.char
	if value != "" {
		v = C.CString(value)
		defer C.free(unsafe.Pointer(v))
	}
	if rc := C.goshim_set_annotation(k, v); rc != 0 {
		return annotationError(key, rc)
	}
	return nil
}

func annotationError(key string, code C.int) error {
	return &AnnotationError{Code: int(code), Key: key, Msg: C.GoString(C.lastgasp_strerror(code))}
}
