/* render_go.c — the goroutines of `lastgasp show`, and the Go helpers (grouping included) the renderers share.
 *
 * Normal context. The crashing goroutine comes first, printed as the Go runtime prints a traceback
 * (runtime/traceback.go: goroutineheader, traceback1, printcreatedby), so that it reads like any Go crash.
 * The others are grouped: goroutines with the same state, creator and stack print once, under a line that
 * counts them and lists their ids, since a leak of ten thousand goroutines parked in one place is one fact.
 * Grouping sorts pointers once: O(n log n) comparisons of at most MDR_GO_MAX_GOROUTINE_FRAMES frames each.
 * Every string from the dump goes through render_put_text().
 */
#include "render.h"
#include "../minidump/minidump.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define GO_STATUS_SYSCALL 3 /* runtime _Gsyscall */
#define GO_STATUS_WAITING 4 /* runtime _Gwaiting */
#define GO_GROUP_IDS 10     /* goroutine ids listed in a group's line before "..." */

/* runtime2.go, _Gidle (0) to _Gdeadextra (11), without the _G. */
static const char *const go_status_names[] = {
    "idle", "runnable", "running", "syscall", "waiting", "moribund_unused", "dead", "enqueue_unused",
    "copystack", "preempted", "leaked", "deadextra",
};

const char *render_go_status_name(uint32_t status)
{
    return status < sizeof go_status_names / sizeof go_status_names[0] ? go_status_names[status] : NULL;
}

int render_go_crashed(const struct mdr_go_info *go, const struct mdr_go_goroutine *g)
{
    return (g->flags & LG_GOROUTINE_CRASHED) || (go->crashing_goid != 0 && g->goid == go->crashing_goid);
}

int render_go_wait_minutes(const struct mdr_go_info *go, const struct mdr_go_goroutine *g, uint64_t *minutes)
{
    if (g->wait_since_ns == 0 || g->wait_since_ns > go->now_ns)
        return 0;
    *minutes = (go->now_ns - g->wait_since_ns) / 60000000000u;
    return 1;
}

const struct mdr_module *render_go_frame_module_at(const struct mdr_dump *md, const struct mdr_go_goroutine *g,
                                                   size_t k)
{
    const struct mdr_go_frame *f = &g->frames[k];
    /* The innermost physical frame (frame 0, and the inlined frames sharing its pc) holds an exact pc; the
     * others hold return addresses, which may lie one past the end of the caller's module. */
    uint64_t where = f->pc != g->frames[0].pc && f->pc > 0 ? f->pc - 1 : f->pc;

    return mdr_module_at(md, where);
}

const char *render_go_frame_module(const struct mdr_dump *md, const struct mdr_go_goroutine *g, size_t k)
{
    const struct mdr_module *m = render_go_frame_module_at(md, g, k);

    return m ? render_path_basename(m->path) : NULL;
}

const char *render_go_state(const struct mdr_go_goroutine *g)
{
    if (g->status == GO_STATUS_WAITING && g->wait_reason && g->wait_reason[0])
        return g->wait_reason;
    return render_go_status_name(g->status);
}

int render_go_shows_wait(const struct mdr_go_info *go, const struct mdr_go_goroutine *g, uint64_t *minutes)
{
    /* As the runtime does: the wait is shown for waiting and syscall goroutines only, from one minute on. */
    return (g->status == GO_STATUS_WAITING || g->status == GO_STATUS_SYSCALL) && render_go_wait_minutes(go, g, minutes) &&
           *minutes >= 1;
}

/* ---- grouping: shared by show and html ---- */

static int cmp_str(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }

/* A total order on what a group prints once (state, stack, creator); 0 when two goroutines print alike. */
static int group_cmp(const struct mdr_go_goroutine *a, const struct mdr_go_goroutine *b)
{
    int c;

    if ((c = cmp_u64(a->status, b->status)) || (c = cmp_str(a->wait_reason, b->wait_reason)) ||
        (c = cmp_u64(a->flags & LG_GOROUTINE_TRUNCATED, b->flags & LG_GOROUTINE_TRUNCATED)) ||
        (c = cmp_str(a->created_by_function, b->created_by_function)) ||
        (c = cmp_str(a->created_by_file, b->created_by_file)) ||
        (c = cmp_u64((uint64_t)(int64_t)a->created_by_line, (uint64_t)(int64_t)b->created_by_line)) ||
        (c = cmp_u64(a->nframes, b->nframes)))
        return c;
    if (a->frames == b->frames) /* shared records: the writer found the stacks identical */
        return 0;
    for (size_t k = 0; k < a->nframes; k++) {
        const struct mdr_go_frame *x = &a->frames[k], *y = &b->frames[k];

        if ((c = cmp_u64(x->pc, y->pc)) || (c = x->inlined - y->inlined) ||
            (c = cmp_u64((uint64_t)(int64_t)x->line, (uint64_t)(int64_t)y->line)) ||
            (c = cmp_str(x->function, y->function)) || (c = cmp_str(x->file, y->file)))
            return c;
    }
    return 0;
}

/* Goroutines by group, and within one group in dump order (the records are an array: address order). */
static int member_cmp(const void *x, const void *y)
{
    const struct mdr_go_goroutine *a = *(const struct mdr_go_goroutine *const *)x;
    const struct mdr_go_goroutine *b = *(const struct mdr_go_goroutine *const *)y;
    int c = group_cmp(a, b);

    return c ? c : (a > b) - (a < b);
}

/* Groups in the dump order of their first goroutine. */
static int group_order_cmp(const void *x, const void *y)
{
    const struct mdr_go_goroutine *a = ((const struct render_go_group *)x)->members[0];
    const struct mdr_go_goroutine *b = ((const struct render_go_group *)y)->members[0];

    return (a > b) - (a < b);
}

int render_go_group(struct render_go_groups *gs, const struct mdr_go_info *go)
{
    size_t n = 0;

    memset(gs, 0, sizeof *gs);
    if (!go->present || go->ngoroutines == 0)
        return 0;
    gs->members = calloc(go->ngoroutines, sizeof *gs->members);
    gs->groups = calloc(go->ngoroutines, sizeof *gs->groups);
    if (!gs->members || !gs->groups) {
        render_go_groups_free(gs);
        return -1;
    }
    for (size_t i = 0; i < go->ngoroutines; i++)
        if (!render_go_crashed(go, &go->goroutines[i]))
            gs->members[n++] = &go->goroutines[i];
    qsort(gs->members, n, sizeof *gs->members, member_cmp);
    for (size_t i = 0; i < n; i++) {
        struct render_go_group *gr;

        if (i == 0 || group_cmp(gs->members[i - 1], gs->members[i]) != 0)
            gs->groups[gs->ngroups++] = (struct render_go_group){ &gs->members[i], 0, gs->members[i]->parent_goid };
        gr = &gs->groups[gs->ngroups - 1];
        /* "in goroutine N" only when it is true of them all. */
        if (gs->members[i]->parent_goid != gr->parent_goid)
            gr->parent_goid = 0;
        gr->count++;
    }
    qsort(gs->groups, gs->ngroups, sizeof *gs->groups, group_order_cmp);
    return 0;
}

void render_go_groups_free(struct render_go_groups *gs)
{
    free(gs->members);
    free(gs->groups);
    memset(gs, 0, sizeof *gs);
}

/* ---- show ---- */

/* The word in brackets: the wait reason of a waiting goroutine, else its status. */
static void put_state(FILE *out, const struct mdr_go_goroutine *g)
{
    const char *word = render_go_state(g);

    if (word)
        render_put_text(out, word, NULL, 0);
    else
        fprintf(out, "status %" PRIu32, g->status);
}

/* "goroutine 7 [chan receive, 3 minutes, locked to thread]:" */
static void header(FILE *out, const struct mdr_go_info *go, const struct mdr_go_goroutine *g)
{
    uint64_t minutes;

    fprintf(out, "\ngoroutine %" PRIu64 " [", g->goid);
    put_state(out, g);
    if (render_go_shows_wait(go, g, &minutes))
        fprintf(out, ", %" PRIu64 " minutes", minutes);
    if (g->flags & LG_GOROUTINE_LOCKED)
        fputs(", locked to thread", out);
    fputs("]:\n", out);
}

/* One line for the function, one for its file:line. The runtime prints "(...)" for an inlined frame and the
 * arguments otherwise; the dump holds no arguments, hence "()". Its "+0x1d" (pc - function entry) is not in
 * the dump either: physical frames show their pc instead, as GOTRACEBACK=system does. */
static void stack(FILE *out, const struct mdr_go_goroutine *g)
{
    for (size_t k = 0; k < g->nframes; k++) {
        const struct mdr_go_frame *f = &g->frames[k];

        if (f->elided) {
            fprintf(out, "...%" PRIu32 " frames elided...\n", f->elided);
            continue;
        }
        if (f->native) { /* C code of the cgo call: file and line only from debug info (formats/debuginfo/debuginfo.c) */
            render_put_text(out, f->function, "??", 0);
            fputs(f->inlined ? " (inlined)\n\t(C) " : "\n\t(C) ", out);
            if (f->file) {
                render_put_text(out, f->file, NULL, 0);
                if (f->line)
                    fprintf(out, ":%" PRId32, f->line);
                fputc(' ', out);
            }
            fprintf(out, "pc=0x%" PRIx64 "\n", f->pc);
            continue;
        }
        render_put_text(out, f->function, "??", 0);
        fputs(f->inlined ? "(...)\n\t" : "()\n\t", out);
        render_put_text(out, f->file, "??", 0);
        if (f->line)
            fprintf(out, ":%" PRId32, f->line);
        if (!f->inlined)
            fprintf(out, " pc=0x%" PRIx64, f->pc);
        fputc('\n', out);
    }
    if (g->flags & LG_GOROUTINE_TRUNCATED)
        fputs("...additional frames elided...\n", out);
}

/* "created by main.main in goroutine 1", then the file:line of the go statement; parent 0 is not printed. */
static void created_by(FILE *out, const struct mdr_go_goroutine *g, uint64_t parent)
{
    if (!g->created_by_function && !g->created_by_file)
        return;
    fputs("created by ", out);
    render_put_text(out, g->created_by_function, "??", 0);
    if (parent)
        fprintf(out, " in goroutine %" PRIu64, parent);
    fputs("\n\t", out);
    render_put_text(out, g->created_by_file, "??", 0);
    if (g->created_by_line)
        fprintf(out, ":%" PRId32, g->created_by_line);
    fputc('\n', out);
}

/* A group of one prints as the runtime would print it; a larger one as
 * "3 goroutines [chan receive]: 7, 8, 9" and the stack they share. */
static void group_block(FILE *out, const struct mdr_go_info *go, const struct render_go_group *gr)
{
    const struct mdr_go_goroutine *g = gr->members[0];

    if (gr->count == 1) {
        header(out, go, g);
    } else {
        fprintf(out, "\n%zu goroutines [", gr->count);
        put_state(out, g);
        fputs("]:", out);
        for (size_t i = 0; i < gr->count && i < GO_GROUP_IDS; i++)
            fprintf(out, "%s %" PRIu64, i ? "," : "", gr->members[i]->goid);
        fputs(gr->count > GO_GROUP_IDS ? ", ...\n" : "\n", out);
    }
    stack(out, g);
    created_by(out, g, gr->parent_goid);
}

int render_show_go(FILE *out, const struct mdr_dump *md)
{
    const struct mdr_go_info *go = &md->go;
    struct render_go_groups gs;
    size_t ncrashed = 0;

    if (!go->present)
        return 0;
    /* Why it died, as the runtime's first lines said it, then its goroutines: the order of Go's own
     * crash output. Newlines and tabs kept (nested panics are tab-indented), other controls shown as '?'. */
    if (go->reason && *go->reason) {
        size_t n = strlen(go->reason);
        fputc('\n', out);
        render_put_text(out, go->reason, NULL, 1);
        if (go->reason[n - 1] != '\n')
            fputc('\n', out);
    }
    if (go->ngoroutines == 0) {
        fputs("\nNo goroutines in the Go stream.\n", out);
        return 0;
    }
    if (render_go_group(&gs, go) != 0)
        return -1;
    for (size_t i = 0; i < go->ngoroutines; i++) {
        const struct mdr_go_goroutine *g = &go->goroutines[i];

        if (!render_go_crashed(go, g))
            continue;
        header(out, go, g);
        stack(out, g);
        created_by(out, g, g->parent_goid);
        ncrashed++;
    }
    if (ncrashed == 0 && go->crashing_goid == 0)
        fputs("\nNo goroutine was running on the crashing thread (a C thread, or the Go scheduler).\n", out);
    else if (ncrashed == 0)
        fprintf(out, "\nThe crashing goroutine %" PRIu64 " is not in the dump.\n", go->crashing_goid);
    for (size_t i = 0; i < gs.ngroups; i++)
        group_block(out, go, &gs.groups[i]);
    render_go_groups_free(&gs);
    return 0;
}
