// The shipped source, compiled into this test by cgo.
#include "../../../reporter/go_inspect.c"
