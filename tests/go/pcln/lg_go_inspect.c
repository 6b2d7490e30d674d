// The shipped source, compiled into this test by cgo.
#include "../../../reporter/install/go_inspect.c"
