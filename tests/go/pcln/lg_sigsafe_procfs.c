// The shipped source, compiled into this test by cgo.
#include "../../../sigsafe/procfs.c"
