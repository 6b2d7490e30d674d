/* mdread_lg.c — parser for lastgasp's crash-info stream (LG_STREAM_CRASH_INFO, formats/README.md), and the
 * pieces that lastgasp's Go stream (mdread_go.c) lays out the same way: record areas and the strings area.
 *
 * Normal context. Forward compatibility is the writer's promise and this file's duty: a header or record
 * larger than the v1 size is read for its v1 fields and the rest skipped, so newer writers stay readable.
 * Offsets within the stream are computed in u64 and checked one area at a time, so no sum can wrap.
 */
#include "mdread_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared with mdread_go.c ---- */

const char *mdr_lg_string(struct mdr_reader *rd, const struct mdr_lg_strtab *l, uint32_t off, const char *what,
                             size_t idx, const char *field)
{
    char who[64];
    int n;

    if (off == LG_NONE)
        return NULL;
    if (idx == SIZE_MAX)
        n = snprintf(who, sizeof who, "%s", what);
    else
        n = snprintf(who, sizeof who, "%s %zu", what, idx);
    if (field && n >= 0 && (size_t)n < sizeof who)
        snprintf(who + n, sizeof who - (size_t)n, " %s", field);
    if (off >= l->strings_len) {
        mdr_warn(rd, "%s: %s: string offset 0x%x outside the strings area (size 0x%zx)", l->name, who,
                    (unsigned)off, l->strings_len);
        return NULL;
    }
    if (!memchr(l->strings + off, '\0', l->strings_len - off)) {
        mdr_warn(rd, "%s: %s: string at offset 0x%x not NUL-terminated within the strings area "
                    "(size 0x%zx)", l->name, who, (unsigned)off, l->strings_len);
        return NULL;
    }
    return (const char *)(l->strings + off);
}

size_t mdr_lg_area(struct mdr_reader *rd, const struct mdr_lg_strtab *l, uint64_t *off, uint32_t count,
                      uint32_t size, size_t v1_size, const char *what)
{
    uint64_t n = l->s->n, need = (uint64_t)count * size, start = *off;
    size_t fit;

    if (start > n) {
        /* An earlier area already passes the end, so this one does too; *off stays past the end. */
        if (count)
            mdr_warn(rd, "%s: %u %s records start past end of stream", l->name, (unsigned)count, what);
        return 0;
    }
    *off = start + need; /* start <= n <= 4 GiB and need < 2^64 - 2^33: no wrap */
    if (count == 0)
        return 0;
    if (size < v1_size) {
        mdr_warn(rd, "%s: %s record size %u is smaller than v1's %zu; %u records ignored", l->name, what,
                    (unsigned)size, v1_size, (unsigned)count);
        return 0;
    }
    fit = (size_t)((n - start) / size);
    if (fit >= count)
        return count;
    mdr_warn(rd, "%s: %u %s records of %u bytes at offset 0x%llx pass end of stream (size 0x%llx); "
                "reading %zu", l->name, (unsigned)count, what, (unsigned)size, (unsigned long long)start,
                (unsigned long long)n, fit);
    return fit;
}

void mdr_lg_strings(struct mdr_reader *rd, struct mdr_lg_strtab *l, uint64_t off, uint32_t size)
{
    const struct mdr_span *s = l->s;

    l->strings = NULL;
    l->strings_len = 0;
    if (off <= s->n) {
        l->strings = s->p + off;
        l->strings_len = s->n - off < size ? (size_t)(s->n - off) : size;
        if (l->strings_len < size)
            mdr_warn(rd, "%s: strings area at offset 0x%llx size 0x%x passes end of stream (size 0x%zx)",
                        l->name, (unsigned long long)off, (unsigned)size, s->n);
    } else if (size) {
        mdr_warn(rd, "%s: strings area starts past end of stream", l->name);
    }
}

/* ---- the crash-info stream ---- */

static void lg_threads(struct mdr_reader *rd, const struct mdr_lg_strtab *l, uint64_t off, size_t n, uint32_t size)
{
    struct mdr_lg_info *lg = &rd->md->lg;

    lg->threads = mdr_calloc(rd, n, sizeof *lg->threads);
    if (!lg->threads)
        return;
    lg->nthreads = n;
    for (size_t i = 0; i < n; i++) {
        struct mdr_lg_thread *t = &lg->threads[i];
        struct lg_thread_record raw;

        memcpy(&raw, l->s->p + off + i * size, sizeof raw);
        t->tid = raw.tid;
        t->status = raw.status;
        t->first_frame = raw.first_frame;
        t->frame_count = raw.frame_count;
        t->name = mdr_lg_string(rd, l, raw.name_off, "thread", i, NULL);
        t->crashed = raw.crashed != 0;
        /* Clamp the frame range so that renderers can index frames[] without checking again. */
        if ((uint64_t)t->first_frame + t->frame_count > lg->nframes) {
            mdr_warn(rd, "lastgasp: thread %zu (tid %u): frames %u..%llu outside the %zu frame records", i,
                        (unsigned)t->tid, (unsigned)t->first_frame,
                        (unsigned long long)t->first_frame + t->frame_count, lg->nframes);
            if (t->first_frame > lg->nframes)
                t->first_frame = (uint32_t)lg->nframes;
            t->frame_count = (uint32_t)(lg->nframes - t->first_frame);
        }
    }
}

static void lg_frames(struct mdr_reader *rd, const struct mdr_lg_strtab *l, uint64_t off, size_t n, uint32_t size)
{
    struct mdr_lg_info *lg = &rd->md->lg;

    lg->frames = mdr_calloc(rd, n, sizeof *lg->frames);
    if (!lg->frames)
        return;
    lg->nframes = n;
    for (size_t i = 0; i < n; i++) {
        struct mdr_lg_frame *f = &lg->frames[i];
        struct lg_frame_record raw;

        memcpy(&raw, l->s->p + off + i * size, sizeof raw);
        f->pc = raw.pc;
        f->sp = raw.sp;
        f->module_index = raw.module_index;
        if (f->module_index != LG_NONE && f->module_index >= rd->md->nmodules) {
            mdr_warn(rd, "lastgasp: frame %zu: module index %u outside the ModuleList (%zu modules)", i,
                        (unsigned)f->module_index, rd->md->nmodules);
            f->module_index = LG_NONE;
        }
        f->symbol = mdr_lg_string(rd, l, raw.symbol_off, "frame", i, NULL);
        f->symbol_delta = raw.symbol_delta;
        f->trust = raw.trust;
    }
}

static uint64_t first_frame_key(const struct mdr_dump *md, size_t i) { return md->lg.threads[i].first_frame; }

/* Make the threads' frame ranges disjoint (the writer never shares frames between threads), so that what the
 * renderers print stays proportional to the file even when a hostile one points every thread at all frames. */
static void lg_disjoint(struct mdr_reader *rd)
{
    struct mdr_lg_info *lg = &rd->md->lg;
    size_t *order = mdr_sorted_order(rd, lg->nthreads, first_frame_key);
    uint64_t end = 0;

    for (size_t k = 0; order && k < lg->nthreads; k++) {
        struct mdr_lg_thread *t = &lg->threads[order[k]];
        uint64_t tend = (uint64_t)t->first_frame + t->frame_count;

        if (t->frame_count == 0)
            continue;
        if (t->first_frame < end) {
            mdr_warn(rd, "lastgasp: thread %zu (tid %u): frames %u..%llu overlap another thread's; cut",
                        order[k], (unsigned)t->tid, (unsigned)t->first_frame, (unsigned long long)tend);
            t->frame_count = tend > end ? (uint32_t)(tend - end) : 0;
            t->first_frame = tend > end ? (uint32_t)end : t->first_frame;
        }
        if (tend > end)
            end = tend;
    }
    free(order);
}

void mdr_read_lg(struct mdr_reader *rd, const struct mdr_span *s)
{
    struct mdr_lg_info *lg = &rd->md->lg;
    struct mdr_lg_strtab l = { .s = s, .name = "lastgasp" };
    struct lg_info_header h;
    uint64_t off, thr_off, frm_off;
    size_t nthr, nfrm;

    if (s->n < 8) {
        mdr_warn(rd, "lastgasp: stream is 0x%zx bytes, too short for a header; ignored", s->n);
        return;
    }
    memcpy(&h, s->p, 8);
    if (h.version == 0 || h.header_size < sizeof h || h.header_size > s->n) {
        mdr_warn(rd, "lastgasp: version %u header_size 0x%x unusable (v1 header 0x%zx, stream 0x%zx bytes); "
                    "ignored", (unsigned)h.version, (unsigned)h.header_size, sizeof h, s->n);
        return;
    }
    memcpy(&h, s->p, sizeof h);
    lg->present = 1;
    lg->version = h.version;
    lg->header_size = h.header_size;
    lg->signal = h.signal;
    lg->si_code = h.si_code;
    lg->fault_address = h.fault_address;
    lg->pid = h.pid;
    lg->crashing_tid = h.crashing_tid;
    lg->sender_pid = h.sender_pid;
    lg->sender_uid = h.sender_uid;
    lg->time_ns = h.time_ns;
    lg->flags = h.flags;

    off = thr_off = h.header_size;
    nthr = mdr_lg_area(rd, &l, &off, h.thread_count, h.thread_record_size, sizeof(struct lg_thread_record),
                          "thread");
    frm_off = off;
    nfrm = mdr_lg_area(rd, &l, &off, h.frame_count, h.frame_record_size, sizeof(struct lg_frame_record),
                          "frame");
    mdr_lg_strings(rd, &l, off, h.strings_size);
    /* Frames first: thread records are checked against the number of frames actually read. */
    lg_frames(rd, &l, frm_off, nfrm, h.frame_record_size);
    lg_threads(rd, &l, thr_off, nthr, h.thread_record_size);
    lg_disjoint(rd);
    lg->notes = mdr_lg_string(rd, &l, h.notes_off, "notes", SIZE_MAX, NULL);
}
