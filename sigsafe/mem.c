/* mem.c — libc's memory and string functions, rewritten for the handler path.
 *
 * RULES: async-signal-safe, no libc. Built with -fno-builtin and -fno-tree-loop-distribute-patterns
 * so the compiler cannot turn these loops back into calls to memcpy/memset (the nm check proves it).
 * Each returns exactly what its libc namesake returns (tests/unit/sigsafe/test_mem.c compares them).
 */
#include "sigsafe.h"

void *ss_memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++)
        d[i] = s[i];
    return dst;
}

void *ss_memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    } else if (d > s) {
        for (size_t i = n; i > 0; i--)
            d[i - 1] = s[i - 1];
    }
    return dst;
}

void *ss_memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)c;
    return dst;
}

int ss_memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

void *ss_memchr(const void *p, int c, size_t n)
{
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++)
        if (s[i] == (uint8_t)c)
            return (void *)(s + i);
    return 0;
}

size_t ss_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

size_t ss_strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int ss_strcmp(const char *a, const char *b)
{
    size_t i = 0;
    while (a[i] && a[i] == b[i])
        i++;
    return (int)(uint8_t)a[i] - (int)(uint8_t)b[i];
}

int ss_strncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i] || !a[i])
            return (int)(uint8_t)a[i] - (int)(uint8_t)b[i];
    }
    return 0;
}

size_t ss_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = ss_strlen(src);
    if (size) {
        size_t k = n < size - 1 ? n : size - 1;
        ss_memcpy(dst, src, k);
        dst[k] = 0;
    }
    return n;
}
