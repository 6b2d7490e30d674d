/* altstack.c — an alternate signal stack for every thread, so a stack overflow still reaches
 * the handler (the kernel cannot deliver SIGSEGV on the stack that overflowed).
 *
 * Normal context only. The installing thread gets one at install (kept forever: the Go runtime
 * adopts an existing alternate stack and never frees it). Threads created later get one from our
 * pthread_create wrapper, freed by a thread-specific-data destructor when the thread exits.
 * Threads created by raw clone() (not pthread_create) get none: the note for the issue says so.
 */
#include "../rep.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

static void *map_altstack_nasync(void)
{
    uint8_t *p = mmap(0, 4096 + REP_ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                      -1, 0);
    if (p == MAP_FAILED)
        return 0;
    mprotect(p, 4096, PROT_NONE);
    return p;
}

/* Give the calling thread an alternate stack if it has none. Returns the mapping we made, or 0. */
static void *ensure_nasync(void)
{
    stack_t cur;
    if (sigaltstack(0, &cur) != 0 || !(cur.ss_flags & SS_DISABLE))
        return 0;
    uint8_t *p = map_altstack_nasync();
    if (!p)
        return 0;
    stack_t ss = {p + 4096, 0, REP_ALTSTACK_SIZE};
    if (sigaltstack(&ss, 0) != 0) {
        munmap(p, 4096 + REP_ALTSTACK_SIZE);
        return 0;
    }
    return p;
}

int rep_altstack_ensure_nasync(void) { return ensure_nasync() ? 0 : -1; }

static pthread_key_t g_key;
static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;

static void free_altstack_nasync(void *p)
{
    stack_t cur, off = {0, SS_DISABLE, 0};
    if (sigaltstack(0, &cur) == 0 && cur.ss_sp == (uint8_t *)p + 4096 && !(cur.ss_flags & SS_ONSTACK))
        sigaltstack(&off, 0);
    munmap(p, 4096 + REP_ALTSTACK_SIZE);
}

static void make_key_nasync(void) { pthread_key_create(&g_key, free_altstack_nasync); }

struct start {
    void *(*fn)(void *);
    void *arg;
};

static void *thread_start_nasync(void *p)
{
    struct start s = *(struct start *)p;
    free(p);
    void *mine = ensure_nasync();
    if (mine)
        pthread_setspecific(g_key, mine);
    return s.fn(s.arg);
}

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

__attribute__((visibility("default"))) int pthread_create(pthread_t *t, const pthread_attr_t *attr,
                                                          void *(*fn)(void *), void *arg)
{
    static pthread_create_fn real;
    pthread_create_fn r = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
    if (!r) {
        r = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
        __atomic_store_n(&real, r, __ATOMIC_RELEASE);
    }
    if (__atomic_load_n(&rep_g.arm_pending, __ATOMIC_ACQUIRE))
        rep_arm_after_go_nasync();
    if (!rep_g.installed)
        return r(t, attr, fn, arg);
    pthread_once(&g_key_once, make_key_nasync);
    struct start *s = malloc(sizeof *s);
    if (!s)
        return r(t, attr, fn, arg);
    s->fn = fn;
    s->arg = arg;
    int rc = r(t, attr, thread_start_nasync, s);
    if (rc != 0)
        free(s);
    return rc;
}
