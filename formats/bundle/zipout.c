/* zipout.c — the bundle file: written with minizip under a temporary name beside the output, fsync'd,
 * read back entry by entry, and only then renamed into place. So a bundle at the output path is always
 * complete and checked, and a collect that dies half-way (kill -9, a full disk) leaves no partial bundle.
 *
 * Normal context (the `lastgasp` tool). SIGINT, SIGTERM and SIGHUP remove the temporary file before the
 * process dies of them; SIGKILL cannot, and leaves it (hidden, never named like a bundle).
 */
#define _FILE_OFFSET_BITS 64
#include "bundle_int.h"
#include "../read/grow.h"
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <minizip/unzip.h>
#include <minizip/zip.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* renameat2() is glibc 2.28's; Debian 12's musl (1.2.3), which builds the static tool, has none:
 * the system call itself, with the flag's value from the kernel's uapi linux/fs.h. */
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

#define CHUNK (1u << 20)
/* Entries this large are opened as zip64 (sizes in the zip64 extra field). Below 4 GiB by a margin, since
 * deflate may make incompressible data slightly larger than it was. */
#define ZIP64_FROM 0xF0000000ull

/* The temporary path, for the signal handler: written before the handler is installed, cleared (with an
 * atomic store) before the file is renamed or removed. */
static char g_tmp[PATH_MAX];
static volatile sig_atomic_t g_tmp_live;

static void on_signal(int sig)
{
    if (g_tmp_live)
        unlink(g_tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* minizip opens its file by name; ours is already open (O_EXCL), and its FILE * comes in as the "name". */
static voidpf ZCALLBACK open_given(voidpf opaque, const void *stream, int mode)
{
    (void)opaque;
    (void)mode;
    return (voidpf)stream;
}

int bundle_zout_open(struct bundle_zout *zo, const char *output, char *err, size_t errlen)
{
    const char *slash = strrchr(output, '/');
    int dirlen = slash ? (int)(slash - output) + 1 : 0;
    int fd;

    memset(zo, 0, sizeof *zo);
    zo->sync_fd = -1;
    if (snprintf(g_tmp, sizeof g_tmp, "%.*s.%s.lastgasp-collect-%ld.tmp", dirlen, output, output + dirlen,
                 (long)getpid()) >= (int)sizeof g_tmp)
        return fail(err, errlen, "output path too long");
    zo->tmp = strdup(g_tmp);
    if (!zo->tmp)
        return fail(err, errlen, "out of memory");
    /* The file and the flag that lets the handler remove it come into being with those signals held. */
    struct sigaction sa = {.sa_handler = on_signal};
    sigset_t held, old;
    sigemptyset(&held);
    sigaddset(&held, SIGINT);
    sigaddset(&held, SIGTERM);
    sigaddset(&held, SIGHUP);
    sigprocmask(SIG_BLOCK, &held, &old);
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    fd = open(zo->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    g_tmp_live = fd >= 0;
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (fd < 0)
        return fail(err, errlen, "cannot create %s: %s", zo->tmp, strerror(errno));
    zo->sync_fd = dup(fd);
    zo->f = fdopen(fd, "w+b");
    if (zo->sync_fd < 0 || !zo->f) {
        if (!zo->f)
            close(fd);
        return fail(err, errlen, "cannot open %s: %s", zo->tmp, strerror(errno));
    }
    zlib_filefunc64_def ff;
    fill_fopen64_filefunc(&ff); /* stdio callbacks, on the FILE * handed over by open_given */
    ff.zopen64_file = open_given;
    zo->z = zipOpen2_64(zo->f, APPEND_STATUS_CREATE, NULL, &ff);
    if (!zo->z)
        return fail(err, errlen, "minizip could not start %s", zo->tmp);
    return 0;
}

static int remember(struct bundle_zout *zo, const char *name, uint64_t size, const char *sha)
{
    if (mdr_grow((void **)&zo->entries, &zo->cap, zo->n + 1, sizeof *zo->entries, 64) < 0)
        return -1;
    zo->entries[zo->n].name = strdup(name);
    if (!zo->entries[zo->n].name)
        return -1;
    zo->entries[zo->n].size = size;
    memcpy(zo->entries[zo->n].sha256, sha, 65);
    zo->n++;
    return 0;
}

/* Open an entry: deflate, the file's time and Unix mode (so unzip restores 0600), zip64 when large. */
static int begin(struct bundle_zout *zo, const char *name, time_t mtime, mode_t mode, uint64_t size)
{
    zip_fileinfo zi;
    struct tm tm;
    int zip64 = size >= ZIP64_FROM;

    memset(&zi, 0, sizeof zi);
    if (localtime_r(&mtime, &tm)) {
        zi.tmz_date.tm_sec = (uInt)tm.tm_sec;
        zi.tmz_date.tm_min = (uInt)tm.tm_min;
        zi.tmz_date.tm_hour = (uInt)tm.tm_hour;
        zi.tmz_date.tm_mday = (uInt)tm.tm_mday;
        zi.tmz_date.tm_mon = (uInt)tm.tm_mon;
        zi.tmz_date.tm_year = (uInt)tm.tm_year + 1900;
    }
    zi.external_fa = (uLong)(S_IFREG | (mode & 07777)) << 16;
    return zipOpenNewFileInZip4_64(zo->z, name, &zi, NULL, 0, NULL, 0, NULL, Z_DEFLATED, Z_DEFAULT_COMPRESSION, 0,
                                   -MAX_WBITS, DEF_MEM_LEVEL, Z_DEFAULT_STRATEGY, NULL, 0,
                                   3u << 8 | (zip64 ? 45u : 20u) /* made by Unix */, 0, zip64);
}

int bundle_zout_add_mem(struct bundle_zout *zo, const char *name, const void *p, size_t n, time_t mtime, mode_t mode,
                     char sha[65], char *err, size_t errlen)
{
    struct bundle_sha256 s;
    const uint8_t *b = p;

    if (begin(zo, name, mtime, mode, n) != ZIP_OK)
        return fail(err, errlen, "cannot add %s to the bundle", name);
    for (size_t off = 0; off < n; off += CHUNK) {
        unsigned k = n - off < CHUNK ? (unsigned)(n - off) : CHUNK;

        if (zipWriteInFileInZip(zo->z, b + off, k) != ZIP_OK)
            return fail(err, errlen, "cannot write %s into the bundle: %s", name, strerror(errno));
    }
    if (zipCloseFileInZip(zo->z) != ZIP_OK)
        return fail(err, errlen, "cannot finish %s in the bundle: %s", name, strerror(errno));
    bundle_sha256_init(&s);
    bundle_sha256_update(&s, p, n);
    bundle_sha256_hex(&s, sha);
    if (remember(zo, name, n, sha) != 0)
        return fail(err, errlen, "out of memory");
    return 0;
}

int bundle_zout_add_fd(struct bundle_zout *zo, const char *name, int fd, time_t mtime, mode_t mode, uint64_t *size,
                    char sha[65], char *err, size_t errlen)
{
    struct bundle_sha256 s;
    struct stat st;
    uint8_t *buf = malloc(CHUNK);
    uint64_t total = 0;
    ssize_t got;

    if (!buf)
        return fail(err, errlen, "out of memory");
    if (fstat(fd, &st) != 0 || begin(zo, name, mtime, mode, (uint64_t)st.st_size) != ZIP_OK) {
        free(buf);
        return fail(err, errlen, "cannot add %s to the bundle", name);
    }
    bundle_sha256_init(&s);
    while ((got = pread(fd, buf, CHUNK, (off_t)total)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 || zipWriteInFileInZip(zo->z, buf, (unsigned)got) != ZIP_OK) {
            int e = errno;
            free(buf);
            return fail(err, errlen, "cannot copy %s into the bundle: %s", name, strerror(e));
        }
        bundle_sha256_update(&s, buf, (size_t)got);
        total += (uint64_t)got;
    }
    free(buf);
    if (zipCloseFileInZip(zo->z) != ZIP_OK)
        return fail(err, errlen, "cannot finish %s in the bundle (%s)", name,
                    total >= ZIP64_FROM ? "a file that grew past 4 GiB while it was copied" : strerror(errno));
    bundle_sha256_hex(&s, sha);
    *size = total;
    if (remember(zo, name, total, sha) != 0)
        return fail(err, errlen, "out of memory");
    return 0;
}

/* Read every entry of the closed zip at path and compare it with what was written. */
static int verify(const struct bundle_zout *zo, const char *path, char *err, size_t errlen)
{
    unzFile u = unzOpen64(path);
    unz_global_info64 gi;
    uint8_t *buf = malloc(CHUNK);
    char name[4096];
    size_t i = 0;
    int rc = -1, r;

    if (!u || !buf) {
        free(buf);
        if (u)
            unzClose(u);
        return fail(err, errlen, "check: cannot reopen the bundle");
    }
    if (unzGetGlobalInfo64(u, &gi) != UNZ_OK || gi.number_entry != zo->n) {
        fail(err, errlen, "check: the bundle lists %llu entries, %zu were written",
             (unsigned long long)gi.number_entry, zo->n);
        goto out;
    }
    for (r = unzGoToFirstFile(u); r == UNZ_OK && i < zo->n; r = unzGoToNextFile(u), i++) {
        const struct bundle_zentry *e = &zo->entries[i];
        unz_file_info64 fi;
        struct bundle_sha256 s;
        char sha[65];
        uint64_t total = 0;
        int got;

        if (unzGetCurrentFileInfo64(u, &fi, name, sizeof name, NULL, 0, NULL, 0) != UNZ_OK ||
            strcmp(name, e->name) != 0 || unzOpenCurrentFile(u) != UNZ_OK) {
            fail(err, errlen, "check: entry %zu is not %s as written", i, e->name);
            goto out;
        }
        bundle_sha256_init(&s);
        while ((got = unzReadCurrentFile(u, buf, CHUNK)) > 0) {
            bundle_sha256_update(&s, buf, (size_t)got);
            total += (uint64_t)got;
        }
        /* unzCloseCurrentFile compares the CRC-32 of what was inflated with the stored one. */
        int closed = unzCloseCurrentFile(u);
        bundle_sha256_hex(&s, sha);
        if (got < 0 || closed != UNZ_OK || total != e->size || strcmp(sha, e->sha256) != 0) {
            fail(err, errlen, "check: %s reads back wrong (%s)", e->name,
                 closed == UNZ_CRCERROR ? "CRC mismatch" : got < 0 ? "inflate error"
                 : total != e->size ? "size differs" : "SHA-256 differs");
            goto out;
        }
    }
    if (i != zo->n) {
        fail(err, errlen, "check: only %zu of %zu entries could be read back", i, zo->n);
        goto out;
    }
    rc = 0;
out:
    free(buf);
    unzClose(u);
    return rc;
}

static void le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t rd_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Debian 12's minizip (1.1-8) writes the zip64 end records only when the central directory starts past
 * 4 GiB, not when there are more than 65,534 entries: it puts 0xffff in the end record's 16-bit counts,
 * which tells readers to look for zip64 records that are not there (minizip-ng fixed this in its PR #234).
 * Insert them before the end record, as APPNOTE 4.3.14-4.3.16 lay them out. 0, or -1. */
static int add_zip64_end(int fd, uint64_t entries)
{
    uint8_t eocd[22], tail[56 + 20];
    off_t end = lseek(fd, 0, SEEK_END), at = end - 22;

    if (entries < 0xffff)
        return 0;
    if (end < 22 + 20 || pread(fd, eocd, 22, at) != 22 || rd_le(eocd, 4) != 0x06054b50 || rd_le(eocd + 20, 2) ||
        pread(fd, tail, 4, at - 20) != 4)
        return -1;
    if (rd_le(tail, 4) == 0x07064b50)
        return 0; /* a minizip that writes them itself */
    le(tail, 0x06064b50, 4);                /* zip64 end of central directory record */
    le(tail + 4, 56 - 12, 8);               /* its size, less the first 12 bytes */
    le(tail + 12, 3u << 8 | 45, 2);         /* made by: Unix, spec 4.5 */
    le(tail + 14, 45, 2);                   /* needed: 4.5, zip64 */
    le(tail + 16, 0, 4);                    /* this disk */
    le(tail + 20, 0, 4);                    /* disk of the central directory */
    le(tail + 24, entries, 8);              /* entries on this disk */
    le(tail + 32, entries, 8);              /* entries */
    le(tail + 40, rd_le(eocd + 12, 4), 8);  /* size of the central directory */
    le(tail + 48, rd_le(eocd + 16, 4), 8);  /* its offset */
    le(tail + 56, 0x07064b50, 4);           /* zip64 end of central directory locator */
    le(tail + 60, 0, 4);                    /* disk of the zip64 record */
    le(tail + 64, (uint64_t)at, 8);         /* its offset */
    le(tail + 72, 1, 4);                    /* disks */
    if (pwrite(fd, tail, sizeof tail, at) != (ssize_t)sizeof tail ||
        pwrite(fd, eocd, sizeof eocd, at + (off_t)sizeof tail) != (ssize_t)sizeof eocd)
        return -1;
    return 0;
}

/* rename without replacing; link+unlink where the file system has no RENAME_NOREPLACE. */
static int put_in_place(const char *tmp, const char *output)
{
    if (syscall(SYS_renameat2, AT_FDCWD, tmp, AT_FDCWD, output, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (link(tmp, output) != 0)
        return -1;
    unlink(tmp);
    return 0;
}

static int sync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    int fd, rc;

    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + (slash == path) : 1, slash ? path : ".");
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

int bundle_zout_finish(struct bundle_zout *zo, const char *output, char *err, size_t errlen)
{
    int r = zipClose(zo->z, NULL); /* writes the central directory (zip64 when needed), closes f */

    zo->z = NULL;
    zo->f = NULL;
    if (r != ZIP_OK) {
        fail(err, errlen, "cannot finish the bundle: %s", strerror(errno));
        goto bad;
    }
    if (add_zip64_end(zo->sync_fd, zo->n) != 0) {
        fail(err, errlen, "cannot add the zip64 end records to %s: %s", zo->tmp, strerror(errno));
        goto bad;
    }
    if (fsync(zo->sync_fd) != 0) {
        fail(err, errlen, "fsync %s: %s", zo->tmp, strerror(errno));
        goto bad;
    }
    close(zo->sync_fd);
    zo->sync_fd = -1;
    if (verify(zo, zo->tmp, err, errlen) != 0)
        goto bad;
    g_tmp_live = 0;
    if (put_in_place(zo->tmp, output) != 0) {
        fail(err, errlen, errno == EEXIST ? "%s appeared meanwhile; not replaced" : "cannot rename to %s: %s",
             output, strerror(errno));
        g_tmp_live = 1;
        goto bad;
    }
    if (sync_dir_of(output) != 0) {
        fail(err, errlen, "%s is in place, but fsync of its directory failed (%s)", output, strerror(errno));
        bundle_zout_abort(zo); /* the temporary file is gone already: this only frees */
        return -1;          /* not known to be durable: the caller removes no dump */
    }
    bundle_zout_abort(zo); /* likewise */
    return 0;
bad:
    bundle_zout_abort(zo);
    return -1;
}

void bundle_zout_abort(struct bundle_zout *zo)
{
    if (zo->z)
        zipClose(zo->z, NULL);
    else if (zo->f)
        fclose(zo->f);
    if (zo->sync_fd >= 0)
        close(zo->sync_fd);
    if (g_tmp_live) {
        g_tmp_live = 0;
        unlink(zo->tmp);
    }
    for (size_t i = 0; i < zo->n; i++)
        free(zo->entries[i].name);
    free(zo->entries);
    free(zo->tmp);
    memset(zo, 0, sizeof *zo);
    zo->sync_fd = -1;
}
