/* mdread.c — the reader's core: header, stream directory, then each stream to its parser (mdread_*.c).
 *
 * Normal context (heap, stdio). The per-stream parsers live in mdread_streams.c, mdread_lg.c and mdread_go.c,
 * the CPU contexts in mdread_context.c;
 * this file decides which bytes each of them sees, so every range the parsers get is already known to be in
 * the file.
 */
#include "mdread_int.h"
#include "grow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the directory ---- */

/* Every stream this reader understands, in the order it parses them (see mdread_int.h for why). */
static const struct known_stream {
    uint32_t type;
    void (*parse)(struct mdr_reader *, const struct mdr_span *);
    size_t raw_off; /* offset of the struct mdr_bytes in struct mdr_dump, for raw streams */
} known[] = {
    { MD_SYSTEM_INFO_STREAM, mdr_read_sysinfo, 0 },
    { MD_MISC_INFO_STREAM, mdr_read_misc, 0 },
    { MD_THREAD_LIST_STREAM, mdr_read_threads, 0 },
    { MD_THREAD_NAME_LIST_STREAM, mdr_read_thread_names, 0 },
    { MD_MODULE_LIST_STREAM, mdr_read_modules, 0 },
    { MD_MEMORY_LIST_STREAM, mdr_read_memory, 0 },
    { MD_EXCEPTION_STREAM, mdr_read_exception, 0 },
    { MD_LINUX_CPU_INFO, NULL, offsetof(struct mdr_dump, cpu_info) },
    { MD_LINUX_PROC_STATUS, NULL, offsetof(struct mdr_dump, proc_status) },
    { MD_LINUX_CMD_LINE, NULL, offsetof(struct mdr_dump, cmdline) },
    { MD_LINUX_ENVIRON, NULL, offsetof(struct mdr_dump, environment) },
    { MD_LINUX_AUXV, NULL, offsetof(struct mdr_dump, auxv) },
    { MD_LINUX_MAPS, NULL, offsetof(struct mdr_dump, maps) },
    { LG_STREAM_CGROUP, NULL, offsetof(struct mdr_dump, cgroup) },
    { LG_STREAM_HOSTNAME, NULL, offsetof(struct mdr_dump, hostname) },
    { LG_STREAM_CRASH_INFO, mdr_read_lg, 0 },
    { LG_STREAM_GO, mdr_read_go, 0 },
    { LG_STREAM_GO_CRASH_TEXT, NULL, offsetof(struct mdr_dump, go_crash_text) },
    { MD_CRASHPAD_INFO_STREAM, mdr_read_crashpad, 0 },
};
#define NKNOWN (sizeof known / sizeof known[0])

static int known_index(uint32_t type)
{
    for (size_t k = 0; k < NKNOWN; k++)
        if (known[k].type == type)
            return (int)k;
    return -1;
}

/* Check one directory entry's range; fill the span with the part present in the file. */
static void locate(struct mdr_reader *rd, struct mdr_stream *st, struct mdr_span *span)
{
    size_t len = rd->md->len;
    uint64_t end = (uint64_t)st->rva + st->size;
    char label[64];

    mdr_type_label(st->type, label, sizeof label);
    span->type = st->type;
    span->rva = st->rva;
    span->p = NULL;
    span->n = 0;
    if (st->rva > len || (st->rva == len && st->size > 0)) {
        st->state = MDR_STREAM_BAD;
        mdr_warn(rd, "stream %s at rva 0x%x size 0x%x starts past end of file (size 0x%zx)", label,
                    (unsigned)st->rva, (unsigned)st->size, len);
        return;
    }
    span->p = rd->md->buf + st->rva;
    span->n = len - st->rva;
    if (end > UINT32_MAX) {
        st->state = MDR_STREAM_PARTIAL;
        mdr_warn(rd, "stream %s at rva 0x%x size 0x%x: rva + size overflows 32 bits (file size 0x%zx); "
                    "reading the 0x%zx bytes present", label, (unsigned)st->rva, (unsigned)st->size, len,
                    span->n);
    } else if (end > len) {
        st->state = MDR_STREAM_PARTIAL;
        mdr_warn(rd, "stream %s at rva 0x%x size 0x%x passes end of file (size 0x%zx); "
                    "reading the 0x%zx bytes present", label, (unsigned)st->rva, (unsigned)st->size, len,
                    span->n);
    } else {
        span->n = st->size;
    }
}

static void read_directory(struct mdr_reader *rd, const struct md_header *h)
{
    struct mdr_dump *md = rd->md;
    struct mdr_span spans[NKNOWN];
    int chosen[NKNOWN];
    size_t fit, i, k;

    for (k = 0; k < NKNOWN; k++)
        chosen[k] = -1;
    fit = h->stream_directory_rva <= md->len ? (md->len - h->stream_directory_rva) / sizeof(struct md_directory)
                                             : 0;
    if (h->stream_count > fit) {
        mdr_warn(rd, "stream directory at rva 0x%x (%u entries of 12 bytes) passes end of file "
                    "(size 0x%zx); reading %zu entries", (unsigned)h->stream_directory_rva,
                    (unsigned)h->stream_count, md->len, fit);
    } else {
        fit = h->stream_count;
    }
    md->streams = mdr_calloc(rd, fit, sizeof *md->streams);
    if (!md->streams)
        return;
    md->nstreams = fit;
    for (i = 0; i < fit; i++) {
        struct mdr_stream *st = &md->streams[i];
        struct md_directory d;
        char label[64];
        int ki;

        memcpy(&d, md->buf + h->stream_directory_rva + i * sizeof d, sizeof d);
        st->type = d.stream_type;
        st->rva = d.location.rva;
        st->size = d.location.data_size;
        st->state = MDR_STREAM_READ;
        if (st->type == MD_UNUSED_STREAM) {
            st->state = MDR_STREAM_UNUSED;
            continue;
        }
        ki = known_index(st->type);
        if (ki < 0) {
            st->state = MDR_STREAM_UNKNOWN;
            continue;
        }
        if (chosen[ki] >= 0) {
            st->state = MDR_STREAM_DUPLICATE;
            mdr_warn(rd, "stream %s at directory entry %zu duplicates entry %d; ignored (the first wins)",
                        mdr_type_label(st->type, label, sizeof label), i, chosen[ki]);
            continue;
        }
        chosen[ki] = (int)i;
        locate(rd, st, &spans[ki]);
    }
    for (k = 0; k < NKNOWN; k++) {
        if (chosen[k] < 0 || md->streams[chosen[k]].state == MDR_STREAM_BAD)
            continue;
        if (known[k].parse) {
            known[k].parse(rd, &spans[k]);
        } else {
            struct mdr_bytes *raw = (struct mdr_bytes *)((char *)md + known[k].raw_off);

            raw->data = spans[k].p;
            raw->len = spans[k].n;
        }
    }
}

/* The value of the status line "KEY:", leading blanks skipped, up to the end of the line; NULL if absent. */
static const uint8_t *status_value(const struct mdr_dump *md, const char *key, size_t keylen, const uint8_t **end)
{
    const uint8_t *p = md->proc_status.data;

    if (!p)
        return NULL;
    *end = p + md->proc_status.len;
    for (; *end - p >= (ptrdiff_t)keylen; p++) {
        if ((p == md->proc_status.data || p[-1] == '\n') && memcmp(p, key, keylen) == 0)
            break;
    }
    if (*end - p < (ptrdiff_t)keylen)
        return NULL;
    for (p += keylen; p < *end && (*p == ' ' || *p == '\t'); p++)
        ;
    const uint8_t *nl = memchr(p, '\n', (size_t)(*end - p));
    if (nl)
        *end = nl;
    return p;
}

/* The process name for `collect`'s manifest and `json`: the kernel's comm, as /proc/PID/status has it. */
static void name_from_status(struct mdr_reader *rd)
{
    const uint8_t *end, *p = status_value(rd->md, "Name:", 5, &end);

    if (p && end > p) {
        rd->md->process_name = mdr_calloc(rd, (size_t)(end - p) + 1, 1);
        if (rd->md->process_name)
            memcpy(rd->md->process_name, p, (size_t)(end - p));
    }
}

/* Breakpad writes no MiscInfo on Linux; its copy of /proc/PID/status still names the process ("Tgid:"). */
static void pid_from_status(struct mdr_dump *md)
{
    const uint8_t *end, *p;
    uint64_t pid = 0;
    int digits = 0;

    if (md->has_pid || !(p = status_value(md, "Tgid:", 5, &end)))
        return;
    for (; p < end && *p >= '0' && *p <= '9' && pid <= UINT32_MAX; p++, digits++)
        pid = pid * 10 + (uint64_t)(*p - '0');
    if (digits && pid <= UINT32_MAX) {
        md->has_pid = 1;
        md->pid = (uint32_t)pid;
    }
}

int mdr_open(struct mdr_dump *md, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    struct mdr_reader rd = { .md = md };
    struct md_header h;

    memset(md, 0, sizeof *md);
    md->buf = buf;
    md->len = len;
    if (errlen)
        err[0] = '\0';
    if (!buf || len < sizeof h) {
        snprintf(err, errlen, "not a minidump: %zu bytes, shorter than the 32-byte header", buf ? len : 0);
        return MDR_NOT_MINIDUMP;
    }
    memcpy(&h, buf, sizeof h);
    if (h.signature != MD_SIGNATURE) {
        if (h.signature == 0x4d444d50u)
            snprintf(err, errlen, "big-endian minidump: not supported");
        else
            snprintf(err, errlen, "not a minidump: signature 0x%08x is not \"MDMP\"", (unsigned)h.signature);
        return MDR_NOT_MINIDUMP;
    }
    md->version = h.version;
    md->time_date_stamp = h.time_date_stamp;
    /* Only the low half is the format version; the high half is implementation-specific. */
    if ((h.version & 0xffffu) != (MD_VERSION & 0xffffu))
        mdr_warn(&rd, "header version 0x%x is not 0x%x; reading anyway", (unsigned)h.version,
                    (unsigned)MD_VERSION);
    read_directory(&rd, &h);
    mdr_index_code(&rd);
    pid_from_status(md);
    name_from_status(&rd);
    if (rd.nomem) {
        snprintf(err, errlen, "out of memory");
        return MDR_NOMEM;
    }
    if (md->nwarnings)
        snprintf(err, errlen, "%s", md->warnings[0]);
    return MDR_OK;
}

/* Every offset in a minidump is a u32 rva: bytes past 4 GiB can never be referenced, so they are not read. */
#define MDR_MAX_FILE ((uint64_t)UINT32_MAX + 1)

int mdr_read_fd(int fd, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    size_t cap = 0;

    *buf = NULL;
    *len = 0;
    while (*len < MDR_MAX_FILE) {
        if (mdr_grow((void **)buf, &cap, *len + 1, 1, 1 << 16) < 0) {
            free(*buf);
            *buf = NULL;
            snprintf(err, errlen, "out of memory reading the dump");
            return MDR_NOMEM;
        }
        size_t want = cap - *len < MDR_MAX_FILE - *len ? cap - *len : (size_t)(MDR_MAX_FILE - *len);
        ssize_t got = read(fd, *buf + *len, want);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(err, errlen, "cannot read: %s", strerror(errno));
            free(*buf);
            *buf = NULL;
            return MDR_IO;
        }
        if (got == 0)
            break;
        *len += (size_t)got;
        /* Stop at once on something that is not a minidump (a device, a huge unrelated file). */
        if (*len >= 4 && memcmp(*buf, "MDMP", 4) != 0)
            break;
    }
    return MDR_OK;
}

int mdr_open_file(struct mdr_dump *md, const char *path, char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    memset(md, 0, sizeof *md);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return MDR_IO;
    }
    int rc = mdr_read_fd(fd, &buf, &len, err, errlen);
    close(fd);
    if (rc != MDR_OK)
        return rc;
    rc = mdr_open(md, buf, len, err, errlen);
    md->owned = buf;
    return rc;
}

void mdr_close(struct mdr_dump *md)
{
    size_t i;

    for (i = 0; i < md->nthreads; i++)
        free(md->threads[i].name);
    free(md->threads);
    for (i = 0; i < md->nmodules; i++) {
        free(md->modules[i].path);
        free(md->modules[i].build_id);
    }
    free(md->modules);
    free(md->memory);
    free(md->streams);
    free(md->sysinfo.csd_version);
    free(md->process_name);
    free(md->lg.threads);
    free(md->lg.frames);
    free(md->go.goroutines);
    free(md->go.frames);
    for (i = 0; i < md->crashpad.nannotations; i++) {
        free(md->crashpad.annotations[i].key);
        free(md->crashpad.annotations[i].value);
    }
    free(md->crashpad.annotations);
    free(md->thread_order);
    free(md->module_order);
    free(md->code);
    for (i = 0; i < md->nwarnings; i++)
        free(md->warnings[i]);
    free(md->warnings);
    free(md->owned);
    memset(md, 0, sizeof *md);
}
