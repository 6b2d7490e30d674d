// The shipped source, compiled into this test by cgo.
#include "../../../sigsafe/fdid.c"
