/* render_view.c — the merged view of a parsed dump that both renderers print (struct render_report).
 *
 * Normal context. Sources, best first: the lastgasp stream (signal, threads, symbolized frames), then the
 * standard streams (Exception, MiscInfo, ThreadList contexts and stack memory, walked by the reader's
 * mdr_walk()), so that a dump written by another producer (Breakpad, Crashpad) still renders. Memory is bounded
 * by the input: the reader guarantees that lastgasp thread frame ranges are disjoint, and a walk gives at most
 * MDR_WALK_MAX_FRAMES frames a thread; time too: all the walks of one report read at most MDR_WALK_DUMP_WORDS
 * stack words (a hostile dump may point every thread at the same stack), then threads get their context frame.
 */
#include "render.h"
#include "../minidump/minidump.h"

#include "../read/grow.h"

#include <stdlib.h>
#include <string.h>

/* The frame pool grows while threads are added, so threads keep the index of their first frame
 * (first[thread]) and get their pointers once the pool is complete. */
struct builder {
    struct render_report *r;
    const struct mdr_dump *md;
    size_t npool, pool_cap;
    size_t *first;          /* per thread of r->threads: index of its first frame in the pool */
    size_t walk_words;      /* stack words the walks of this report may still read */
    unsigned char *md_used; /* ThreadList entries already shown through a lastgasp thread record */
};

/* Room for n more frames in the pool; 0, or -1 when memory ran out. */
static int reserve(struct builder *b, size_t n)
{
    if (n > SIZE_MAX - b->npool)
        return -1;
    return mdr_grow((void **)&b->r->frame_pool, &b->pool_cap, b->npool + n, sizeof *b->r->frame_pool, 256);
}

const char *render_path_basename(const char *path)
{
    const char *slash;

    if (!path)
        return NULL;
    slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

static const char *trust_name(uint8_t trust)
{
    switch (trust) {
    case LG_TRUST_CONTEXT: return "context";
    case LG_TRUST_CFI: return "cfi";
    case LG_TRUST_FP: return "fp";
    case LG_TRUST_SCAN: return "scan";
    default: return NULL;
    }
}

static const char *status_name(uint32_t status)
{
    switch (status) {
    case LG_THREAD_OK: return "ok";
    case LG_THREAD_NO_ANSWER: return "no_answer";
    case LG_THREAD_GONE: return "gone";
    default: return NULL;
    }
}

static void set_module(struct render_frame *f, const struct mdr_module *m)
{
    if (m && m->path) {
        f->module = render_path_basename(m->path);
        f->module_base = m->base;
        f->module_entry = m;
    }
}

/* The thread's registers: the Exception stream's context for the crashing thread (the ThreadList entry of
 * the crashing thread may hold the handler's registers rather than the fault's), else its ThreadList one. */
static const struct mdr_context *thread_ctx(const struct mdr_dump *md, uint32_t tid, int crashed,
                                               const struct mdr_thread *mt)
{
    const struct mdr_exception *e = &md->exception;

    if (crashed && e->present && e->tid == tid && e->ctx.arch != MDR_ARCH_NONE)
        return &e->ctx;
    if (mt && mt->ctx.arch != MDR_ARCH_NONE)
        return &mt->ctx;
    return NULL;
}

/* The frames a context gives: its pc, then what the reader's walk finds in the thread's stack memory (mt; NULL
 * when the thread is not in the ThreadList). */
static int context_frames(struct builder *b, struct render_thread *t, const struct mdr_thread *mt)
{
    struct mdr_walk_frame wf[MDR_WALK_MAX_FRAMES];
    size_t n;

    if (!t->ctx) {
        t->no_frames_why = "no CPU context in the dump";
        return 0;
    }
    if (!t->ctx->nregs) {
        t->no_frames_why = "CPU context of an unsupported architecture";
        return 0;
    }
    n = mdr_walk(b->md, mt, t->ctx, wf, MDR_WALK_MAX_FRAMES, &b->walk_words);
    if (reserve(b, n) != 0)
        return -1;
    b->first[t - b->r->threads] = b->npool;
    for (size_t i = 0; i < n; i++) {
        struct render_frame *f = &b->r->frame_pool[b->npool++];
        /* A return address may be one past the end of its caller's module: look up the call instead. */
        uint64_t where = i > 0 && wf[i].pc > 0 ? wf[i].pc - 1 : wf[i].pc;

        memset(f, 0, sizeof *f);
        f->pc = wf[i].pc;
        f->trust = trust_name(wf[i].trust);
        set_module(f, mdr_module_at(b->md, where));
    }
    t->nframes = n;
    return 0;
}

static int add_lg_thread(struct builder *b, const struct mdr_lg_thread *lt)
{
    const struct mdr_dump *md = b->md;
    struct render_thread *t = &b->r->threads[b->r->nthreads++];
    const struct mdr_thread *mt = mdr_thread_by_tid(md, lt->tid);

    if (mt)
        b->md_used[mt - md->threads] = 1;
    t->tid = lt->tid;
    t->name = lt->name ? lt->name : mt ? mt->name : NULL;
    t->crashed = lt->crashed || (md->lg.crashing_tid == lt->tid);
    t->status = status_name(lt->status);
    t->ctx = thread_ctx(md, lt->tid, t->crashed, mt);
    if (lt->frame_count == 0) {
        if (context_frames(b, t, mt) != 0)
            return -1;
        if (t->nframes == 0 && lt->status == LG_THREAD_NO_ANSWER)
            t->no_frames_why = "did not answer the capture signal in time";
        else if (t->nframes == 0 && lt->status == LG_THREAD_GONE)
            t->no_frames_why = "exited before it could be captured";
        return 0;
    }
    /* The reader clamps frame ranges into frames[]: this bound only guards models built by other means. */
    if ((uint64_t)lt->first_frame + lt->frame_count > md->lg.nframes)
        return 0;
    if (reserve(b, lt->frame_count) != 0)
        return -1;
    b->first[t - b->r->threads] = b->npool;
    for (uint32_t i = 0; i < lt->frame_count; i++) {
        const struct mdr_lg_frame *lf = &md->lg.frames[lt->first_frame + i];
        struct render_frame *f = &b->r->frame_pool[b->npool++];
        /* A return address may be one past the end of its caller's module: look up the call instead. */
        uint64_t where = i > 0 && lf->pc > 0 ? lf->pc - 1 : lf->pc;

        memset(f, 0, sizeof *f);
        f->pc = lf->pc;
        f->function = lf->symbol;
        f->has_offset = lf->symbol != NULL && !lf->inlined;
        f->file = lf->file;
        f->line = lf->line;
        f->inlined = lf->inlined;
        f->offset = lf->symbol_delta;
        f->trust = trust_name(lf->trust);
        set_module(f, lf->module_index < md->nmodules ? &md->modules[lf->module_index]
                                                      : mdr_module_at(md, where));
    }
    t->nframes = lt->frame_count;
    return 0;
}

static int add_md_thread(struct builder *b, const struct mdr_thread *mt)
{
    struct render_report *r = b->r;
    struct render_thread *t = &r->threads[r->nthreads++];

    t->tid = mt->tid;
    t->name = mt->name;
    t->crashed = r->has_crashing_tid && r->crashing_tid == mt->tid;
    t->ctx = thread_ctx(b->md, mt->tid, t->crashed, mt);
    return context_frames(b, t, mt);
}

static void signal_info(struct render_report *r, const struct mdr_dump *md)
{
    const struct mdr_lg_info *lg = &md->lg;

    if (lg->present) {
        r->has_signal = 1;
        r->signo = lg->signal;
        r->code = lg->si_code;
        r->address = lg->fault_address;
        r->has_pid = 1;
        r->pid = lg->pid;
        r->has_crashing_tid = 1;
        r->crashing_tid = lg->crashing_tid;
        r->has_sender = lg->si_code <= 0 && lg->sender_pid != 0;
        r->sender_pid = lg->sender_pid;
        r->sender_uid = lg->sender_uid;
        r->has_time = lg->time_ns != 0;
        r->time_ns = lg->time_ns;
        r->notes = lg->notes;
        return;
    }
    if (md->exception.present) {
        r->has_signal = 1;
        r->signo = md->exception.code;
        r->code = (int32_t)md->exception.flags;
        r->address = md->exception.address;
        r->has_crashing_tid = 1;
        r->crashing_tid = md->exception.tid;
    }
    r->has_pid = md->has_pid;
    r->pid = md->pid;
}

/* Stable partition: crashing thread(s) first, the others in dump order. */
static int crashed_first(struct render_report *r)
{
    struct render_thread *sorted = calloc(r->nthreads ? r->nthreads : 1, sizeof *sorted);
    size_t n = 0;

    if (!sorted)
        return -1;
    for (int pass = 1; pass >= 0; pass--)
        for (size_t i = 0; i < r->nthreads; i++)
            if (!!r->threads[i].crashed == pass)
                sorted[n++] = r->threads[i];
    free(r->threads);
    r->threads = sorted;
    return 0;
}

int render_report_build(struct render_report *r, const struct mdr_dump *md)
{
    struct builder b = { .r = r, .md = md, .walk_words = MDR_WALK_DUMP_WORDS };
    const struct mdr_exception *e = &md->exception;
    size_t max_threads = md->lg.nthreads + md->nthreads + 1;

    memset(r, 0, sizeof *r);
    signal_info(r, md);
    r->threads = calloc(max_threads, sizeof *r->threads);
    b.first = calloc(max_threads, sizeof *b.first);
    b.md_used = calloc(md->nthreads + 1, 1);
    if (!r->threads || !b.first || !b.md_used || reserve(&b, md->lg.nframes + 1) != 0)
        goto nomem;
    for (size_t i = 0; i < md->lg.nthreads; i++)
        if (add_lg_thread(&b, &md->lg.threads[i]) != 0)
            goto nomem;
    for (size_t i = 0; i < md->nthreads; i++)
        if (!b.md_used[i] && add_md_thread(&b, &md->threads[i]) != 0)
            goto nomem;
    /* A dump whose ThreadList lacks the crashing thread still has its registers in the Exception stream. */
    if (!md->lg.present && e->present && !mdr_thread_by_tid(md, e->tid)) {
        struct render_thread *t = &r->threads[r->nthreads++];

        t->tid = e->tid;
        t->crashed = 1;
        t->ctx = e->ctx.arch != MDR_ARCH_NONE ? &e->ctx : NULL;
        if (context_frames(&b, t, NULL) != 0)
            goto nomem;
    }
    for (size_t i = 0; i < r->nthreads; i++)
        if (r->threads[i].nframes)
            r->threads[i].frames = &r->frame_pool[b.first[i]];
    free(b.md_used);
    free(b.first);
    b.md_used = NULL;
    b.first = NULL;
    if (crashed_first(r) == 0)
        return 0;
nomem:
    free(b.md_used);
    free(b.first);
    render_report_free(r);
    return -1;
}

void render_report_free(struct render_report *r)
{
    free(r->threads);
    free(r->frame_pool);
    memset(r, 0, sizeof *r);
}
