/* plt_lib.c — the shared library of the unwinder's differential test (README.md here): the chain calls
 * unwdiff_plt_call through its PLT, and it calls the next link back through a pointer, so the stack holds a
 * frame of another module between two frames of the program. Built with the same flags as the program, and
 * bound lazily (the program is linked -z now, this library is not). */
#include <unistd.h>

#include "unwdiff.h"

volatile int unwdiff_plt_bind_late;

__attribute__((noinline)) int unwdiff_plt_call(int (*cb)(int), int x)
{
    volatile char buf[48];
    buf[(unsigned)x % 48] = (char)x; /* x may be negative: buf[-k] would hit the frame record on aarch64 */
    if (unwdiff_plt_bind_late) {
        /* The library's first call of getppid: its PLT slot goes through the dynamic loader's lazy binder. */
        unwdiff_plt_bind_late = 0;
        buf[0] = (char)(getppid() == 0);
    }
    int r = cb(x + 1);
    return r + buf[(unsigned)(x + 1) % 48];
}
