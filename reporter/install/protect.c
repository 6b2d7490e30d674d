/* protect.c — what install prepares so that a dump never leaks what it must not, nor goes where it must not.
 *
 * Normal context (libc allowed). Three jobs, each read back by the handler path (preflight.c, report.c):
 *   - the spans of memory no dump may contain: the strings the kernel put at the top of the initial stack
 *     (argv, environment, AT_EXECFN, AT_PLATFORM) and the 16 AT_RANDOM bytes;
 *   - the identity of every fd the handler will use (a daemon may close them and reuse the numbers), and
 *     a reserve of fds the handler gives back to itself when the table is full (RLIMIT_NOFILE);
 *   - secure-execution mode (setuid, setgid, file capabilities: AT_SECURE): the environment belongs to the
 *     caller, who must not choose where a privileged process writes.
 */
#include "../rep.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

/* /proc/self/stat fields 48 to 51 (arg_start, arg_end, env_start, env_end; Linux 3.5+). Returns 0 or -1. */
static int arg_env_bounds_nasync(uint64_t b[4])
{
    char buf[4096];
    FILE *f = fopen("/proc/self/stat", "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the comm field may hold spaces and parentheses */
    if (!p)
        return -1;
    p++;
    for (int field = 3; field <= 51 && p; field++) { /* p is at the space before field `field` */
        while (*p == ' ')
            p++;
        if (field >= 48)
            b[field - 48] = strtoull(p, 0, 10);
        p = strchr(p, ' ');
    }
    return b[1] > b[0] && b[3] > b[2] ? 0 : -1;
}

/* The mapping of the initial stack: the one holding the AT_RANDOM bytes. */
static int mapping_of_nasync(uint64_t addr, uint64_t *start, uint64_t *end)
{
    char line[512];
    int found = -1;
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return -1;
    while (found < 0 && fgets(line, sizeof line, f)) {
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx", &a, &b) == 2 && addr >= a && addr < b) {
            *start = a;
            *end = b;
            found = 0;
        }
    }
    fclose(f);
    return found;
}

/* Exclude the kernel's block at the top of the initial stack: [lowest of its parts, end of the stack
 * mapping). Parts a program moved elsewhere (prctl PR_SET_MM_ARG_START and friends) are excluded where they
 * are. Returns how many spans were excluded. */
int rep_exclude_secrets_nasync(void)
{
    struct ss_span parts[7];
    int np = 0;
    uint64_t b[4] = {0, 0, 0, 0};
    if (arg_env_bounds_nasync(b) == 0) {
        parts[np++] = (struct ss_span){b[0], b[1]};
        parts[np++] = (struct ss_span){b[2], b[3]};
    }
    uint64_t rnd = getauxval(AT_RANDOM);
    if (rnd)
        parts[np++] = (struct ss_span){rnd, rnd + 16};
    const unsigned long str_types[] = {AT_EXECFN, AT_PLATFORM, AT_BASE_PLATFORM};
    for (size_t i = 0; i < sizeof str_types / sizeof str_types[0]; i++) {
        const char *s = (const char *)getauxval(str_types[i]);
        if (s)
            parts[np++] = (struct ss_span){(uint64_t)(uintptr_t)s, (uint64_t)(uintptr_t)s + strlen(s) + 1};
    }
    uint64_t ms = 0, me = 0, lo = UINT64_MAX;
    int have_stack = rnd && mapping_of_nasync(rnd, &ms, &me) == 0;
    int count = 0;
    for (int i = 0; i < np; i++) {
        if (have_stack && parts[i].lo >= ms && parts[i].hi <= me) {
            if (parts[i].lo < lo)
                lo = parts[i].lo;
        } else if (ss_memread_exclude(parts[i].lo, parts[i].hi) == 0) {
            count++;
        }
    }
    if (have_stack && lo < me && ss_memread_exclude(lo, me) == 0)
        count++;
    return count;
}

/* Record the fds the handler uses, and keep REP_FD_RESERVE fds in reserve: a pipe, whose inode nothing
 * else in the process can hold, so the handler can tell it is still ours before closing it. */
void rep_fds_prepare_nasync(void)
{
    ss_fdid_take(&rep_g.dir_id, rep_g.dir_fd);
    /* openat, not pipe2: a sandbox that lets the dynamic loader run allows openat, and may kill for the rest. */
    for (int i = 0; i < REP_FD_RESERVE; i++) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        rep_g.reserve[i].fd = -1;
        if (fd >= 0)
            ss_fdid_take(&rep_g.reserve[i], fd);
    }
}

void rep_fds_release_nasync(void)
{
    for (int i = 0; i < REP_FD_RESERVE; i++) {
        if (rep_g.reserve[i].fd >= 0)
            close(rep_g.reserve[i].fd);
        rep_g.reserve[i].fd = -1;
    }
}

/* A value that came from the environment, escaped for one log line (it must not forge a second). */
const char *rep_escape_nasync(char *out, size_t cap, const char *value)
{
    struct ss_str s;
    ss_str_init(&s, out, cap);
    ss_str_add_escaped(&s, value ? value : "");
    return out;
}

/* /etc/lastgasp.conf: the one opt-in for processes whose environment lastgasp must not trust (secure-execution
 * mode) or whose memory the kernel would not dump (not dumpable at the crash). Read only when root owns it and
 * neither group nor others may write it (as sudo treats sudoers); anything else is ignored with one line.
 *
 *     # /etc/lastgasp.conf
 *     secure_dir = /var/crash/lastgasp
 *
 * secure_dir: an absolute path to a directory owned by root and not writable by group or others. A program in
 * secure-execution mode installs with it (its LASTGASP_* stays ignored), and any program that is not dumpable
 * at the crash writes its dump there, and nowhere else. Without it, neither gets a dump. Returns 0 and fills
 * out with the directory, or -1. */
int rep_secure_dir_nasync(char *out, size_t cap)
{
    int fd = open(REP_CONF_PATH, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    char buf[4096];
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 && !(st.st_mode & (S_IWGRP | S_IWOTH)))
        n = read(fd, buf, sizeof buf - 1);
    else
        fprintf(stderr, "lastgasp: %s ignored: not a regular file owned by root and writable by root only\n",
                REP_CONF_PATH);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = 0;
    int found = -1;
    for (char *line = strtok(buf, "\n"); line; line = strtok(0, "\n")) {
        line += strspn(line, " \t");
        if (strncmp(line, "secure_dir", 10) != 0)
            continue;
        char *v = line + 10 + strspn(line + 10, " \t");
        if (*v != '=')
            continue;
        v += 1 + strspn(v + 1, " \t");
        size_t len = strcspn(v, " \t\r#");
        if (len == 0 || len >= cap || v[0] != '/')
            continue;
        memcpy(out, v, len);
        out[len] = 0;
        found = 0;
    }
    if (found < 0)
        return -1;
    int dfd = open(out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int ok = dfd >= 0 && fstat(dfd, &st) == 0 && st.st_uid == 0 && !(st.st_mode & (S_IWGRP | S_IWOTH));
    if (dfd >= 0)
        close(dfd);
    if (!ok) {
        char esc[1024];
        fprintf(stderr, "lastgasp: %s: secure_dir %s ignored: not a directory owned by root and writable by root "
                        "only\n", REP_CONF_PATH, rep_escape_nasync(esc, sizeof esc, out));
        return -1;
    }
    return 0;
}

/* Open the secure directory for a process that may become non-dumpable (install, every process that has the
 * configuration). */
void rep_secure_dir_prepare_nasync(void)
{
    rep_g.secure_dir_id.fd = -1;
    if (rep_secure_dir_nasync(rep_g.secure_dir_path, sizeof rep_g.secure_dir_path) != 0)
        return;
    int fd = open(rep_g.secure_dir_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && ss_fdid_take(&rep_g.secure_dir_id, fd) < 0)
        close(fd);
}

void rep_secure_dir_release_nasync(void)
{
    if (rep_g.secure_dir_id.fd >= 0)
        close(rep_g.secure_dir_id.fd);
    rep_g.secure_dir_id.fd = -1;
}
