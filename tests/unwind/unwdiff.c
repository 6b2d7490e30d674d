/* unwdiff.c — lastgasp's unwinder against libunwind on the same stacks (README.md here says what "the same
 * frames" means and what each scenario covers).
 *
 * The program is one build variant (-O0/-O2, with or without frame pointers: the Makefile builds four). It
 * links the handler's own unwind objects as shipped (build/obj/reporter/...: unwind.o, <arch>/unwind_cfi.o,
 * symbols.o, modules.o) and libunwind, runs the generated chain (stacks.c) and, at each point a scenario
 * picks, gives both unwinders the same ucontext and compares the frames they return:
 *   context  getcontext() at the bottom of the chain;
 *   signal   a handler for a signal raised at the bottom (the interrupted pc in libc), for a fault in the
 *            bottom function (the interrupted pc in our code) and for its call through a null pointer (pc 0):
 *            from the signal's ucontext (the crash handler's own start, libunwind told it is a signal frame)
 *            and from the handler's own getcontext(), through the kernel's signal frame;
 *   thread   both again in a thread of its own;
 *   trace    the whole chain run under instruction tracing (<arch>/trace.c): both walks again at every
 *            instruction it executes, prologues, epilogues, PLT stubs, libc's qsort and the loader's lazy
 *            binder included.
 * libunwind (and printf) run in signal handlers here only because the interrupted code is known never to hold
 * a lock they want: the chain does not allocate (qsort sorts 8 ints on the stack), loads nothing, and the
 * lazy binder takes none of the loader's locks that dl_iterate_phdr takes. A crash handler cannot know that
 * (DESIGN.md: why lastgasp has its own unwinder); this test can.
 *
 * Exit status 0 when every compared stack was the same and every check against the source held; each
 * difference is printed with both walks side by side.
 */
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <link.h>
#include <libunwind.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "../../reporter/rep.h"
#include "unwdiff.h"

struct rep_state rep_g; /* install.c's in the library; the walk reads only the Go text range from it */

#define MAX_FRAMES 256
#define NAME_CAP 96

struct frame {
    uint64_t pc, sp;
    uint64_t look;  /* lastgasp's: the address it named (pc, or pc-1 for a return address) */
    uint64_t start; /* the named function's first address, 0 when unnamed */
    char name[NAME_CAP];
};

struct walk {
    int n;
    int faulted; /* libunwind's: it faulted reading memory (caught, see walk_libunwind) */
    struct frame f[MAX_FRAMES];
};

/* ---- the modules and the stack, read once before any scenario (nothing is loaded later) ---- */

static struct mdw_module g_mods[REP_MAX_MODULES];
static uint32_t g_nmods;
static struct ss_mapping g_mappings[REP_MAX_MAPPINGS];
static uint32_t g_nmappings;
static char g_maps[1 << 20];
static __thread uint64_t t_stack_hi; /* the end of the calling thread's stack mapping: the walk's upper bound */

/* Reads the modules, and the end of the calling thread's stack. Each thread calls it before its first walk. */
static void load_modules(void)
{
    int trunc;
    ssize_t n = ss_read_file(-100, "/proc/self/maps", g_maps, sizeof g_maps, &trunc);
    size_t pos = 0, len;
    const char *line;
    uint32_t nm = 0;
    while (n > 0 && nm < REP_MAX_MAPPINGS && ss_next_line(g_maps, (size_t)n, &pos, &line, &len))
        if (ss_parse_maps_line(line, len, &g_mappings[nm]))
            nm++;
    g_nmappings = nm;
    g_nmods = rep_collect_modules(g_mappings, nm, g_mods, REP_MAX_MODULES);
    uint64_t here = (uint64_t)(uintptr_t)&n;
    for (uint32_t i = 0; i < nm; i++)
        if (g_mappings[i].start <= here && here < g_mappings[i].end)
            t_stack_hi = g_mappings[i].end;
}

/* ---- the two walks ---- */

static void set_name(struct frame *f, const char *name, uint64_t start)
{
    snprintf(f->name, sizeof f->name, "%s", name ? name : "?");
    f->start = name ? start : 0;
}

/* lastgasp: rep_unwind from uc, then the names as report.c gives them (name_frames): a frame that is a
 * return address is looked up at pc-1, a frame whose pc came from a context (trust "context") at pc. Cold
 * caches every time, as in a report. */
static void walk_lastgasp(const ucontext_t *uc, struct walk *w)
{
    static struct lg_frame_record rec[MAX_FRAMES];
    rep_cfi_reset();
    rep_symbols_reset();
    /* The stack's bottom is left open: the main thread's grows below the mapping that was read. */
    w->n = (int)rep_unwind(uc, 0, t_stack_hi, g_mods, g_nmods, rec, MAX_FRAMES);
    for (int i = 0; i < w->n; i++) {
        struct frame *f = &w->f[i];
        f->pc = rec[i].pc;
        f->sp = rec[i].sp;
        uint64_t look = f->pc - (rec[i].trust != LG_TRUST_CONTEXT && f->pc > 0), start = 0;
        f->look = look;
        const char *name = rep_symbolize(g_mods, rep_module_index(g_mods, g_nmods, look), look, &start);
        set_name(f, name, start);
    }
}

/* libunwind's names, by (pc, exact): unw_get_proc_name maps the module's file each time, too slow for a walk
 * at every traced instruction. It looks a pc up at pc-1 unless the pc is exact (the start of a signal frame, or
 * the frame above a signal trampoline): `exact` keeps apart the two lookups a pc can have. (Not by the start of
 * the procedure unw_get_proc_info finds: that lookup alone took 0.4 ms a frame under qemu-user.) */
#define NAME_CACHE 4096
static struct {
    uint64_t pc, proc, start;
    int used;
    char name[NAME_CAP];
} g_unw_names[NAME_CACHE];

static void unw_name(unw_cursor_t *c, struct frame *f, int exact)
{
    uint64_t proc = (uint64_t)exact;
    uint32_t slot = (uint32_t)(((f->pc ^ proc * 31) * 0x9e3779b97f4a7c15ull) >> 52) % NAME_CACHE;
    if (!g_unw_names[slot].used || g_unw_names[slot].pc != f->pc || g_unw_names[slot].proc != proc) {
        char buf[NAME_CAP];
        unw_word_t off = 0;
        int ok = unw_get_proc_name(c, buf, sizeof buf, &off) == 0;
        g_unw_names[slot].used = 1;
        g_unw_names[slot].pc = f->pc;
        g_unw_names[slot].proc = proc;
        g_unw_names[slot].start = ok ? f->pc - off : 0;
        snprintf(g_unw_names[slot].name, NAME_CAP, "%s", ok ? buf : "?");
    }
    memcpy(f->name, g_unw_names[slot].name, NAME_CAP);
    f->start = g_unw_names[slot].start;
}

/* pc is a signal trampoline (the test's own reading, as libunwind's is_signal_frame reads it): on aarch64
 * mov x8, #139; svc #0, on x86_64 mov $15, %rax; syscall. ss_memread: the pc may be anything. */
static int at_sigreturn(uint64_t pc)
{
#if defined(__aarch64__)
    static const uint8_t code[8] = {0x68, 0x11, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4};
#else
    static const uint8_t code[9] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
#endif
    uint8_t got[sizeof code];
    return ss_memread(got, pc, sizeof got) == (ssize_t)sizeof got && memcmp(got, code, sizeof code) == 0;
}

static sigjmp_buf g_lu_jb;
static volatile int g_lu_active;

/* libunwind: unw_init_local2 from uc (told that it is a signal frame when it is: its pc is then exact, not a
 * return address), one frame per unw_step until it returns 0 (the end) or less (an error). */
static void walk_libunwind(ucontext_t *uc, int signal_frame, struct walk *w)
{
    unw_cursor_t c;
    w->n = 0;
    w->faulted = 0;
    /* libunwind 1.6 reads the stack without checking it can (its local accessors validate only some addresses):
     * from a wrong CFA it faults, which on_signal sends back here where SIGSEGV is not blocked (the trace
     * scenario); the walk so far is kept, marked faulted. */
    if (sigsetjmp(g_lu_jb, 1)) {
        g_lu_active = 0;
        w->faulted = 1;
        return;
    }
    g_lu_active = 1;
    /* aarch64's unw_context_t is a ucontext_t with a shorter __reserved area: its registers are the same. */
    if (unw_init_local2(&c, (unw_context_t *)uc, signal_frame ? UNW_INIT_SIGNAL_FRAME : 0) < 0) {
        g_lu_active = 0;
        return;
    }
    int exact = signal_frame;
    while (w->n < MAX_FRAMES) {
        struct frame *f = &w->f[w->n++];
        unw_word_t ip = 0, sp = 0;
        unw_get_reg(&c, UNW_REG_IP, &ip);
        unw_get_reg(&c, UNW_REG_SP, &sp);
        f->pc = ip;
        f->sp = sp;
        unw_name(&c, f, exact);
        exact = at_sigreturn(ip); /* the next frame is the interrupted one */
        if (unw_step(&c) <= 0)
            break;
    }
    g_lu_active = 0;
}

/* ---- comparing ---- */

static struct {
    unsigned long stacks, frames, differ;
} g_count[4];
static const char *const g_scenario_names[4] = {"context", "signal", "thread", "trace"};
enum { SC_CONTEXT, SC_SIGNAL, SC_THREAD, SC_TRACE };
static int g_shown, g_show_max = 5; /* differences printed in full (UNWDIFF_SHOW=n); the rest are counted */
static unsigned long g_checks_failed;

/* The one difference allowed, where a module has no symbol for the pc (libc's static functions: Debian strips
 * .symtab, and .dynsym names only the exported ones): libunwind then names the nearest function symbol below
 * the pc whatever its size (libunwind 1.6, elfxx.c lookup_symbol), where lastgasp names nothing. Allowed only
 * when that symbol (its size read with dladdr1, which sees the same .dynsym) ends at or below the address
 * lastgasp looked up, so the pc is really outside it. */
static unsigned long g_unnamed_by_lastgasp;

static int name_outside_symbol(const struct frame *lg, const struct frame *lu)
{
    Dl_info info;
    const ElfW(Sym) *sym = 0;
    if (strcmp(lg->name, "?") != 0 || !lu->start ||
        !dladdr1((void *)(uintptr_t)lu->start, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym || !info.dli_sname ||
        strcmp(info.dli_sname, lu->name) != 0 || (uint64_t)(uintptr_t)info.dli_saddr != lu->start)
        return 0;
    return sym->st_size > 0 && lg->look >= lu->start + sym->st_size;
}

/* pc and sp equal, and the same function: the same name and start, or the allowed difference above. */
static int frame_same(const struct frame *a, const struct frame *b, int count)
{
    if (a->pc != b->pc || a->sp != b->sp)
        return 0;
    if (a->start == b->start && strcmp(a->name, b->name) == 0)
        return 1;
    if (!name_outside_symbol(a, b))
        return 0;
    g_unnamed_by_lastgasp += (unsigned long)count;
    return 1;
}

static void show(const char *what, const struct walk *lg, const struct walk *lu)
{
    if (g_shown++ >= g_show_max) {
        if (g_shown == g_show_max + 1)
            printf("(more differences: counted, not shown)\n");
        return;
    }
    printf("DIFFERENT: %s: lastgasp %d frames, libunwind %d\n", what, lg->n, lu->n);
    for (int i = 0; i < lg->n || i < lu->n; i++) {
        const struct frame *a = i < lg->n ? &lg->f[i] : 0, *b = i < lu->n ? &lu->f[i] : 0;
        printf("  %c#%-3d", a && b && frame_same(a, b, 0) ? ' ' : '!', i);
        if (a)
            printf(" %#14lx sp %#14lx %-28.28s", (unsigned long)a->pc, (unsigned long)a->sp, a->name);
        else
            printf(" %58s", "-");
        if (b)
            printf(" | %#14lx sp %#14lx %s", (unsigned long)b->pc, (unsigned long)b->sp, b->name);
        printf("\n");
    }
}

/* The second allowed difference, after a call through a null pointer (pc 0, its return address on top of the
 * stack on x86_64, in x30 on aarch64). On x86_64, libunwind 1.6 steps out of pc 0 by its "invalid previous RIP"
 * fix-up (x86_64/Gstep.c), which gives the caller the rbp saved at [rbp] instead of rbp itself, one frame pointer
 * too far: where the caller's CFA rule is rbp-based (a frame-pointer build) its walk then skips the caller's
 * caller, two frames above pc 0. On aarch64 (aarch64/Gstep.c, "Try to load LR in IP to recover") it takes x30 as
 * the pc and steps on from there at once, with the caller's own unwind row: the caller itself, one frame above
 * pc 0, is skipped in every build. lastgasp's walk has the frame (the check against the source proves it is
 * there). Allowed only as exactly that: the walks the same up to that frame, that frame only in lastgasp's, the
 * same again after it. */
#if defined(__aarch64__)
#define NULL_CALL_SKIPPED 1 /* the frame skipped, counted from the pc-0 frame */
#else
#define NULL_CALL_SKIPPED 2
#endif
static unsigned long g_null_call_skips;
static uint32_t insn(uint64_t at);

static int null_call_skip(const struct walk *lg, const struct walk *lu)
{
    int i = 0;
    while (i < lg->n && i < lu->n && frame_same(&lg->f[i], &lu->f[i], 0))
        i++;
    if (i < NULL_CALL_SKIPPED || lg->f[i - NULL_CALL_SKIPPED].pc != 0 || lg->n != lu->n + 1)
        return 0;
#if defined(__aarch64__)
    /* lastgasp's frame that libunwind lacks must be the null call's return: after a blr, at pc 0's sp. */
    if ((insn(lg->f[i].pc - 4) & 0xfffffc1fu) != 0xd63f0000u || lg->f[i].sp != lg->f[i - 1].sp)
        return 0;
#endif
    for (int j = i; j < lu->n; j++)
        if (!frame_same(&lg->f[j + 1], &lu->f[j], 0))
            return 0;
    g_null_call_skips++;
    return 1;
}

/* The third, on aarch64: a pc in the PLT's header stub (PLT0, where lazily bound calls go) after its first
 * instruction, stp x16, x30, [sp, #-16]!. No unwind table covers the PLT there; libunwind falls back to x30
 * with the sp unchanged (aarch64/Gstep.c), 16 bytes short of the caller's, and walks on from a wrong CFA (it
 * ends at garbage or faults); lastgasp knows the stub (aarch64/unwind.c, rep_plt_step). Allowed only as exactly
 * that: the walks the same up to the PLT0 frame, the next frame the same pc with libunwind's sp 16 lower;
 * libunwind's frames after it are not compared (lastgasp's reach _start: on_trace checks it). */
static unsigned long g_plt0_skews;

static uint32_t insn(uint64_t at)
{
    uint32_t i = 0;
    ss_memread(&i, at, 4); /* a frame's pc may be garbage */
    return i;
}

/* pc in a PLT stub: adrp x16, _; ldr x17, [x16, _]; add x16, x16, _; br x17 (the test's own reading). */
static int plt_stub_start(uint64_t pc, uint64_t *start)
{
    for (uint64_t k = 0; k < 4; k++) {
        uint64_t at = pc - 4 * k;
        if ((insn(at) & 0x9f00001fu) == 0x90000010u && (insn(at + 4) & 0xffc003ffu) == 0xf9400211u &&
            insn(at + 12) == 0xd61f0220u) {
            *start = at;
            return 1;
        }
    }
    return 0;
}

static int in_plt0_after_stp(uint64_t pc)
{
    uint64_t start;
    return plt_stub_start(pc, &start) && insn(start - 4) == 0xa9bf7bf0u; /* stp x16, x30, [sp, #-16]! */
}

static int plt0_skew(const struct walk *lg, const struct walk *lu)
{
#if defined(__aarch64__)
    int i = 0;
    while (i < lg->n && i < lu->n && frame_same(&lg->f[i], &lu->f[i], 0))
        i++;
    if (i < 1 || i >= lg->n || i >= lu->n || !in_plt0_after_stp(lg->f[i - 1].pc) || lg->f[i].pc != lu->f[i].pc ||
        lu->f[i].sp + 16 != lg->f[i].sp)
        return 0;
    g_plt0_skews++;
    return 1;
#else
    (void)lg;
    (void)lu;
    (void)in_plt0_after_stp;
    return 0;
#endif
}

/* The fourth, on aarch64, where both are wrong alike: a pc in the loader's lazy binder (_dl_runtime_resolve,
 * entered from PLT0). glibc's table for it (sysdeps/aarch64/dl-trampoline.S, 2.36) omits the 16 bytes PLT0 pushed:
 * its CFA is 16 short, both unwinders give its caller (the function whose call went through the PLT) that sp, and
 * where the caller's CFA is sp-based they read its return address from the wrong slot and go on from garbage,
 * each its own way. Allowed only as: the walks the same up to that caller, which called a PLT stub (the bl before
 * its return address); after it not compared, nor checked to reach _start (counted instead). */
static unsigned long g_binder_skews;

static int in_loader(uint64_t pc);

/* The index of the loader frame a call through the PLT entered, or -1. */
static int binder_frame(const struct walk *w)
{
#if defined(__aarch64__)
    for (int k = 0; k + 1 < w->n; k++) {
        uint64_t ret = w->f[k + 1].pc, start;
        uint32_t bl = insn(ret - 4);
        if (!in_loader(w->f[k].pc) || (bl & 0xfc000000u) != 0x94000000u)
            continue;
        uint64_t target = ret - 4 + (uint64_t)((int64_t)((uint64_t)(bl & 0x03ffffffu) << 38) >> 36);
        if (plt_stub_start(target, &start) && start == target)
            return k;
    }
#else
    (void)w;
#endif
    return -1;
}

static int binder_skew(const struct walk *lg, const struct walk *lu)
{
    int k = binder_frame(lg), last = k + 1;
    if (k < 0) {
        /* At the binder's last instruction (br x16, after ldp x17, x30, [sp], #16) the same table gives a CFA of
         * sp-16, below the sp: lastgasp's walk ends at the binder (a caller's sp is never below its callee's),
         * libunwind's goes on from there. Allowed as: lastgasp's walk ends at the binder frame, libunwind's next
         * frame is the PLT caller at an sp below the binder's. */
        k = binder_frame(lu);
        last = k;
        if (k < 0 || lg->n != k + 1 || lu->f[k + 1].sp >= lu->f[k].sp)
            return 0;
    }
    if (last >= lu->n)
        return 0;
    for (int i = 0; i <= last; i++)
        if (!frame_same(&lg->f[i], &lu->f[i], 0))
            return 0;
    g_binder_skews++;
    return 1;
}

/* Both walks from the same uc. Returns 1 when they are the same. */
static struct walk g_lg, g_lu;
static int compare(int scenario, const char *what, ucontext_t *uc, int signal_frame)
{
    walk_lastgasp(uc, &g_lg);
    walk_libunwind(uc, signal_frame, &g_lu);
    int same = g_lg.n == g_lu.n;
    for (int i = 0; same && i < g_lg.n; i++)
        same = frame_same(&g_lg.f[i], &g_lu.f[i], 1);
    same = same && !g_lu.faulted;
    if (!same)
        same = null_call_skip(&g_lg, &g_lu) || plt0_skew(&g_lg, &g_lu) || binder_skew(&g_lg, &g_lu);
    g_count[scenario].stacks++;
    g_count[scenario].frames += (unsigned long)g_lg.n;
    if (!same) {
        g_count[scenario].differ++;
        show(what, &g_lg, &g_lu);
    }
    return same;
}

/* ---- checks against the source: the same frames must also be the right ones ---- */

static void fail(const char *fmt, const char *a, const char *b)
{
    g_checks_failed++;
    printf("CHECK failed: ");
    printf(fmt, a, b);
    printf("\n");
}

/* The name without GCC's clone suffixes (.isra.0, .constprop.0, .part.0, .cold). */
static int same_base(const char *name, const char *want)
{
    size_t n = strlen(want);
    return strncmp(name, want, n) == 0 && (name[n] == 0 || name[n] == '.');
}

static int is_chain_frame(const char *name)
{
    return strncmp(name, "chain_", 6) == 0 || strcmp(name, "unwdiff_plt_call") == 0;
}

/* Set while the scenarios run in a thread of their own (unwdiff_thread). */
static volatile int g_in_thread;

/* w's frames from `from` outwards must be the chain as written (unwdiff_expected), then unwdiff_run,
 * unwdiff_scenarios and main ending at _start, or in the thread unwdiff_thread ending at most two frames further
 * (libc's start_thread and clone3, whose unwind table marks the return address undefined). */
static void check_chain(const char *what, const struct walk *w, int from)
{
    int i = from;
    for (const char *const *e = unwdiff_expected; *e; e++) {
        if (strcmp(*e, "*") == 0) {
            while (i < w->n && !is_chain_frame(w->f[i].name))
                i++;
            continue;
        }
        if (i >= w->n || !same_base(w->f[i].name, *e)) {
            fail("%s: the chain's frame %s is missing", what, *e);
            return;
        }
        i++;
    }
    const char *caller = g_in_thread ? "unwdiff_thread" : "main";
    if (i + 2 >= w->n || !same_base(w->f[i].name, "unwdiff_run") || !same_base(w->f[i + 1].name, "unwdiff_scenarios") ||
        strcmp(w->f[i + 2].name, caller))
        fail("%s: no unwdiff_run, unwdiff_scenarios then %s above the chain", what, caller);
    else if (g_in_thread && w->n - (i + 3) > 2)
        fail("%s: %s", what, "more than two frames above unwdiff_thread");
    else if (!g_in_thread && strcmp(w->f[w->n - 1].name, "_start") != 0)
        fail("%s: the outermost frame is %s, not _start", what, w->f[w->n - 1].name);
}

static int index_of(const struct walk *w, const char *name)
{
    for (int i = 0; i < w->n; i++)
        if (same_base(w->f[i].name, name))
            return i;
    return -1;
}

/* ---- the scenarios ---- */

volatile int unwdiff_always = 1;
static void *volatile g_kept;
void unwdiff_keep(void *p) { g_kept = p; }

enum { AT_BOTTOM_CONTEXT, AT_BOTTOM_RAISE, AT_BOTTOM_FAULT, AT_BOTTOM_BAD_CALL, AT_BOTTOM_NOTHING };
static volatile int g_at_bottom;
static sigjmp_buf g_fault_jb;
static int *volatile g_null;
static int (*volatile g_null_fn)(int);

__attribute__((noinline)) int unwdiff_bottom(int x)
{
    static ucontext_t uc;
    switch (g_at_bottom) {
    case AT_BOTTOM_CONTEXT:
        getcontext(&uc);
        compare(g_in_thread ? SC_THREAD : SC_CONTEXT, "getcontext at the bottom", &uc, 0);
        check_chain("context", &g_lg, index_of(&g_lg, "unwdiff_bottom") + 1);
        if (index_of(&g_lg, "unwdiff_bottom") != 0)
            fail("%s: %s", "context", "unwdiff_bottom is not the innermost frame");
        break;
    case AT_BOTTOM_RAISE:
        raise(SIGUSR1);
        break;
    case AT_BOTTOM_FAULT:
        if (sigsetjmp(g_fault_jb, 1) == 0)
            *g_null = x; /* SIGSEGV: the handler jumps back */
        break;
    case AT_BOTTOM_BAD_CALL:
        if (sigsetjmp(g_fault_jb, 1) == 0)
            x = g_null_fn(x); /* SIGSEGV at pc 0, the return address on top of the stack */
        break;
    }
    return x + 1;
}

/* The trampoline the handlers returned to, and what holds it: on amd64 libc's __restore_rt; on arm64 the vDSO's
 * __kernel_rt_sigreturn under a kernel, and under qemu-user 7.2 a page of qemu's own (no module, no unwind
 * table: both unwinders know it by its two instructions). */
static uint64_t g_trampoline;

static void where_trampoline(const char *variant)
{
    const char *where = "no module (an anonymous page: qemu-user's own trampoline)";
    char buf[256];
    int mi = g_trampoline ? rep_module_index(g_mods, g_nmods, g_trampoline) : -1;
    if (mi >= 0) {
        snprintf(buf, sizeof buf, "%.*s", (int)g_mods[mi].path_len, g_mods[mi].path);
        where = buf;
    } else {
        for (uint32_t i = 0; g_trampoline && i < g_nmappings; i++)
            if (g_mappings[i].start <= g_trampoline && g_trampoline < g_mappings[i].end && g_mappings[i].path_len) {
                snprintf(buf, sizeof buf, "%.*s", (int)g_mappings[i].path_len, g_mappings[i].path);
                where = buf;
            }
    }
    printf("unwdiff %s: the signal handlers return to a trampoline at %#lx in %s; both walks climb through it\n",
           variant, (unsigned long)g_trampoline, where);
}

/* A signal's handler: both walks from the signal's own context (as lastgasp's crash handler starts), then both
 * from the handler's context, which they must climb through the kernel's signal frame. */
static void on_signal(int sig, siginfo_t *si, void *ucv)
{
    (void)si;
    if (sig == SIGSEGV && g_lu_active)
        siglongjmp(g_lu_jb, 1);
    static ucontext_t own;
    int bad_call = g_at_bottom == AT_BOTTOM_BAD_CALL, sc = g_in_thread ? SC_THREAD : SC_SIGNAL;
    const char *what = bad_call ? "call through a null pointer" : sig == SIGSEGV ? "fault" : "raise";
    char label[96];
    snprintf(label, sizeof label, "signal (%s%s), from its context", what, g_in_thread ? ", in a thread" : "");
    compare(sc, label, ucv, 1);
    int bottom = index_of(&g_lg, "unwdiff_bottom");
    check_chain(label, &g_lg, bottom + 1);
    /* The fault is in unwdiff_bottom itself; the bad call's pc is 0, with unwdiff_bottom next. */
    if (sig == SIGSEGV && (bottom != bad_call || (bad_call && g_lg.f[0].pc != 0)))
        fail("%s: %s", label, "the faulting frames are not innermost");
    getcontext(&own);
    snprintf(label, sizeof label, "signal (%s%s), from the handler", what, g_in_thread ? ", in a thread" : "");
    compare(sc, label, &own, 0);
    check_chain(label, &g_lg, index_of(&g_lg, "unwdiff_bottom") + 1);
    if (index_of(&g_lg, "on_signal") != 0)
        fail("%s: %s", label, "the handler is not the innermost frame");
    /* The handler returns to the signal trampoline (kernel, libc or qemu-user's: see where_trampoline), the
     * frame both walks must climb through. */
    if (g_lg.n < 2 || !rep_cfi_is_sigreturn(g_lg.f[1].pc))
        fail("%s: %s", label, "the frame above the handler is not a signal trampoline");
    else
        g_trampoline = g_lg.f[1].pc;
    if (sig == SIGSEGV)
        siglongjmp(g_fault_jb, 1);
}

/* Traced instructions: the frames at each one. The pcs of the innermost frames, by function of the chain, say
 * which links the trace went through (each must be seen). */
static unsigned long g_traced;
static unsigned char g_seen_link[64];
static unsigned long g_seen_libc, g_seen_plt, g_seen_ldso;

static int in_loader(uint64_t pc)
{
    int mi = rep_module_index(g_mods, g_nmods, pc);
    return mi >= 0 && memmem(g_mods[mi].path, g_mods[mi].path_len, "/ld-linux", 9) != 0;
}

/* A PLT stub's jump through the GOT (ff 25), after an endbr64 and a bnd prefix where there are. */
static int at_plt_jump(uint64_t pc)
{
#if defined(__aarch64__)
    uint64_t start; /* any instruction of a stub: a sampler seldom stops at the br itself */
    return plt_stub_start(pc, &start);
#endif
    const uint8_t *p = (const uint8_t *)(uintptr_t)pc;
    if (p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa)
        p += 4;
    if (p[0] == 0xf2)
        p++;
    return p[0] == 0xff && p[1] == 0x25;
}

/* The distinct pcs traced in the chain's own functions (chain_*, their helpers, unwdiff_plt_call): where each
 * instruction is traced, all of them; where they are sampled (aarch64/trace.c), the sampler's coverage, which
 * run.sh divides by the functions' instructions. */
#define PC_SET 16384
static uint64_t g_chain_pcs[PC_SET];
static unsigned long g_nchain_pcs;

static void note_chain_pc(uint64_t pc)
{
    for (uint32_t k = (uint32_t)((pc * 0x9e3779b97f4a7c15ull) >> 50) % PC_SET, n = 0; n < PC_SET; k = (k + 1) % PC_SET, n++) {
        if (g_chain_pcs[k] == pc)
            return;
        if (g_chain_pcs[k] == 0) {
            g_chain_pcs[k] = pc;
            g_nchain_pcs++;
            return;
        }
    }
}

int unwdiff_run(int mode);

static void on_trace(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    static ucontext_t own;
    g_traced++;
    compare(SC_TRACE, "traced instruction, from its context", ucv, 1);
    if ((g_lg.n < 1 || strcmp(g_lg.f[g_lg.n - 1].name, "_start") != 0) && binder_frame(&g_lg) < 0 &&
        binder_frame(&g_lu) < 0) {
        fail("%s: the walk ends at %s, not _start", "trace", g_lg.n ? g_lg.f[g_lg.n - 1].name : "none");
        show("trace: ends early (both walks)", &g_lg, &g_lu);
    }
    if (g_lg.n > 0) {
        int k;
        g_seen_plt += at_plt_jump(g_lg.f[0].pc);
        g_seen_ldso += in_loader(g_lg.f[0].pc);
        if (sscanf(g_lg.f[0].name, "chain_%d", &k) == 1 && k >= 0 && k < 64)
            g_seen_link[k] = 1;
        else if (strncmp(g_lg.f[0].name, "chain_", 6) && strcmp(g_lg.f[0].name, "unwdiff_plt_call") &&
                 rep_module_index(g_mods, g_nmods, g_lg.f[0].pc) != rep_module_index(g_mods, g_nmods, (uint64_t)(uintptr_t)&unwdiff_run))
            g_seen_libc++;
    }
    if (g_lg.n > 0 && is_chain_frame(g_lg.f[0].name))
        note_chain_pc(g_lg.f[0].pc);
    getcontext(&own);
    compare(SC_TRACE, "traced instruction, from the handler", &own, 0);
    unwdiff_trace_next();
}

/* The chain's caller, named in every walk's check (the volatile store keeps the call from being a tail call). */
static volatile int g_result;
__attribute__((noinline)) int unwdiff_run(int mode)
{
    g_at_bottom = mode;
    g_result = chain_0(1);
    return 0;
}

/* Returns 0, or -1 where the architecture cannot trace. */
/* The context and signal scenarios, on the calling thread (the last store keeps the last call from being a tail
 * call). */
__attribute__((noinline)) void unwdiff_scenarios(void)
{
    unwdiff_run(AT_BOTTOM_CONTEXT);
    unwdiff_run(AT_BOTTOM_RAISE);
    unwdiff_run(AT_BOTTOM_FAULT);
    unwdiff_run(AT_BOTTOM_BAD_CALL);
    g_at_bottom = AT_BOTTOM_NOTHING;
}

/* The same in a thread, whose stack ends at clone3 instead of _start (the default 8 MiB stack holds the chain). */
__attribute__((noinline)) void *unwdiff_thread(void *arg)
{
    load_modules(); /* this thread's stack, mapped after the first read */
    g_in_thread = 1;
    unwdiff_scenarios();
    g_in_thread = 0;
    return arg;
}

__attribute__((noinline)) static int unwdiff_run_traced(void)
{
    unwdiff_plt_bind_late = 1;
    if (unwdiff_trace(1) < 0)
        return -1;
    for (unsigned long runs = 0; unwdiff_trace_again(runs); runs++)
        unwdiff_run(AT_BOTTOM_NOTHING);
    unwdiff_trace(0);
    return 0;
}

static void on(int sig, void (*fn)(int, siginfo_t *, void *))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO;
    sigaction(sig, &sa, 0);
}

int main(int argc, char **argv)
{
    const char *variant = argc > 1 ? argv[1] : "?";
    setvbuf(stdout, 0, _IOLBF, 0); /* what was compared before a crash is printed */
    if (getenv("UNWDIFF_SHOW"))
        g_show_max = atoi(getenv("UNWDIFF_SHOW"));
    ss_memread_init(0);
    load_modules();
    on(SIGUSR1, on_signal);
    on(SIGSEGV, on_signal);
    on(unwdiff_trace_sig, on_trace);

    unwdiff_scenarios();
    pthread_t t;
    if (pthread_create(&t, 0, unwdiff_thread, 0) == 0)
        pthread_join(t, 0);
    else
        fail("%s: %s", "thread", "pthread_create failed");
    int traced = unwdiff_run_traced() >= 0;
    if (traced) {
        int links = 0;
        for (int k = 0; k < 64; k++)
            links += g_seen_link[k];
        char a[32], b[32];
        snprintf(a, sizeof a, "%d", links);
        snprintf(b, sizeof b, "%d", unwdiff_nlinks);
#if defined(__aarch64__)
        /* Sampled, not traced (aarch64/trace.c): a bounded number of samples stops the chain in some of its links
         * and in some PLT stubs (printed, not required); the loader's lazy binder, in the first run, which the
         * samples walk through densely (each armed when the walks before it are done), is required. */
        printf("unwdiff %s: sampled %s of the %s links\n", variant, a, b);
        if (links == 0)
            fail("trace: no sample in any of the %s links%s", b, "");
        if (g_seen_ldso == 0)
            fail("trace: %s%s", "no sample in the dynamic loader (the lazy binding of getppid)", "");
#else
        if (links != unwdiff_nlinks)
            fail("trace: instructions were traced in %s of the %s links", a, b);
#endif
        if (g_seen_libc == 0)
            fail("trace: %s%s", "no traced instruction in libc (qsort)", "");
#if !defined(__aarch64__)
        if (g_seen_plt == 0)
            fail("trace: %s%s", "no traced instruction in a PLT stub", "");
        if (g_seen_ldso == 0)
            fail("trace: %s%s", "no traced instruction in the dynamic loader (the lazy binding of getppid)", "");
#endif
    }

    unsigned long stacks = 0, frames = 0, differ = 0;
    for (int s = 0; s < 4; s++) {
        printf("unwdiff %s: %-7s %6lu stacks, %8lu frames compared, %lu different\n", variant, g_scenario_names[s],
               g_count[s].stacks, g_count[s].frames, g_count[s].differ);
        stacks += g_count[s].stacks;
        frames += g_count[s].frames;
        differ += g_count[s].differ;
    }
    if (!traced) /* a scenario that did not run is not a pass */
        fail("%s: trace not run: %s cannot trace instructions from user space", variant, "this architecture");
#if defined(__aarch64__)
    const char *how = "sampled";
#else
    const char *how = "traced";
#endif
    printf("unwdiff %s: %s %lu instructions (%lu in libc, %lu in the dynamic loader, %lu PLT jumps), %lu distinct "
           "pcs in the chain's functions\n", variant, how, g_traced, g_seen_libc, g_seen_ldso, g_seen_plt, g_nchain_pcs);
    where_trampoline(variant);
    printf("unwdiff %s: allowed differences: %lu frames named by libunwind only (a symbol that does not contain the "
           "pc), %lu walks out of pc 0 where libunwind skips a frame, %lu walks out of PLT0 where libunwind's sp is 16 short, %lu walks through the lazy binder's short CFA\n",
           variant, g_unnamed_by_lastgasp, g_null_call_skips, g_plt0_skews, g_binder_skews);
    printf("unwdiff %s: %lu stacks, %lu frames compared: %lu different, %lu checks failed\n", variant, stacks, frames,
           differ, g_checks_failed);
    return differ || g_checks_failed ? 1 : 0;
}
