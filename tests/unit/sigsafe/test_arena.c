/* test_arena.c — sigsafe/arena.c: the bump allocator's alignment, zeroing, order and limits.
 *
 * Output: one line per failed check, then "N passed, M failed"; exit status 0 when M is 0. Also built
 * from source under ASan and UBSan (Makefile: build/tests/unit/sigsafe/test_arena_asan).
 */
#include "sigsafe/sigsafe.h"
#include "tests/unit/check.h"
#include "tests/unit/sigsafe/sstest.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

/* ---- arena.c ---- */

/* Hands out sizes[] in order: every block 16-byte aligned, zeroed, after the previous one; then dirties it,
 * as a caller would. Returns the number of broken promises. */
static int arena_round(struct ss_arena *a, const size_t *sizes, size_t count)
{
    int bad = 0;
    uint8_t *prev_end = a->base;
    for (size_t i = 0; i < count; i++) {
        uint8_t *p = ss_arena_alloc(a, sizes[i]);
        if (!p || ((uintptr_t)p & 15) != 0 || p < prev_end) {
            bad++;
            continue;
        }
        for (size_t k = 0; k < sizes[i]; k++)
            bad += p[k] != 0;
        prev_end = p + sizes[i];
        memset(p, 0xcd, sizes[i]);
    }
    return bad;
}

static void test_arena(void)
{
    struct ss_arena a;
    memset(&a, 0, sizeof a);
    CHECK(ss_arena_alloc(&a, 16) == NULL); /* never initialised */
    size_t size = 64 * 1024;
    CHECK(ss_arena_init_nasync(&a, size) == 0);
    CHECK(a.base != NULL && ((uintptr_t)a.base & (page_size() - 1)) == 0 && a.size == size && a.used == 0);
    static const size_t sizes[] = {1, 3, 16, 17, 0, 5, 100, 4096, 31, 1};
    static const size_t other[] = {7, 0, 4000, 33, 16, 2, 200, 1, 9000};
    CHECK(arena_round(&a, sizes, sizeof sizes / sizeof sizes[0]) == 0);
    /* Reset, then again over the dirtied blocks, with the same sizes and with other ones. */
    ss_arena_reset(&a);
    CHECK_EQ_U64(a.used, 0);
    CHECK(arena_round(&a, sizes, sizeof sizes / sizeof sizes[0]) == 0);
    ss_arena_reset(&a);
    CHECK(arena_round(&a, other, sizeof other / sizeof other[0]) == 0);

    /* Exhaustion: exactly what is left fits; one more byte does not; a failure changes nothing. */
    size_t used = (a.used + 15) & ~(size_t)15;
    uint8_t *rest = ss_arena_alloc(&a, size - used);
    CHECK(rest != NULL && rest + (size - used) == a.base + size);
    if (rest)
        memset(rest, 0xee, size - used);
    size_t used_full = a.used;
    CHECK(ss_arena_alloc(&a, 1) == NULL);
    CHECK(ss_arena_alloc(&a, SIZE_MAX) == NULL);
    CHECK(ss_arena_alloc(&a, SIZE_MAX - 15) == NULL);
    CHECK_EQ_U64(a.used, used_full);

    /* Reset after every byte was handed out and dirtied: the whole arena comes back zeroed. */
    ss_arena_reset(&a);
    CHECK_EQ_U64(a.used, 0);
    uint8_t *p = ss_arena_alloc(&a, size);
    CHECK(p == a.base);
    int all_zero = p != NULL;
    for (size_t k = 0; p && k < size; k++)
        all_zero &= p[k] == 0;
    CHECK(all_zero);
    CHECK(ss_arena_alloc(&a, 1) == NULL);
    if (p)
        memset(p, 0x5a, size);
    ss_arena_reset(&a);
    CHECK(ss_arena_alloc(&a, size + 1) == NULL);
    CHECK(arena_round(&a, other, sizeof other / sizeof other[0]) == 0);
    munmap(a.base, a.size);

    struct ss_arena huge;
    memset(&huge, 0, sizeof huge);
    int r = ss_arena_init_nasync(&huge, (size_t)1 << 62);
    CHECK_MSG(r == -ENOMEM, "init of 2^62 bytes returned %d", r);
    CHECK(huge.base == NULL);
}

int main(void)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    test_arena();
    return check_summary();
}
