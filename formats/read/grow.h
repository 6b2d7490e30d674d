/* grow.h — the one growing-array step of the tool (normal context, heap): every list the tool builds grows
 * through it, so the doubling, the first size and the overflow check are written once.
 */
#ifndef LASTGASP_GROW_H
#define LASTGASP_GROW_H

#include <stdint.h>
#include <stdlib.h>

/* Make *arr hold at least need elements of size bytes: when *cap is short, double it (from first) and
 * realloc. Returns 0, or -1 with *arr and *cap unchanged when the memory is not there or the size would
 * overflow. */
static inline int mdr_grow(void **arr, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : first;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return -1;
        c *= 2;
    }
    if (c > SIZE_MAX / size)
        return -1;
    void *p = realloc(*arr, c * size);
    if (!p)
        return -1;
    *arr = p;
    *cap = c;
    return 0;
}

#endif
