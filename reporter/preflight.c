/* preflight.c — crash-time checks before the report touches anything: may this process be dumped at all,
 * and which of the fds prepared at install are still ours.
 *
 * RULES (compromised context): async-signal-safe, sigsafe/ only, no allocation, no locks; a handful of
 * syscalls, no loop longer than REP_FD_RESERVE. Runs on the reporting thread only, first in rep_report.
 */
#include "rep.h"

#include <fcntl.h>

#define PR_GET_DUMPABLE_ 3
#define ESTALE_ 116

/* The dump directory's fd for this report, or -errno, and its path: set by rep_preflight, reporting thread
 * only. */
static int dir_fd_now = -9 /* EBADF */;
static const char *dir_path_now = rep_g.dir_path;

/* The kernel's rule for core dumps: none when the process is not dumpable (it made itself so with
 * prctl(PR_SET_DUMPABLE, 0), or it is setuid/setcap and fs.suid_dumpable is not 1). Value 2 (suid_dumpable=2)
 * means a core readable by root only: a dump in a directory the caller chose would not be, so none either.
 * When the answer cannot be had (prctl denied), no dump: a leak cannot be taken back. */
static int dumpable(void) { return ss_prctl(PR_GET_DUMPABLE_, 0) == 1; }

/* A daemon that closed every fd from 3 up and opened others gets our numbers back: an fd is used only when
 * it is still the object install opened. The dump directory is then reopened by its path, and used only if
 * that path still names the same directory. */
static int check_dir_fd(void)
{
    if (ss_fdid_same(&rep_g.dir_id))
        return rep_g.dir_fd;
    int fd = ss_openat(AT_FDCWD, rep_g.dir_path, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        return fd;
    struct ss_fdid now;
    if (ss_fdid_take(&now, fd) < 0 || now.dev != rep_g.dir_id.dev || now.ino != rep_g.dir_id.ino) {
        ss_close(fd);
        return -ESTALE_;
    }
    return fd;
}

/* Reporting thread, first thing in the report. Returns 0, or -1 (EPERM) when no dump may be written. The
 * reserve fds are given back first, so that the reads of /proc and the dump file find free slots when the
 * program used up RLIMIT_NOFILE (other threads still run and could take them first: best effort). */
int rep_preflight(void)
{
    int may = dumpable();
    /* Not dumpable: only the directory root named in /etc/lastgasp.conf, never the one the environment named. */
    if (!may && !ss_fdid_same(&rep_g.secure_dir_id))
        return REP_NOT_DUMPABLE;
    for (int i = 0; i < REP_FD_RESERVE; i++)
        if (ss_fdid_same(&rep_g.reserve[i]))
            ss_close(rep_g.reserve[i].fd);
    if (may) {
        dir_fd_now = check_dir_fd();
    } else {
        dir_fd_now = rep_g.secure_dir_id.fd;
        dir_path_now = rep_g.secure_dir_path;
    }
    ss_memread_recheck();
    return 0;
}

/* Reporting thread, after rep_preflight: the verified dump directory fd, or -errno. */
int rep_dir_fd(void) { return dir_fd_now; }
const char *rep_dir_path(void) { return dir_path_now; }

/* Reporting thread: the Go crash-output memfd if it is still the one install created, else -1. */
int rep_crash_text_fd(void) { return ss_fdid_same(&rep_g.crash_text_id) ? rep_g.crash_text_fd : -1; }
