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
};

/* Install the crash handlers. Call from normal context, once. Returns LASTGASP_OK or an error;
 * on error nothing stays installed and errno holds the system's reason where there is one. */
LASTGASP_API int lastgasp_install(const struct lastgasp_options *opts);

/* Install from LASTGASP_DIR, LASTGASP_ENVIRON, LASTGASP_QUIET. On failure, prints one line on
 * stderr and returns the error; the process runs on without lastgasp. */
LASTGASP_API int lastgasp_install_from_env(void);

/* A short English description of an error code. */
LASTGASP_API const char *lastgasp_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
