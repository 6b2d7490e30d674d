/* sstest.h — what the sigsafe unit tests share (tests/unit/sigsafe/test_<source>.c, one per sigsafe source).
 *
 * The tests run sigsafe's functions in an ordinary process. The libc replacements are compared with libc itself,
 * return values included; the readers are pointed at things broken on purpose: PROT_NONE pages, unmapped holes,
 * the top of the address space, files bigger than the buffer, malformed maps lines. Parsers get exactly sized heap
 * copies of their input, so the build under -fsanitize=address,undefined (test_<source>_asan) reports any read
 * past the end. Each test is its own program, so no test inherits state another left behind.
 *
 * Helpers below: a fixed-seed random source, pages, a scratch directory (tmpdir_create/tmpdir_remove around the
 * tests that use files), a plain signal handler install. Single-threaded, main thread only.
 */
#ifndef LASTGASP_TESTS_SSTEST_H
#define LASTGASP_TESTS_SSTEST_H

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Set by the arm64 suite (tests/crash/test_arm64.py), which runs this program under qemu-user: qemu has no
 * process_vm_readv (ENOSYS) and refuses a clone that shares memory without being a thread (EINVAL). Those
 * checks assert the limit there instead. */
static inline int under_qemu(void)
{
    const char *q = getenv("LASTGASP_TEST_QEMU");
    return q && q[0] == '1';
}

static uint64_t rng __attribute__((unused)) = 0x9e3779b97f4a7c15u; /* fixed seed: every run sees the same inputs */

static inline uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1du;
}

static inline void fill_random(void *p, size_t n)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rnd();
}

static inline int sign(int v) { return (v > 0) - (v < 0); }

static inline uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

static inline void *map_pages(size_t n)
{
    void *p = mmap(0, n * page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    return p;
}

/* A scratch directory for the file tests, emptied and removed at the end (it holds no subdirectories). */
static char tmpdir[64] __attribute__((unused));
static int tmpdir_fd __attribute__((unused)) = -1;

static inline void tmpdir_create(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_sigsafe.XXXXXX");
    if (!mkdtemp(tmpdir) || (tmpdir_fd = open(tmpdir, O_RDONLY | O_DIRECTORY)) < 0) {
        perror("mkdtemp");
        exit(2);
    }
}

static inline void tmpdir_remove(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlinkat(tmpdir_fd, e->d_name, 0);
    if (d)
        closedir(d);
    close(tmpdir_fd);
    rmdir(tmpdir);
}

static inline void write_file(const char *name, const void *p, size_t n)
{
    int fd = openat(tmpdir_fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, p, n) != (ssize_t)n) {
        perror(name);
        exit(2);
    }
    close(fd);
}

/* Reads name from the scratch directory into buf; returns its length, or -1. */
static inline ssize_t slurp(const char *name, void *buf, size_t cap)
{
    int fd = openat(tmpdir_fd, name, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap);
    close(fd);
    return n;
}

static inline void install_handler(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, 0);
}

#endif
