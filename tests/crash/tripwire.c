/* tripwire.c — LD_PRELOAD this before liblastgasp.so to prove the handler path never allocates
 * and never takes a lock. The crasher arms it just before it crashes (tripwire_arm); from then on,
 * malloc, calloc, realloc, free, memalign and pthread_mutex_lock end the process with status 77
 * and a "TRIPWIRE" line: a death the crash matrix refuses. Unarmed, every call passes through. */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <unistd.h>

#ifdef __GLIBC__
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
#else
/* musl exports no __libc_* allocator: the next definitions, looked up once (musl's dlsym allocates nothing).
 * musl's own internal locks are not pthread_mutex_lock: there the tripwire sees the allocator calls only. */
#define NEXT(type, name) ((type)next_nasync(name))
static void *next_nasync(const char *name) { return dlsym(RTLD_NEXT, name); }
static void *__libc_malloc(size_t n) { return NEXT(void *(*)(size_t), "malloc")(n); }
static void *__libc_calloc(size_t a, size_t b) { return NEXT(void *(*)(size_t, size_t), "calloc")(a, b); }
static void *__libc_realloc(void *p, size_t n) { return NEXT(void *(*)(void *, size_t), "realloc")(p, n); }
static void __libc_free(void *p) { NEXT(void (*)(void *), "free")(p); }
static void *__libc_memalign(size_t a, size_t n) { return NEXT(void *(*)(size_t, size_t), "aligned_alloc")(a, n); }
#endif

static volatile int armed;

/* Normal context: called by the crasher just before it crashes. */
__attribute__((visibility("default"))) void tripwire_arm(void) { __atomic_store_n(&armed, 1, __ATOMIC_SEQ_CST); }

static void trip(const char *what)
{
    if (!__atomic_load_n(&armed, __ATOMIC_SEQ_CST))
        return;
    static const char head[] = "TRIPWIRE: ";
    static const char tail[] = " called after the crash\n";
    size_t n = 0;
    while (what[n])
        n++;
    ssize_t r = write(2, head, sizeof head - 1);
    r = write(2, what, n);
    r = write(2, tail, sizeof tail - 1);
    (void)r;
    _exit(77);
}

void *malloc(size_t n) { trip("malloc"); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { trip("calloc"); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { trip("realloc"); return __libc_realloc(p, n); }
void free(void *p) { trip("free"); __libc_free(p); }
void *memalign(size_t a, size_t n) { trip("memalign"); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { trip("aligned_alloc"); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n)
{
    trip("posix_memalign");
    *out = __libc_memalign(a, n);
    return *out ? 0 : 12;
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
    static int (*real)(pthread_mutex_t *);
    trip("pthread_mutex_lock");
    if (!real)
        real = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT, "pthread_mutex_lock");
    return real(m);
}
