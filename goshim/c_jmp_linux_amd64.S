/* ss_setjmp / ss_longjmp / ss_call_on_stack for cgo: see sigsafe/x86_64/jmp.S. */
#include "sigsafe/x86_64/jmp.S"
