/* arena.c — pages reserved at install and handed out by a bump pointer in the handler.
 *
 * RULES: ss_arena_alloc and ss_arena_reset are async-signal-safe (no syscalls at all); init maps
 * the pages once at install. Used by one thread at a time (the reporting thread).
 */
#include "sigsafe.h"

#include <sys/mman.h>

int ss_arena_init_nasync(struct ss_arena *a, size_t size)
{
    void *p = ss_mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if ((uintptr_t)p > (uintptr_t)-4096)
        return (int)(intptr_t)p;
    a->base = p;
    a->size = size;
    a->used = 0;
    a->high = 0;
    return 0;
}

void *ss_arena_alloc(struct ss_arena *a, size_t n)
{
    size_t start = (a->used + 15u) & ~(size_t)15u;
    if (!a->base || start > a->size || n > a->size - start)
        return 0;
    a->used = start + n;
    /* Pages past the high-water mark come zeroed from mmap and were never handed out: zero only
     * what an earlier use dirtied. Zeroing megabytes of untouched pages would fault them all in. */
    if (start < a->high)
        ss_memset(a->base + start, 0, (a->high < a->used ? a->high : a->used) - start);
    if (a->used > a->high)
        a->high = a->used;
    return a->base + start;
}

void ss_arena_reset(struct ss_arena *a) { a->used = 0; }
