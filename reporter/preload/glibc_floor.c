/* glibc_floor.c — the glibc build of liblastgasp.so loads into glibc 2.17 and later (RHEL 7, manylinux2014).
 *
 * Normal context (install time). Built into the glibc liblastgasp.so only (not liblastgasp.a, whose floor is
 * the program's own; not the musl build). Linked against a newer glibc, the library would reference the
 * newest version of each function: GLIBC_2.34 for dlsym and pthread_key_create/once/setspecific (moved from
 * libdl and libpthread into libc proper), 2.33 for fstat (an inline __fxstat call before), 2.27 for
 * memfd_create; an older loader refuses such a library. The definitions here are hidden, so the library's own
 * calls bind to them at link time: they call the GLIBC_2.2.5 versions that every glibc still has (libc.so.6
 * keeps them as compatibility versions; older ones have them in libdl.so.2 and libpthread.so.0, which the
 * Makefile adds as needed libraries) or make the system call themselves. The highest version left is
 * GLIBC_2.16 (getauxval); tests/check_glibc_floor.sh checks it.
 */
#include "../rep.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#if defined(__GLIBC__) && defined(__x86_64__)
__asm__(".symver lg_dlsym_2_2_5, dlsym@GLIBC_2.2.5");
__asm__(".symver lg_pthread_key_create_2_2_5, pthread_key_create@GLIBC_2.2.5");
__asm__(".symver lg_pthread_once_2_2_5, pthread_once@GLIBC_2.2.5");
__asm__(".symver lg_pthread_setspecific_2_2_5, pthread_setspecific@GLIBC_2.2.5");
void *lg_dlsym_2_2_5(void *, const char *);
int lg_pthread_key_create_2_2_5(pthread_key_t *, void (*)(void *));
int lg_pthread_once_2_2_5(pthread_once_t *, void (*)(void));
int lg_pthread_setspecific_2_2_5(pthread_key_t, const void *);

/* RTLD_NEXT looks past the object that calls dlsym: this file is in the same object as its callers. */
void *dlsym(void *handle, const char *name) { return lg_dlsym_2_2_5(handle, name); }
int pthread_key_create(pthread_key_t *key, void (*destructor)(void *))
{
    return lg_pthread_key_create_2_2_5(key, destructor);
}
int pthread_once(pthread_once_t *once, void (*fn)(void)) { return lg_pthread_once_2_2_5(once, fn); }
/* pthread.h declares the value access(none): GCC then takes passing it on as a read of memory never written.
 * Clang has no such warning, and -Werror makes its "unknown warning group" an error. */
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
int pthread_setspecific(pthread_key_t key, const void *value) { return lg_pthread_setspecific_2_2_5(key, value); }

int fstat(int fd, struct stat *st)
{
    int r = ss_fstat(fd, st);
    if (r < 0) {
        errno = -r;
        return -1;
    }
    return 0;
}

int memfd_create(const char *name, unsigned int flags)
{
    long r = ss_sys(SYS_memfd_create, (long)name, (long)flags, 0, 0, 0, 0);
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return (int)r;
}
#endif
