/* test_mem.c — sigsafe/mem.c against libc itself, return values included (PLCrashReporter once shipped a memcpy
 * that returned the wrong pointer and no test looked): every length from 0 to 64 and a few large ones, eight
 * source and destination alignments, overlapping moves both ways, bytes >= 0x80 where signedness matters.
 *
 * Output: one line per failed check, then "N passed, M failed"; exit status 0 when M is 0. Also built
 * from source under ASan and UBSan (Makefile: build/tests/unit/sigsafe/test_mem_asan).
 */
#include "sigsafe/sigsafe.h"
#include "tests/unit/check.h"
#include "tests/unit/sigsafe/sstest.h"

#include <limits.h>
#include <string.h>

/* ---- mem.c against libc ---- */

#define BIG 70000

/* All lengths 0..64, then a few large ones (each at most BIG). */
static size_t test_lengths(size_t *out)
{
    static const size_t big[] = {100, 255, 256, 4095, 4096, 4097, 65536 + 3};
    size_t n = 0;
    for (size_t i = 0; i <= 64; i++)
        out[n++] = i;
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        out[n++] = big[i];
    return n;
}

static void test_memcpy(void)
{
    static uint8_t src[BIG + 16], a[BIG + 32], b[BIG + 32];
    int bad = 0;
    size_t bad_len = 0;
    size_t lengths[80], nlen = test_lengths(lengths);
    for (size_t i = 0; i < nlen; i++) {
        size_t len = lengths[i];
        if (len > BIG)
            continue;
        for (size_t align = 0; align < 8; align++) {
            size_t so = (align * 3) % 8, dof = 8 + align;
            fill_random(src, len + 16);
            fill_random(a, len + 32);
            memcpy(b, a, len + 32);
            void *ra = ss_memcpy(a + dof, src + so, len);
            void *rb = memcpy(b + dof, src + so, len);
            if (ra != a + dof || rb != b + dof || memcmp(a, b, len + 32) != 0) {
                bad++;
                bad_len = len;
            }
        }
    }
    CHECK_MSG(bad == 0, "%d mismatches, last at length %zu", bad, bad_len);
    CHECK(ss_memcpy(a, src, 0) == a);
    CHECK(ss_memcpy(a + 3, src, 5) == a + 3);
}

static void test_memmove(void)
{
    static uint8_t a[BIG + 16384], b[BIG + 16384];
    int bad = 0;
    size_t bad_len = 0;
    long bad_shift = 0;
    size_t lengths[80], nlen = test_lengths(lengths);
    for (size_t i = 0; i < nlen; i++) {
        size_t len = lengths[i];
        if (len > BIG)
            continue;
        static const long big_shifts[] = {-4097, -4096, -4095, -16, -1, 1, 16, 4095, 4096, 4097};
        long shifts[19 + 10];
        size_t nshift = 0;
        for (long s = -9; s <= 9; s++)
            shifts[nshift++] = s;
        for (size_t k = 0; k < 10; k++)
            shifts[nshift++] = big_shifts[k];
        for (size_t k = 0; k < nshift; k++) {
            size_t base = 5000, total = len + 10000;
            size_t from = base, to = (size_t)((long)base + shifts[k]);
            fill_random(a, total);
            memcpy(b, a, total);
            void *ra = ss_memmove(a + to, a + from, len);
            void *rb = memmove(b + to, b + from, len);
            if (ra != a + to || rb != b + to || memcmp(a, b, total) != 0) {
                bad++;
                bad_len = len;
                bad_shift = shifts[k];
            }
        }
    }
    CHECK_MSG(bad == 0, "%d mismatches, last at length %zu shift %ld", bad, bad_len, bad_shift);
    CHECK(ss_memmove(a + 1, a, 0) == a + 1);
    CHECK(ss_memmove(a, a, 10) == a);
}

static void test_memset(void)
{
    static uint8_t a[BIG + 32], b[BIG + 32];
    static const int values[] = {0, 1, 0x7f, 0x80, 0xff, 0x1ab, -1, -129, INT_MIN};
    int bad = 0;
    size_t bad_len = 0;
    size_t lengths[80], nlen = test_lengths(lengths);
    for (size_t i = 0; i < nlen; i++) {
        size_t len = lengths[i];
        if (len > BIG)
            continue;
        for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
            size_t off = 1 + (i + k) % 8;
            fill_random(a, len + 32);
            memcpy(b, a, len + 32);
            void *ra = ss_memset(a + off, values[k], len);
            void *rb = memset(b + off, values[k], len);
            if (ra != a + off || rb != b + off || memcmp(a, b, len + 32) != 0) {
                bad++;
                bad_len = len;
            }
        }
    }
    CHECK_MSG(bad == 0, "%d mismatches, last at length %zu", bad, bad_len);
    CHECK(ss_memset(a, 0, 0) == a);
}

static void test_memcmp(void)
{
    static uint8_t a[BIG + 8], b[BIG + 8];
    int bad = 0;
    size_t bad_len = 0;
    size_t lengths[80], nlen = test_lengths(lengths);
    for (size_t i = 0; i < nlen; i++) {
        size_t len = lengths[i];
        if (len > BIG)
            continue;
        fill_random(a, len);
        memcpy(b, a, len);
        if (ss_memcmp(a, b, len) != 0 || memcmp(a, b, len) != 0) {
            bad++;
            bad_len = len;
        }
        /* The first difference at every position (a few for the big lengths), with bytes >= 0x80 on
         * both sides, and garbage after it that must not matter. */
        size_t positions = len <= 64 ? len : 8;
        for (size_t k = 0; k < positions; k++) {
            size_t pos = len <= 64 ? k : (size_t)(rnd() % len);
            memcpy(b, a, len);
            b[pos] = (uint8_t)(a[pos] ^ (1 + rnd() % 255));
            fill_random(b + pos + 1, len - pos - 1);
            int r = ss_memcmp(a, b, len), l = memcmp(a, b, len);
            if (r == 0 || sign(r) != sign(l) || sign(ss_memcmp(b, a, len)) != -sign(l)) {
                bad++;
                bad_len = len;
            }
        }
    }
    CHECK_MSG(bad == 0, "%d mismatches, last at length %zu", bad, bad_len);
    CHECK(ss_memcmp("\x80", "\x7f", 1) > 0); /* bytes compare as unsigned char */
    CHECK(ss_memcmp("\xff", "\x00", 1) > 0);
    CHECK(ss_memcmp("ab", "ac", 1) == 0);
}

static void test_memchr(void)
{
    static uint8_t a[BIG];
    int bad = 0;
    size_t bad_len = 0;
    size_t lengths[80], nlen = test_lengths(lengths);
    for (size_t i = 0; i < nlen; i++) {
        size_t len = lengths[i];
        if (len > BIG)
            continue;
        fill_random(a, len);
        int cs[8];
        cs[0] = len ? a[rnd() % len] : 0; /* present */
        cs[1] = len ? a[len - 1] : 1;
        cs[2] = len ? a[0] : 2;
        cs[3] = (int)(rnd() & 0xff); /* probably absent for short buffers */
        cs[4] = 0x100 | cs[0];       /* only the low byte counts */
        cs[5] = -1;                  /* 0xff */
        cs[6] = 0;
        cs[7] = 0x80;
        for (size_t k = 0; k < 8; k++) {
            size_t off = k % 4;
            if (len < off)
                off = 0;
            if (ss_memchr(a + off, cs[k], len - off) != memchr(a + off, cs[k], len - off)) {
                bad++;
                bad_len = len;
            }
        }
    }
    CHECK_MSG(bad == 0, "%d mismatches, last at length %zu", bad, bad_len);
    const char *s = "abcabc";
    CHECK(ss_memchr(s, 'c', 6) == s + 2);
    CHECK(ss_memchr(s, 'c', 2) == NULL);
    CHECK(ss_memchr(s, 'x', 6) == NULL);
}

static void test_strlen(void)
{
    static char s[BIG + 16];
    int bad = 0;
    size_t bad_len = 0;
    size_t lengths[80], nlen = test_lengths(lengths);
    for (size_t i = 0; i < nlen; i++) {
        size_t len = lengths[i];
        if (len > BIG)
            continue;
        size_t off = i % 8;
        for (size_t k = 0; k < len; k++)
            s[off + k] = (char)(1 + rnd() % 255);
        s[off + len] = 0;
        s[off + len + 1] = 'x';
        const char *p = s + off;
        size_t maxes[] = {0, 1, len ? len - 1 : 0, len, len + 1, len + 100, SIZE_MAX};
        if (ss_strlen(p) != strlen(p))
            bad++, bad_len = len;
        for (size_t k = 0; k < sizeof maxes / sizeof maxes[0]; k++)
            if (ss_strnlen(p, maxes[k]) != strnlen(p, maxes[k]))
                bad++, bad_len = len;
    }
    CHECK_MSG(bad == 0, "%d mismatches, last at length %zu", bad, bad_len);
    CHECK_EQ_U64(ss_strlen(""), 0);
    CHECK_EQ_U64(ss_strlen("\xff\x80"), 2);
    CHECK_EQ_U64(ss_strnlen("abc", 2), 2);
}

/* Strings over a small alphabet with bytes >= 0x80, so equal prefixes and sign traps are common. */
static void random_string(char *s, size_t maxlen)
{
    static const char alphabet[] = {'a', 'b', (char)0x80, (char)0xff, (char)0x01, (char)0x7f};
    size_t n = (size_t)(rnd() % (maxlen + 1));
    for (size_t i = 0; i < n; i++)
        s[i] = alphabet[rnd() % sizeof alphabet];
    s[n] = 0;
}

static int compare_pair(const char *a, const char *b)
{
    int bad = 0;
    if (sign(ss_strcmp(a, b)) != sign(strcmp(a, b)))
        bad++;
    for (size_t n = 0; n <= 9; n++)
        if (sign(ss_strncmp(a, b, n)) != sign(strncmp(a, b, n)))
            bad++;
    if (sign(ss_strncmp(a, b, SIZE_MAX)) != sign(strcmp(a, b)))
        bad++;
    return bad;
}

static void test_strcmp(void)
{
    char a[16], b[16];
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        random_string(a, 7);
        if (i % 3 == 0) { /* b shares a prefix of a */
            size_t keep = strlen(a) ? (size_t)(rnd() % (strlen(a) + 1)) : 0;
            memcpy(b, a, keep);
            random_string(b + keep, 3);
        } else {
            random_string(b, 7);
        }
        bad += compare_pair(a, b);
        bad += compare_pair(a, a);
    }
    /* Every pair of strings of length <= 2 over {'a', 0x80, 0xff}. */
    static const char letters[] = {'a', (char)0x80, (char)0xff};
    char all[13][3];
    int n = 0;
    all[n++][0] = 0;
    for (int x = 0; x < 3; x++) {
        all[n][0] = letters[x];
        all[n++][1] = 0;
        for (int y = 0; y < 3; y++) {
            all[n][0] = letters[x];
            all[n][1] = letters[y];
            all[n++][2] = 0;
        }
    }
    for (int x = 0; x < n; x++)
        for (int y = 0; y < n; y++)
            bad += compare_pair(all[x], all[y]);
    CHECK_MSG(bad == 0, "%d sign disagreements with libc", bad);
    CHECK(ss_strcmp("a", "a\x80") < 0);
    CHECK(ss_strcmp("\x80", "\x7f") > 0);
    CHECK(ss_strcmp("\xff", "a") > 0);
    CHECK(ss_strcmp("", "") == 0);
    CHECK(ss_strncmp("abc", "abd", 2) == 0);
    CHECK(ss_strncmp("abc", "abd", 3) < 0);
    CHECK(ss_strncmp("ab", "ab\x80", 3) < 0);
    CHECK(ss_strncmp("x", "y", 0) == 0);
}

/* Debian 12's glibc has no strlcpy: the BSD semantics, written out. */
static size_t ref_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size) {
        size_t k = n < size - 1 ? n : size - 1;
        memcpy(dst, src, k);
        dst[k] = 0;
    }
    return n;
}

static void test_strlcpy(void)
{
    char src[64], a[96], b[96];
    int bad = 0;
    for (size_t len = 0; len <= 40; len++) {
        for (size_t k = 0; k < len; k++)
            src[k] = (char)(1 + rnd() % 255);
        src[len] = 0;
        for (size_t size = 0; size <= len + 3; size++) {
            memset(a, 0xee, sizeof a);
            memset(b, 0xee, sizeof b);
            size_t ra = ss_strlcpy(a + 8, src, size), rb = ref_strlcpy(b + 8, src, size);
            if (ra != rb || ra != len || memcmp(a, b, sizeof a) != 0)
                bad++;
        }
    }
    CHECK_MSG(bad == 0, "%d mismatches with the BSD semantics", bad);
    char d[8];
    memset(d, 'z', sizeof d);
    CHECK_EQ_U64(ss_strlcpy(d, "hello", 3), 5);
    CHECK(strcmp(d, "he") == 0 && d[3] == 'z');
    CHECK_EQ_U64(ss_strlcpy(d, "hi", sizeof d), 2);
    CHECK(strcmp(d, "hi") == 0);
    memset(d, 'z', sizeof d);
    CHECK_EQ_U64(ss_strlcpy(d, "abc", 0), 3);
    CHECK(d[0] == 'z');
    CHECK_EQ_U64(ss_strlcpy(d, "abc", 1), 3);
    CHECK(d[0] == 0 && d[1] == 'z');
}

int main(void)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    test_memcpy();
    test_memmove();
    test_memset();
    test_memcmp();
    test_memchr();
    test_strlen();
    test_strcmp();
    test_strlcpy();
    return check_summary();
}
