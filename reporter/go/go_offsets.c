/* go_offsets.c — the Go runtime's g/m layouts, wait reasons and status names, by Go version.
 *
 * RULES (compromised context): async-signal-safe; no libc, no malloc, no locks, no stdio, no
 * globals but the const tables below (read-only data, never written). Every loop is bounded by a
 * table length or by a digit cap. Stack use: a few words.
 *
 * Sources: every number and string here was read from binaries built by the Go toolchain of that
 * version (linux/amd64 and linux/arm64 give the same values): offsets from the DWARF of runtime.g,
 * runtime.m, runtime.gobuf, runtime.stack, runtime._panic, runtime.moduledata and internal/abi.Type; strings from the runtime.waitReasonStrings and
 * runtime.gStatusStrings arrays in the binary, which are what runtime/runtime2.go and
 * runtime/traceback.go declare. tests/go/offsets/run.sh re-checks all of it for each toolchain it
 * can build with: run it when adding a version.
 *
 * Patch releases matter: backported runtime fixes moved m's fields in 1.23.12 and 1.24.6 and
 * added a wait reason in 1.23.4. Rows therefore start at a (minor, patch).
 */
#include "go_offsets.h"

#include <stddef.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The struct is nothing but uint16_t members: go_offsets_for_version copies it as such. */
_Static_assert(sizeof(struct go_offsets) % sizeof(uint16_t) == 0, "go_offsets holds only uint16_t");

struct layout_row {
    int minor, patch;           /* from Go 1.minor.patch on, until the next row */
    struct go_offsets o;
};

/* Fields that never moved in 1.22–1.27: the head of g (stack, stackguard0, _panic, _defer, m, and
 * sched up to ctxt) and m.g0. */
#define G_HEAD                                                                                   \
    .g_stack_lo = 0, .g_stack_hi = 8, .g_stackguard0 = 16, .g_panic = 32, .g_defer = 40, .g_m = 48, \
    .g_sched_sp = 56, .g_sched_pc = 64, .g_sched_g = 72, .g_sched_ctxt = 80, .m_g0 = 0

/* runtime._panic. 1.25 added repanicked before goexit; 1.26 dropped argp from the head (arg first);
 * 1.27 replaced lr with pc and dropped gopanicFP, so the record shrinks to 96 bytes. */
#define P124 .panic_arg = 8, .panic_link = 24, .panic_recovered = 96, .panic_goexit = 97, \
             .panic_repanicked = GO_OFF_ABSENT, .panic_size = 104
#define P125 .panic_arg = 8, .panic_link = 24, .panic_recovered = 96, .panic_repanicked = 97, \
             .panic_goexit = 98, .panic_size = 104
#define P126 .panic_arg = 0, .panic_link = 16, .panic_recovered = 88, .panic_repanicked = 89, \
             .panic_goexit = 90, .panic_size = 104
#define P127 .panic_arg = 0, .panic_link = 16, .panic_recovered = 88, .panic_repanicked = 89, \
             .panic_goexit = 90, .panic_size = 96

/* internal/abi.Type's head has not moved in 1.22–1.27. */
#define TYPE_HEAD .type_tflag = 20, .type_kind = 23, .type_str = 40

/* In version order. 1.23.12 and 1.24.6 added m.allpSnapshot (24 bytes before m.ncgo) with a
 * backported scheduler fix. 1.23.11 is not on the Go module proxy to check; it shipped with
 * 1.24.5, which does not have the field. */
static const struct layout_row layouts[] = {
    /* 1.22: gobuf still has ret (56 bytes); no syscallbp. */
    {22, 0, {G_HEAD, .g_sched_lr = 96, .g_sched_bp = 104, .g_syscallsp = 112, .g_syscallpc = 120,
             .g_syscallbp = GO_OFF_ABSENT, .g_atomicstatus = 144, .g_goid = 152, .g_waitsince = 168,
             .g_waitreason = 176, .g_lockedm = 208, .g_parent_goid = 272, .g_gopc = 280,
             .g_startpc = 296, .g_labels = 344, .g_size = 424, .gobuf_size = 56,
             .m_procid = 72, .m_gsignal = 80, .m_curg = 192, .m_caughtsig = 200, .m_p = 208,
             .m_id = 232, .m_throwing = 244, .m_incgo = 280, .m_ncgo = 304, .m_cgo_callers = 312,
             .m_alllink = 328, .m_lockedg = 344, .m_vdso_sp = 1120, .m_vdso_pc = 1128,
             .m_size = 2024,
             .g_sig = 216, .g_sigcode0 = 248, .g_sigcode1 = 256, .g_sigpc = 264, .m_dying = 268,
             P124, .md_types = 296, .md_etypes = 304, TYPE_HEAD}},
    /* 1.23: g.syscallbp added after syscallpc, so the rest of g moves by 8. */
    {23, 0, {G_HEAD, .g_sched_lr = 96, .g_sched_bp = 104, .g_syscallsp = 112, .g_syscallpc = 120,
             .g_syscallbp = 128, .g_atomicstatus = 152, .g_goid = 160, .g_waitsince = 176,
             .g_waitreason = 184, .g_lockedm = 216, .g_parent_goid = 280, .g_gopc = 288,
             .g_startpc = 304, .g_labels = 352, .g_size = 432, .gobuf_size = 56,
             .m_procid = 72, .m_gsignal = 80, .m_curg = 192, .m_caughtsig = 200, .m_p = 208,
             .m_id = 232, .m_throwing = 244, .m_incgo = 280, .m_ncgo = 304, .m_cgo_callers = 312,
             .m_alllink = 328, .m_lockedg = 344, .m_vdso_sp = 856, .m_vdso_pc = 864,
             .m_size = 1760,
             .g_sig = 224, .g_sigcode0 = 256, .g_sigcode1 = 264, .g_sigpc = 272, .m_dying = 268,
             P124, .md_types = 296, .md_etypes = 304, TYPE_HEAD}},
    /* 1.23.12: m.allpSnapshot. */
    {23, 12, {G_HEAD, .g_sched_lr = 96, .g_sched_bp = 104, .g_syscallsp = 112, .g_syscallpc = 120,
              .g_syscallbp = 128, .g_atomicstatus = 152, .g_goid = 160, .g_waitsince = 176,
              .g_waitreason = 184, .g_lockedm = 216, .g_parent_goid = 280, .g_gopc = 288,
              .g_startpc = 304, .g_labels = 352, .g_size = 432, .gobuf_size = 56,
              .m_procid = 72, .m_gsignal = 80, .m_curg = 192, .m_caughtsig = 200, .m_p = 208,
              .m_id = 232, .m_throwing = 244, .m_incgo = 280, .m_ncgo = 328, .m_cgo_callers = 336,
              .m_alllink = 352, .m_lockedg = 368, .m_vdso_sp = 880, .m_vdso_pc = 888,
              .m_size = 1784,
             .g_sig = 224, .g_sigcode0 = 256, .g_sigcode1 = 264, .g_sigpc = 272, .m_dying = 268,
             P124, .md_types = 296, .md_etypes = 304, TYPE_HEAD}},
    /* 1.24: as 1.23.0 but for sizeof(g) and m.vdsoSP/vdsoPC. */
    {24, 0, {G_HEAD, .g_sched_lr = 96, .g_sched_bp = 104, .g_syscallsp = 112, .g_syscallpc = 120,
             .g_syscallbp = 128, .g_atomicstatus = 152, .g_goid = 160, .g_waitsince = 176,
             .g_waitreason = 184, .g_lockedm = 216, .g_parent_goid = 280, .g_gopc = 288,
             .g_startpc = 304, .g_labels = 352, .g_size = 440, .gobuf_size = 56,
             .m_procid = 72, .m_gsignal = 80, .m_curg = 192, .m_caughtsig = 200, .m_p = 208,
             .m_id = 232, .m_throwing = 244, .m_incgo = 280, .m_ncgo = 304, .m_cgo_callers = 312,
             .m_alllink = 328, .m_lockedg = 344, .m_vdso_sp = 880, .m_vdso_pc = 888,
             .m_size = 1808,
             .g_sig = 228, .g_sigcode0 = 256, .g_sigcode1 = 264, .g_sigpc = 272, .m_dying = 268,
             P124, .md_types = 296, .md_etypes = 304, TYPE_HEAD}},
    /* 1.24.6: m.allpSnapshot. */
    {24, 6, {G_HEAD, .g_sched_lr = 96, .g_sched_bp = 104, .g_syscallsp = 112, .g_syscallpc = 120,
             .g_syscallbp = 128, .g_atomicstatus = 152, .g_goid = 160, .g_waitsince = 176,
             .g_waitreason = 184, .g_lockedm = 216, .g_parent_goid = 280, .g_gopc = 288,
             .g_startpc = 304, .g_labels = 352, .g_size = 440, .gobuf_size = 56,
             .m_procid = 72, .m_gsignal = 80, .m_curg = 192, .m_caughtsig = 200, .m_p = 208,
             .m_id = 232, .m_throwing = 244, .m_incgo = 280, .m_ncgo = 328, .m_cgo_callers = 336,
             .m_alllink = 352, .m_lockedg = 368, .m_vdso_sp = 904, .m_vdso_pc = 912,
             .m_size = 1832,
             .g_sig = 228, .g_sigcode0 = 256, .g_sigcode1 = 264, .g_sigpc = 272, .m_dying = 268,
             P124, .md_types = 296, .md_etypes = 304, TYPE_HEAD}},
    /* 1.25: gobuf.ret removed (48 bytes), so everything after g.sched moves back by 8; m loses a
     * word before procid. */
    {25, 0, {G_HEAD, .g_sched_lr = 88, .g_sched_bp = 96, .g_syscallsp = 104, .g_syscallpc = 112,
             .g_syscallbp = 120, .g_atomicstatus = 144, .g_goid = 152, .g_waitsince = 168,
             .g_waitreason = 176, .g_lockedm = 208, .g_parent_goid = 272, .g_gopc = 280,
             .g_startpc = 296, .g_labels = 344, .g_size = 440, .gobuf_size = 48,
             .m_procid = 64, .m_gsignal = 72, .m_curg = 184, .m_caughtsig = 192, .m_p = 200,
             .m_id = 224, .m_throwing = 236, .m_incgo = 272, .m_ncgo = 320, .m_cgo_callers = 328,
             .m_alllink = 344, .m_lockedg = 360, .m_vdso_sp = 896, .m_vdso_pc = 904,
             .m_size = 1816,
             .g_sig = 220, .g_sigcode0 = 248, .g_sigcode1 = 256, .g_sigpc = 264, .m_dying = 260,
             P125, .md_types = 296, .md_etypes = 304, TYPE_HEAD}},
    /* 1.26: g grows a word before parentGoid, m one before id. */
    {26, 0, {G_HEAD, .g_sched_lr = 88, .g_sched_bp = 96, .g_syscallsp = 104, .g_syscallpc = 112,
             .g_syscallbp = 120, .g_atomicstatus = 144, .g_goid = 152, .g_waitsince = 168,
             .g_waitreason = 176, .g_lockedm = 208, .g_parent_goid = 280, .g_gopc = 288,
             .g_startpc = 304, .g_labels = 352, .g_size = 456, .gobuf_size = 48,
             .m_procid = 64, .m_gsignal = 72, .m_curg = 184, .m_caughtsig = 192, .m_p = 208,
             .m_id = 232, .m_throwing = 244, .m_incgo = 280, .m_ncgo = 328, .m_cgo_callers = 336,
             .m_alllink = 352, .m_lockedg = 384, .m_vdso_sp = 896, .m_vdso_pc = 904,
             .m_size = 1824,
             .g_sig = 224, .g_sigcode0 = 256, .g_sigcode1 = 264, .g_sigpc = 272, .m_dying = 268,
             P126, .md_types = 296, .md_etypes = 304, TYPE_HEAD}},
    /* 1.27: as 1.26 but for sizeof(m). */
    {27, 0, {G_HEAD, .g_sched_lr = 88, .g_sched_bp = 96, .g_syscallsp = 104, .g_syscallpc = 112,
             .g_syscallbp = 120, .g_atomicstatus = 144, .g_goid = 152, .g_waitsince = 168,
             .g_waitreason = 176, .g_lockedm = 208, .g_parent_goid = 280, .g_gopc = 288,
             .g_startpc = 304, .g_labels = 352, .g_size = 456, .gobuf_size = 48,
             .m_procid = 64, .m_gsignal = 72, .m_curg = 184, .m_caughtsig = 192, .m_p = 208,
             .m_id = 232, .m_throwing = 244, .m_incgo = 280, .m_ncgo = 328, .m_cgo_callers = 336,
             .m_alllink = 352, .m_lockedg = 384, .m_vdso_sp = 896, .m_vdso_pc = 904,
             .m_size = 1832,
             .g_sig = 224, .g_sigcode0 = 256, .g_sigcode1 = 264, .g_sigpc = 272, .m_dying = 268,
             P127, .md_types = 296, .md_etypes = 312, TYPE_HEAD}},
};

/* runtime.waitReasonStrings. 1.23.4 appended one reason to 1.22's list (a backported fix that added
 * waitReasonGCWeakToStrongWait), so 1.22 and 1.23 share it. */
static const char *const wait_reasons_122[] = {
    "",                        /* 0 waitReasonZero */
    "GC assist marking",
    "IO wait",
    "chan receive (nil chan)",
    "chan send (nil chan)",
    "dumping heap",            /* 5 */
    "garbage collection",
    "garbage collection scan",
    "panicwait",
    "select",
    "select (no cases)",       /* 10 */
    "GC assist wait",
    "GC sweep wait",
    "GC scavenge wait",
    "chan receive",
    "chan send",               /* 15 */
    "finalizer wait",
    "force gc (idle)",
    "semacquire",
    "sleep",
    "sync.Cond.Wait",          /* 20 */
    "sync.Mutex.Lock",
    "sync.RWMutex.RLock",
    "sync.RWMutex.Lock",
    "trace reader (blocked)",
    "wait for GC cycle",       /* 25 */
    "GC worker (idle)",
    "GC worker (active)",
    "preempted",
    "debug call",
    "GC mark termination",     /* 30 */
    "stopping the world",
    "flushing proc caches",
    "trace goroutine status",
    "trace proc status",
    "page trace flush",        /* 35 */
    "coroutine",
    "GC weak to strong wait",  /* 37: from 1.23.4 */
};

static const char *const wait_reasons_124[] = {
    "",                        /* 0 waitReasonZero */
    "GC assist marking",
    "IO wait",
    "chan receive (nil chan)",
    "chan send (nil chan)",
    "dumping heap",            /* 5 */
    "garbage collection",
    "garbage collection scan",
    "panicwait",
    "select",
    "select (no cases)",       /* 10 */
    "GC assist wait",
    "GC sweep wait",
    "GC scavenge wait",
    "chan receive",
    "chan send",               /* 15 */
    "finalizer wait",
    "force gc (idle)",
    "semacquire",
    "sleep",
    "sync.Cond.Wait",          /* 20 */
    "sync.Mutex.Lock",
    "sync.RWMutex.RLock",
    "sync.RWMutex.Lock",
    "sync.WaitGroup.Wait",
    "trace reader (blocked)",  /* 25 */
    "wait for GC cycle",
    "GC worker (idle)",
    "GC worker (active)",
    "preempted",
    "debug call",              /* 30 */
    "GC mark termination",
    "stopping the world",
    "flushing proc caches",
    "trace goroutine status",
    "trace proc status",       /* 35 */
    "page trace flush",
    "coroutine",
    "GC weak to strong wait",
    "synctest.Run",
    "synctest.Wait",           /* 40 */
    "chan receive (synctest)",
    "chan send (synctest)",
    "select (synctest)",
};

static const char *const wait_reasons_125[] = {
    "",                        /* 0 waitReasonZero */
    "GC assist marking",
    "IO wait",
    "chan receive (nil chan)",
    "chan send (nil chan)",
    "dumping heap",            /* 5 */
    "garbage collection",
    "garbage collection scan",
    "panicwait",
    "select",
    "select (no cases)",       /* 10 */
    "GC assist wait",
    "GC sweep wait",
    "GC scavenge wait",
    "chan receive",
    "chan send",               /* 15 */
    "finalizer wait",
    "force gc (idle)",
    "GOMAXPROCS updater (idle)",
    "semacquire",
    "sleep",                   /* 20 */
    "sync.Cond.Wait",
    "sync.Mutex.Lock",
    "sync.RWMutex.RLock",
    "sync.RWMutex.Lock",
    "sync.WaitGroup.Wait",     /* 25 */
    "trace reader (blocked)",
    "wait for GC cycle",
    "GC worker (idle)",
    "GC worker (active)",
    "preempted",               /* 30 */
    "debug call",
    "GC mark termination",
    "stopping the world",
    "flushing proc caches",
    "trace goroutine status",  /* 35 */
    "trace proc status",
    "page trace flush",
    "coroutine",
    "GC weak to strong wait",
    "synctest.Run",            /* 40 */
    "synctest.Wait",
    "chan receive (durable)",
    "chan send (durable)",
    "select (durable)",
    "sync.WaitGroup.Wait (durable)", /* 45 */
    "cleanup wait",
};

/* 1.26 regrouped the list (the reasons a goroutine leak detector may report come last); 1.27
 * kept it. */
static const char *const wait_reasons_126[] = {
    "",                        /* 0 waitReasonZero */
    "GC assist marking",
    "IO wait",
    "dumping heap",
    "garbage collection",
    "garbage collection scan", /* 5 */
    "panicwait",
    "GC assist wait",
    "GC sweep wait",
    "GC scavenge wait",
    "finalizer wait",          /* 10 */
    "force gc (idle)",
    "GOMAXPROCS updater (idle)",
    "semacquire",
    "sleep",
    "chan receive (nil chan)", /* 15 */
    "chan send (nil chan)",
    "select (no cases)",
    "select",
    "chan receive",
    "chan send",               /* 20 */
    "sync.Cond.Wait",
    "sync.Mutex.Lock",
    "sync.RWMutex.RLock",
    "sync.RWMutex.Lock",
    "sync.WaitGroup.Wait",     /* 25 */
    "trace reader (blocked)",
    "wait for GC cycle",
    "GC worker (idle)",
    "GC worker (active)",
    "preempted",               /* 30 */
    "debug call",
    "GC mark termination",
    "stopping the world",
    "flushing proc caches",
    "trace goroutine status",  /* 35 */
    "trace proc status",
    "page trace flush",
    "coroutine",
    "GC weak to strong wait",
    "synctest.Run",            /* 40 */
    "synctest.Wait",
    "chan receive (durable)",
    "chan send (durable)",
    "select (durable)",
    "sync.WaitGroup.Wait (durable)", /* 45 */
    "cleanup wait",
};

/* runtime.gStatusStrings: 5 (_Gmoribund_unused) and 7 (_Genqueue_unused) have no text. */
static const char *const status_names[] = {
    "idle", "runnable", "running", "syscall", "waiting", "", "dead", "", "copystack", "preempted",
    "leaked",                   /* 10: 1.26+ */
    "waiting for cgo callback", /* 11: 1.26+ */
};

struct strings_row {
    int minor, patch;           /* from Go 1.minor.patch on, until the next row */
    const char *const *wait_reasons;
    int n_wait_reasons;
    int n_status;
};

static const struct strings_row strings_rows[] = {
    {22, 0, wait_reasons_122, (int)NELEM(wait_reasons_122) - 1, 10},
    {23, 0, wait_reasons_122, (int)NELEM(wait_reasons_122) - 1, 10},
    {23, 4, wait_reasons_122, (int)NELEM(wait_reasons_122), 10},
    {24, 0, wait_reasons_124, (int)NELEM(wait_reasons_124), 10},
    {25, 0, wait_reasons_125, (int)NELEM(wait_reasons_125), 10},
    {26, 0, wait_reasons_126, (int)NELEM(wait_reasons_126), 12},
    {27, 0, wait_reasons_126, (int)NELEM(wait_reasons_126), 12},
};

/* Rows of both tables are in version order: the row for a version is the last one of its minor
 * whose patch is not above the version's. */
static int row_matches(int row_minor, int row_patch, int major, int minor, int patch)
{
    return major == 1 && row_minor == minor && row_patch <= patch;
}

static const struct layout_row *layout_for(int major, int minor, int patch)
{
    const struct layout_row *found = NULL;
    for (size_t i = 0; i < NELEM(layouts); i++)
        if (row_matches(layouts[i].minor, layouts[i].patch, major, minor, patch))
            found = &layouts[i];
    return found;
}

static const struct strings_row *strings_for(int major, int minor, int patch)
{
    const struct strings_row *found = NULL;
    for (size_t i = 0; i < NELEM(strings_rows); i++)
        if (row_matches(strings_rows[i].minor, strings_rows[i].patch, major, minor, patch))
            found = &strings_rows[i];
    return found;
}

int go_offsets_for_version(int major, int minor, int patch, struct go_offsets *out)
{
    const struct layout_row *row = layout_for(major, minor, patch);
    if (row == NULL)
        return -1;
    /* Element by element: a struct assignment this size may become a call to memcpy. */
    const uint16_t *src = (const uint16_t *)&row->o;
    uint16_t *dst = (uint16_t *)out;
    for (size_t k = 0; k < sizeof *out / sizeof(uint16_t); k++)
        dst[k] = src[k];
    return 0;
}

const char *go_wait_reason(int major, int minor, int patch, uint8_t reason)
{
    const struct strings_row *r = strings_for(major, minor, patch);
    if (r == NULL || reason >= r->n_wait_reasons)
        return NULL;
    return r->wait_reasons[reason];
}

int go_wait_reason_count(int major, int minor, int patch)
{
    const struct strings_row *r = strings_for(major, minor, patch);
    return r ? r->n_wait_reasons : 0;
}

const char *go_status_name(int major, int minor, int patch, uint32_t status)
{
    const struct strings_row *r = strings_for(major, minor, patch);
    if (r == NULL)
        return NULL;
    status &= ~(uint32_t)GO_G_SCAN;
    if (status >= (uint32_t)r->n_status)
        return "???";
    return status_names[status];
}

int go_status_count(int major, int minor, int patch)
{
    const struct strings_row *r = strings_for(major, minor, patch);
    return r ? r->n_status : 0;
}

/* As goroutineheader in runtime/traceback.go: the wait reason overrides the status name while the
 * goroutine waits (from 1.26 also while it is reported leaked). */
const char *go_status_text(int major, int minor, int patch, uint32_t status, uint8_t waitreason)
{
    const struct strings_row *r = strings_for(major, minor, patch);
    if (r == NULL)
        return NULL;
    uint32_t s = status & ~(uint32_t)GO_G_SCAN;
    int waits = s == GO_G_WAITING || (s == GO_G_LEAKED && r->n_status > GO_G_LEAKED);
    if (waits && waitreason != 0) {
        const char *w = go_wait_reason(major, minor, patch, waitreason);
        return w ? w : "unknown wait reason";
    }
    return go_status_name(major, minor, patch, status);
}

/* Reads a decimal number of at most 9 digits at *p and moves *p past it; -1 if there is none.
 * A 10th digit is an error too, so no value can overflow an int. */
static int read_number(const char **p)
{
    const char *s = *p;
    int v = 0, n = 0;
    while (*s >= '0' && *s <= '9') {
        if (++n > 9)
            return -1;
        v = v * 10 + (*s - '0');
        s++;
    }
    if (n == 0)
        return -1;
    *p = s;
    return v;
}

static int has_prefix(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return 0;
    return 1;
}

int go_parse_version(const char *s, int *major, int *minor, int *patch)
{
    if (s == NULL)
        return -1;
    if (has_prefix(s, "devel "))   /* "devel go1.27-abcdef Tue Jan 2 ..." (toolchains built from a tree) */
        s += 6;
    if (!has_prefix(s, "go"))
        return -1;
    s += 2;
    int ma = read_number(&s);
    if (ma < 0 || *s != '.')
        return -1;
    s++;
    int mi = read_number(&s);
    if (mi < 0)
        return -1;
    int pa = 0;
    if (*s == '.') {
        s++;
        pa = read_number(&s);
        if (pa < 0)
            return -1;
    } else if (has_prefix(s, "rc") || has_prefix(s, "beta")) {
        /* A pre-release of major.minor: "go1.23rc1", "go1.22beta2". Its layout is the release's. */
        s += *s == 'r' ? 2 : 4;
        if (read_number(&s) < 0)
            return -1;
    }
    /* What may follow: nothing, " X:experiment", "-abcdef" (devel), "+auto" or "-suffix". */
    if (*s != '\0' && *s != ' ' && *s != '-' && *s != '+')
        return -1;
    *major = ma;
    *minor = mi;
    *patch = pa;
    return 0;
}
