/* plt_lib.c — the shared library of the unwinder's differential test (README.md here): the chain calls
 * unwdiff_plt_call through its PLT, and it calls the next link back through a pointer, so the stack holds a
 * frame of another module between two frames of the program. Built with the same flags as the program. */
#include "unwdiff.h"

__attribute__((noinline)) int unwdiff_plt_call(int (*cb)(int), int x)
{
    volatile char buf[48];
    buf[x % 48] = (char)x;
    int r = cb(x + 1);
    return r + buf[(x + 1) % 48];
}
