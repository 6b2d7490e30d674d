/* check.h — the unit tests' tiny assertion macros.
 *
 * A failed check prints one line, "file:line: CHECK failed: expr", counts the failure and lets the run go
 * on, so one run shows every broken promise. check_summary() prints the one last line of a test program,
 * "N passed, M failed" (N and M count checks, not test functions), and returns the exit status.
 * Single-threaded: call the macros from the main thread only.
 */
#ifndef LASTGASP_TESTS_CHECK_H
#define LASTGASP_TESTS_CHECK_H

#include <stdint.h>
#include <stdio.h>

static int check_passed __attribute__((unused));
static int check_failed __attribute__((unused));

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (expr) {                                                                                \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            printf("%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr);                        \
        }                                                                                          \
    } while (0)

/* Like CHECK, and on failure a second line of context: CHECK_MSG(ok, "at length %zu", n). */
#define CHECK_MSG(expr, ...)                                                                       \
    do {                                                                                           \
        if (expr) {                                                                                \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            printf("%s:%d: CHECK failed: %s\n    ", __FILE__, __LINE__, #expr);                    \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

/* Each side is evaluated once; both values are printed on failure, in hex and in decimal. */
#define CHECK_EQ_U64(a, b)                                                                         \
    do {                                                                                           \
        uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);                               \
        if (check_a_ == check_b_) {                                                                \
            check_passed++;                                                                        \
        } else {                                                                                   \
            check_failed++;                                                                        \
            printf("%s:%d: CHECK failed: %s == %s (0x%llx == 0x%llx; %lld == %lld)\n", __FILE__,   \
                   __LINE__, #a, #b, (unsigned long long)check_a_, (unsigned long long)check_b_,   \
                   (long long)check_a_, (long long)check_b_);                                      \
        }                                                                                          \
    } while (0)

/* The last line of the run. Returns the process exit status: 0 when nothing failed. */
static inline int check_summary(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    fflush(stdout);
    return check_failed ? 1 : 0;
}

#endif
