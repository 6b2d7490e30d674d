package lastgasp

/*
#include <stdlib.h>
#include "lastgasp.h"
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
// A key or value out of bounds, or a full table, returns an *AnnotationError and stores nothing.
func SetAnnotation(key, value string) error {
	if key == "" || len(key) > MaxAnnotationKey || len(value) > MaxAnnotationValue {
		return &AnnotationError{Key: key, Msg: C.GoString(C.lastgasp_strerror(C.LASTGASP_ERR_ANNOTATION))}
	}
	k := C.CString(key) // C strings end at the first NUL: such a key or value is cut there
	defer C.free(unsafe.Pointer(k))
	var v *C.char
	if value != "" {
		v = C.CString(value)
		defer C.free(unsafe.Pointer(v))
	}
	if rc := C.lastgasp_set_annotation(k, v); rc != 0 {
		return &AnnotationError{Key: key, Msg: C.GoString(C.lastgasp_strerror(rc))}
	}
	return nil
}
