// The shipped source, compiled into this test by cgo.
#include "../../../reporter/go/go_pcln.c"
