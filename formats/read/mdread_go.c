/* mdread_go.c — parser for lastgasp's Go stream (LG_STREAM_GO, formats/README.md): goroutines and their
 * symbolized frames.
 *
 * Normal context. The stream is laid out like the crash-info stream (header, records, strings), so the area
 * and string checks are mdread_lg.c's, and the same forward-compatibility rule holds: a header or record
 * larger than v1 is read for its v1 fields and the rest skipped. One difference is by design: goroutines with
 * identical stacks point at the same frame records, so overlapping frame ranges are kept, not cut; each range
 * is only checked against frames[] and bounded (MDR_GO_MAX_GOROUTINE_FRAMES).
 */
#include "mdread_int.h"

#include <string.h>

static void go_frames(struct mdr_reader *rd, const struct mdr_lg_strtab *l, uint64_t off, size_t n, uint32_t size)
{
    struct mdr_go_info *go = &rd->md->go;

    go->frames = mdr_calloc(rd, n, sizeof *go->frames);
    if (!go->frames)
        return;
    go->nframes = n;
    for (size_t i = 0; i < n; i++) {
        struct mdr_go_frame *f = &go->frames[i];
        struct lg_go_frame raw;

        memcpy(&raw, l->s->p + off + i * size, sizeof raw);
        f->pc = raw.pc;
        f->function = mdr_lg_string(rd, l, raw.function_off, "frame", i, "function");
        f->file = mdr_lg_string(rd, l, raw.file_off, "frame", i, "file");
        f->line = raw.line;
        f->inlined = (raw.flags & LG_GO_FRAME_INLINED) != 0;
        f->native = (raw.flags & LG_GO_FRAME_NATIVE) != 0;
        if (raw.flags & LG_GO_FRAME_ELIDED) {
            f->elided = raw.line > 0 ? (uint32_t)raw.line : 1;
            f->line = 0;
            f->inlined = 0;
        }
    }
}

/* Point the goroutine at its frames: clamped into frames[] (as the crash info clamps a thread's), then cut at
 * the reader's bound. Overlap with other goroutines is how the writer shares stacks, so it is not checked. */
static void go_frame_range(struct mdr_reader *rd, struct mdr_go_goroutine *g, size_t idx, uint32_t first,
                           uint32_t count)
{
    const struct mdr_go_info *go = &rd->md->go;

    if ((uint64_t)first + count > go->nframes) {
        mdr_warn(rd, "lastgasp Go: goroutine %zu (goid %llu): frames %u..%llu outside the %zu frame records",
                    idx, (unsigned long long)g->goid, (unsigned)first, (unsigned long long)first + count,
                    go->nframes);
        if (first > go->nframes)
            first = (uint32_t)go->nframes;
        count = (uint32_t)(go->nframes - first);
    }
    if (count > MDR_GO_MAX_GOROUTINE_FRAMES) {
        mdr_warn(rd, "lastgasp Go: goroutine %zu (goid %llu): %u frames, more than the reader's bound of %u; "
                    "cut", idx, (unsigned long long)g->goid, (unsigned)count, MDR_GO_MAX_GOROUTINE_FRAMES);
        count = MDR_GO_MAX_GOROUTINE_FRAMES;
    }
    g->frames = count ? &go->frames[first] : NULL;
    g->nframes = count;
}

static void go_goroutines(struct mdr_reader *rd, const struct mdr_lg_strtab *l, uint64_t off, size_t n, uint32_t size)
{
    struct mdr_go_info *go = &rd->md->go;

    go->goroutines = mdr_calloc(rd, n, sizeof *go->goroutines);
    if (!go->goroutines)
        return;
    go->ngoroutines = n;
    for (size_t i = 0; i < n; i++) {
        struct mdr_go_goroutine *g = &go->goroutines[i];
        struct lg_go_goroutine raw;

        memcpy(&raw, l->s->p + off + i * size, sizeof raw);
        g->goid = raw.goid;
        g->parent_goid = raw.parent_goid;
        g->wait_since_ns = raw.wait_since_ns;
        g->status = raw.status;
        g->wait_reason = mdr_lg_string(rd, l, raw.wait_reason_off, "goroutine", i, "wait_reason");
        g->flags = raw.flags;
        g->thread_tid = raw.thread_tid;
        go_frame_range(rd, g, i, raw.first_frame, raw.frame_count);
        g->created_by_function = mdr_lg_string(rd, l, raw.created_by_function_off, "goroutine", i,
                                                  "created_by_function");
        g->created_by_file = mdr_lg_string(rd, l, raw.created_by_file_off, "goroutine", i,
                                              "created_by_file");
        g->created_by_line = raw.created_by_line;
    }
}

void mdr_read_go(struct mdr_reader *rd, const struct mdr_span *s)
{
    struct mdr_go_info *go = &rd->md->go;
    struct mdr_lg_strtab l = { .s = s, .name = "lastgasp Go" };
    struct lg_go_header h;
    uint64_t off, gor_off, frm_off;
    size_t ngor, nfrm;

    if (s->n < 8) {
        mdr_warn(rd, "lastgasp Go: stream is 0x%zx bytes, too short for a header; ignored", s->n);
        return;
    }
    memcpy(&h, s->p, 8);
    if (h.version == 0 || h.header_size < sizeof h || h.header_size > s->n) {
        mdr_warn(rd, "lastgasp Go: version %u header_size 0x%x unusable (v1 header 0x%zx, stream 0x%zx "
                    "bytes); ignored", (unsigned)h.version, (unsigned)h.header_size, sizeof h, s->n);
        return;
    }
    memcpy(&h, s->p, sizeof h);
    go->present = 1;
    go->version = h.version;
    go->header_size = h.header_size;
    go->flags = h.flags;
    go->crashing_goid = h.crashing_goid;
    go->now_ns = h.now_ns;

    off = gor_off = h.header_size;
    ngor = mdr_lg_area(rd, &l, &off, h.goroutine_count, h.goroutine_record_size,
                          sizeof(struct lg_go_goroutine), "goroutine");
    frm_off = off;
    nfrm = mdr_lg_area(rd, &l, &off, h.frame_count, h.frame_record_size, sizeof(struct lg_go_frame),
                          "frame");
    mdr_lg_strings(rd, &l, off, h.strings_size);
    go->go_version = mdr_lg_string(rd, &l, h.go_version_off, "go_version", SIZE_MAX, NULL);
    go->build_info = mdr_lg_string(rd, &l, h.build_info_off, "build_info", SIZE_MAX, NULL);
    /* Frames first: goroutine ranges are checked against the number of frames actually read. */
    go_frames(rd, &l, frm_off, nfrm, h.frame_record_size);
    go_goroutines(rd, &l, gor_off, ngor, h.goroutine_record_size);
    go->notes = mdr_lg_string(rd, &l, h.notes_off, "notes", SIZE_MAX, NULL);
    /* v1 wrote 0 there (reserved), which is a valid string offset: only v2 and later have a reason. */
    go->reason = h.version >= 2 ? mdr_lg_string(rd, &l, h.reason_off, "reason", SIZE_MAX, NULL) : NULL;
}
