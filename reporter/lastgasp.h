/* lastgasp.h — the public API of liblastgasp.
 *
 * lastgasp writes a minidump from inside a process that dies of SIGSEGV, SIGBUS, SIGFPE, SIGILL,
 * SIGABRT, SIGTRAP or SIGSYS, then lets the process die exactly as it would have without it.
 * Loaded with LD_PRELOAD it installs itself from the LASTGASP_* environment (see README.md);
 * a program that links it calls lastgasp_install() once, early, from normal context.
 */
#ifndef LASTGASP_H
#define LASTGASP_H

#ifdef __cplusplus
extern "C" {
#endif

#define LASTGASP_API __attribute__((visibility("default")))

/* This header's version. The library's, which may differ when a program runs with another build than it was
 * compiled against, is lastgasp_version(). The shared library's SONAME carries the major number. */
#define LASTGASP_VERSION_MAJOR 0
#define LASTGASP_VERSION_MINOR 1
#define LASTGASP_VERSION_PATCH 0
#define LASTGASP_VERSION "0.1.0"

struct lastgasp_options {
    const char *dir;     /* directory for dumps; must exist and be writable (required) */
    int include_environ; /* also write the environment (it may hold secrets); default 0 */
    int quiet;           /* no one-line summary on stderr at crash time; default 0 */
};

enum lastgasp_error {
    LASTGASP_OK = 0,
    LASTGASP_ERR_NO_DIR = 1,     /* options or dir missing */
    LASTGASP_ERR_DIR = 2,        /* the directory cannot be opened */
    LASTGASP_ERR_DIR_WRITE = 3,  /* the directory is not writable */
    LASTGASP_ERR_MEMORY = 4,     /* reserving the handler's stack or arena failed */
    LASTGASP_ERR_SIGNALS = 5,    /* installing a signal handler failed */
    LASTGASP_ERR_MEMREAD = 6,    /* no way to read memory safely works here */
    LASTGASP_ERR_INSTALLED = 7,  /* already installed in this process */
    LASTGASP_ERR_ANNOTATION = 8, /* annotation key empty or too long, or value too long: nothing stored */
    LASTGASP_ERR_ANNOTATION_FULL = 9, /* LASTGASP_ANNOTATIONS_MAX keys are set already: nothing stored */
    LASTGASP_ERR_SECURE = 10,    /* lastgasp_install_from_env in secure-execution mode (setuid, setcap): env ignored */
};

/* Bounds of the annotation table, which is reserved in full at load time. Lengths are in bytes. */
#define LASTGASP_ANNOTATIONS_MAX 64
#define LASTGASP_ANNOTATION_KEY_MAX 63
#define LASTGASP_ANNOTATION_VALUE_MAX 1023

/* Install the crash handlers. Call from normal context, once. Returns LASTGASP_OK or an error;
 * on error nothing stays installed and errno holds the system's reason where there is one. */
LASTGASP_API int lastgasp_install(const struct lastgasp_options *opts);

/* Install from LASTGASP_DIR, LASTGASP_ENVIRON, LASTGASP_QUIET. On failure, prints one line on
 * stderr and returns the error; the process runs on without lastgasp. */
LASTGASP_API int lastgasp_install_from_env(void);

/* Set, replace or (value NULL or "") remove the annotation `key`. Every dump written afterwards carries the
 * annotations in a Crashpad info stream, which Sentry and rust-minidump show. Keys are 1 to
 * LASTGASP_ANNOTATION_KEY_MAX bytes, values at most LASTGASP_ANNOTATION_VALUE_MAX; both are copied, and a byte
 * that is not part of valid UTF-8 is stored as '?'. Returns LASTGASP_OK, LASTGASP_ERR_ANNOTATION or
 * LASTGASP_ERR_ANNOTATION_FULL. Callable from any thread, at any time, before or after lastgasp_install();
 * not from a signal handler (it takes a lock). */
LASTGASP_API int lastgasp_set_annotation(const char *key, const char *value);

/* A short English description of an error code. */
LASTGASP_API const char *lastgasp_strerror(int err);

/* The version of the library in the process, "MAJOR.MINOR.PATCH" (LASTGASP_VERSION when it was built). */
LASTGASP_API const char *lastgasp_version(void);

#ifdef __cplusplus
}
#endif

#endif
