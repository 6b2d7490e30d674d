#include "_cgo_export.h"

// The C side of the round trip: called from Go, calls Go.
void call_into_go(int n)
{
	goHandler(n);
}
