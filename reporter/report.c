/* report.c — capture everything, write the dump, tell stderr. Runs on the private stack.
 *
 * RULES (compromised context): async-signal-safe; sigsafe/ and formats/minidump/mdwrite only; all memory
 * from the arena reserved at install (caps in rep.h); stack walks and symbol reading run inside
 * rep_guard_run. Best effort: a part that fails adds a line to the notes and the rest goes on.
 * Stack budget: about 8 KiB here, 10 KiB in the stack walk; the private stack is 512 KiB.
 */
#include "rep.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/utsname.h>

#define STATUS_CAP 8192
#define CGROUP_CAP 4096
#define CMDLINE_CAP 8192
#define AUXV_CAP 1024
#define ENVIRON_CAP (32u << 10)
#define WRITE_BUF (64u << 10)
#define DENTS_BUF (32u << 10)
#define STRTAB_SLOTS 8192

struct report {
    char *maps_text;
    size_t maps_len;
    struct ss_mapping *maps;
    uint32_t nmaps;
    int *tids;
    int ntids;
    struct mdw_thread *threads;
    uint8_t *contexts;                 /* rep_md_context_size bytes per thread */
    uint32_t nthreads;
    struct lg_frame_record *frames;
    uint32_t nframes;
    struct mdw_module *modules;
    uint32_t nmodules;
    struct mdw_range *ranges;
    uint32_t nranges;
    struct rep_strtab st;
    struct ss_str notes;
    struct mdw_dump d;
    struct rep_go_thread *go_threads; /* the captured threads as the Go capture sees them */
    int ngo_threads, go_crashing;
    int names_failed;  /* symbol lookup faulted or timed out once: no more names */
    char os_version[400];
    char nodename[65];           /* the container's hostname (uname), for LG_STREAM_HOSTNAME */
    char comm[32];
};

static struct report R; /* only the one reporting thread touches it */

static void note(const char *what, long err)
{
    ss_str_add(&R.notes, what);
    if (err) {
        ss_str_add(&R.notes, ": error ");
        ss_str_i64(&R.notes, -err);
    }
    ss_str_add(&R.notes, "\n");
}

static void *alloc(size_t n)
{
    void *p = ss_arena_alloc(&rep_g.arena, n);
    if (!p)
        note("arena exhausted", 0);
    return p;
}

/* The readable mapping holding sp or, after a stack overflow (sp in a guard page or below the
 * stack), the first readable mapping just above it. */
static const struct ss_mapping *stack_mapping(uint64_t sp)
{
    for (uint32_t i = 0; i < R.nmaps; i++) {
        const struct ss_mapping *m = &R.maps[i];
        if (!(m->perms & SS_PERM_R))
            continue;
        if (sp >= m->start && sp < m->end)
            return m;
        if (m->start > sp && m->start - sp <= 65536)
            return m;
    }
    return 0;
}

static void read_maps(void)
{
    int trunc = 0;
    R.maps_text = alloc(REP_MAPS_CAP);
    R.maps = alloc(REP_MAX_MAPPINGS * sizeof *R.maps);
    if (!R.maps_text || !R.maps)
        return;
    ssize_t n = ss_read_file(AT_FDCWD, "/proc/self/maps", R.maps_text, REP_MAPS_CAP, &trunc);
    if (n < 0) {
        note("/proc/self/maps unreadable", n);
        return;
    }
    if (trunc)
        note("/proc/self/maps truncated at 1 MiB", 0);
    R.maps_len = (size_t)n;
    size_t pos = 0;
    const char *line;
    size_t len;
    while (R.nmaps < REP_MAX_MAPPINGS && ss_next_line(R.maps_text, R.maps_len, &pos, &line, &len))
        if (ss_parse_maps_line(line, len, &R.maps[R.nmaps]))
            R.nmaps++;
}

static void list_threads(void)
{
    int trunc = 0;
    void *scratch = alloc(DENTS_BUF);
    R.tids = alloc(REP_MAX_THREADS * sizeof *R.tids);
    rep_c.slots = alloc(REP_MAX_THREADS * sizeof *rep_c.slots);
    if (!scratch || !R.tids || !rep_c.slots)
        return;
    int n = ss_list_tids(R.tids, REP_MAX_THREADS, &trunc, scratch, DENTS_BUF);
    if (n < 0) {
        note("/proc/self/task unreadable: only the crashing thread is captured", n);
        n = 0;
    }
    int found_self = 0;
    for (int i = 0; i < n; i++)
        found_self |= R.tids[i] == rep_c.tid;
    if (!found_self) {
        if (n == REP_MAX_THREADS)
            n--;
        R.tids[n++] = rep_c.tid;
    }
    if (trunc) {
        note("more than 1024 threads: the rest are not captured", 0);
        R.d.flags |= LG_FLAG_THREADS_TRUNCATED;
    }
    R.ntids = n;
}

/* Every memory range of the dump goes through here: the spans excluded at install (the environment and
 * argument strings the kernel put at the top of the initial stack, AT_RANDOM) are cut out. Recursion depth is
 * at most SS_MEMREAD_EXCLUDED_MAX. */
static void add_range(uint64_t start, uint64_t end)
{
    int nx;
    const struct ss_span *x = ss_memread_excluded(&nx);
    for (int i = 0; i < nx; i++) {
        if (start < x[i].hi && end > x[i].lo) {
            if (start < x[i].lo)
                add_range(start, x[i].lo);
            if (end > x[i].hi)
                add_range(x[i].hi, end);
            return;
        }
    }
    if (end > start && R.nranges < REP_MAX_THREADS + 2) {
        R.ranges[R.nranges].start = start;
        R.ranges[R.nranges].size = end - start;
        R.nranges++;
    }
}

/* A thread's stack range stops where an excluded span begins (the main thread's reaches the environment
 * strings above its first frame), so that the stack a reader sees is one whole range. */
static uint64_t end_before_excluded(uint64_t lo, uint64_t hi)
{
    int nx;
    const struct ss_span *x = ss_memread_excluded(&nx);
    for (int i = 0; i < nx; i++) {
        if (lo >= x[i].lo && lo < x[i].hi)
            return lo;
        if (lo < x[i].lo && hi > x[i].lo)
            hi = x[i].lo;
    }
    return hi;
}

/* known: the name the thread read itself when it answered the capture ("" if it could not);
 * otherwise from procfs, relative to task_fd (/proc/self/task opened once: the walk through
 * /proc/self was half the cost of a read), or by the whole path when task_fd is -1. */
static void thread_name(struct mdw_thread *t, const char *known, int task_fd)
{
    char path[48], name[32];
    struct ss_str p;
    int trunc;
    if (known && known[0]) {
        t->name_off = rep_strtab_add(&R.st, known, ss_strnlen(known, 16));
        return;
    }
    ss_str_init(&p, path, sizeof path);
    if (task_fd < 0)
        ss_str_add(&p, "/proc/self/task/");
    ss_str_u64(&p, (uint64_t)t->tid);
    ss_str_add(&p, "/comm");
    ssize_t n = ss_read_file(task_fd < 0 ? AT_FDCWD : task_fd, path, name, sizeof name - 1, &trunc);
    if (n <= 0)
        return;
    if (name[n - 1] == '\n')
        n--;
    t->name_off = rep_strtab_add(&R.st, name, (size_t)n);
}

struct unwind_job {
    const ucontext_t *uc;
    uint64_t lo, hi;
    struct lg_frame_record *out;
    uint32_t count;
    int walked; /* the walk ended: a fault or timeout after this is the names' */
};

static void name_frames(void *arg);

static void unwind_job_run(void *arg)
{
    struct unwind_job *j = arg;
    j->count = rep_unwind(j->uc, j->lo, j->hi, R.modules, R.nmodules, j->out, REP_MAX_FRAMES);
}

/* The walk and then the names, in one guarded run: each run arms and disarms the watchdog and
 * saves the signal mask (four syscalls), a tenth of a parked thread's cost when run twice. */
static void unwind_and_name_run(void *arg)
{
    struct unwind_job *j = arg;
    unwind_job_run(j);
    j->walked = 1;
    name_frames(j);
}

/* Return addresses are looked up at pc-1: the call may be the last instruction of a function. */
static void name_frames(void *arg)
{
    struct unwind_job *j = arg;
    for (uint32_t k = 0; k < j->count; k++) {
        struct lg_frame_record *f = &j->out[k];
        uint64_t look = f->pc - (f->trust != LG_TRUST_CONTEXT && f->pc > 0), start = 0;
        int mi = rep_module_index(R.modules, R.nmodules, look);
        f->module_index = mi < 0 ? LG_NONE : (uint32_t)mi;
        const char *name = R.names_failed ? 0 : rep_symbolize(R.modules, mi, look, &start);
        struct go_func gf;
        if (!name && !R.names_failed && rep_g.go.present && go_findfunc(&rep_g.go.pcln, look, &gf) == 0) {
            name = go_funcname(&rep_g.go.pcln, gf.name_off); /* Go code of a stripped binary */
            start = gf.entry;
        }
        if (name) {
            f->symbol_off = rep_strtab_add(&R.st, name, ss_strnlen(name, 1024));
            f->symbol_delta = (uint32_t)(f->pc - start);
        }
    }
}

static void unwind_thread(struct mdw_thread *t, const ucontext_t *uc, const struct ss_mapping *stack)
{
    struct unwind_job j = {uc, stack ? stack->start : 0, stack ? stack->end : 0, R.frames + R.nframes, 0, 0};
    if (R.nframes + REP_MAX_FRAMES > REP_MAX_THREADS * REP_MAX_FRAMES) {
        R.d.flags |= LG_FLAG_FRAMES_TRUNCATED;
        return;
    }
    int fired = rep_guard_run(unwind_and_name_run, &j, REP_UNWIND_NS);
    if (fired && j.walked) {
        if (!R.names_failed) {
            R.names_failed = 1;
            note("reading symbols faulted or timed out: later frames have no names", 0);
        }
    } else if (fired) {
        note("the stack walk faulted or timed out: this thread keeps the frames found before", 0);
        if (j.count == 0) {
            j.out[0].pc = rep_context_pc(uc);
            j.out[0].sp = rep_context_sp(uc);
            j.out[0].trust = LG_TRUST_CONTEXT;
            j.out[0].symbol_off = LG_NONE;
            j.count = 1;
        }
        if (rep_guard_run(name_frames, &j, REP_UNWIND_NS) && !R.names_failed) {
            R.names_failed = 1;
            note("reading symbols faulted or timed out: later frames have no names", 0);
        }
    }
    t->first_frame = R.nframes;
    t->frame_count = j.count;
    R.nframes += j.count;
}

static void capture_threads(void)
{
    R.threads = alloc(REP_MAX_THREADS * sizeof *R.threads);
    R.contexts = alloc(REP_MAX_THREADS * rep_md_context_size);
    R.frames = alloc(REP_MAX_THREADS * REP_MAX_FRAMES * sizeof *R.frames);
    R.ranges = alloc((REP_MAX_THREADS + 2) * sizeof *R.ranges);
    R.go_threads = rep_g.go.present ? alloc(REP_MAX_THREADS * sizeof *R.go_threads) : 0;
    R.go_crashing = -1;
    if (!R.threads || !R.contexts || !R.frames || !R.ranges || !R.tids || !rep_c.slots)
        return;
    int answered = rep_capture_threads(R.tids, R.ntids, REP_CAPTURE_NS);
    if (answered < R.ntids - 1)
        note("some threads did not answer the capture signal in time (status no_answer)", 0);
    int task_fd = -1, task_tried = 0; /* opened for the first thread that has no name of its own */
    /* The crashing thread first: it is what a reader looks at, and what the exception names. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < R.ntids; i++) {
            struct rep_slot *s = &rep_c.slots[i];
            if ((pass == 0) != (s->tid == rep_c.tid))
                continue;
            struct mdw_thread *t = &R.threads[R.nthreads];
            t->tid = (uint32_t)s->tid;
            t->name_off = LG_NONE;
            t->crashed = s->tid == rep_c.tid;
            const char *known = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == 1 ? s->name : 0;
            if ((!known || !known[0]) && !task_tried++)
                task_fd = ss_openat(AT_FDCWD, "/proc/self/task", O_RDONLY | O_DIRECTORY, 0);
            thread_name(t, known, task_fd);
            R.nthreads++;
            if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != 1) {
                t->status = s->state < 0 ? LG_THREAD_GONE : LG_THREAD_NO_ANSWER;
                continue;
            }
            t->status = LG_THREAD_OK;
            uint8_t *md = R.contexts + (size_t)(R.nthreads - 1) * rep_md_context_size;
            rep_context_to_md(&s->uc, md);
            t->context = md;
            uint64_t sp = rep_context_sp(&s->uc);
            const struct ss_mapping *m = stack_mapping(sp);
            if (m) {
                uint64_t lo = sp - REP_RED_ZONE > sp ? 0 : sp - REP_RED_ZONE;
                if (lo < m->start)
                    lo = m->start;
                uint64_t cap = t->crashed ? REP_STACK_CAP_CRASHED : REP_STACK_CAP_OTHER;
                uint64_t hi = m->end - lo > cap ? lo + cap : m->end;
                hi = end_before_excluded(lo, hi);
                t->stack_start = lo;
                t->stack_size = hi - lo;
                add_range(lo, hi);
            }
            unwind_thread(t, &s->uc, m);
            if (R.go_threads) {
                struct rep_go_thread *g = &R.go_threads[R.ngo_threads];
                if (t->crashed)
                    R.go_crashing = R.ngo_threads;
                g->tid = s->tid;
                g->fs_base = s->fs_base;
                g->uc = &s->uc;
                g->native = R.frames + t->first_frame;
                g->nnative = t->frame_count;
                g->native_strings = R.st.buf;
                R.ngo_threads++;
            }
        }
    }
    if (task_fd >= 0)
        ss_close(task_fd);
}

static void go_job_run(void *arg)
{
    (void)arg;
    rep_go_capture(R.go_threads, R.ngo_threads, R.go_crashing, &R.d.go, &rep_g.arena, &R.notes);
}

/* Goroutines, for a Go executable: every captured thread's registers and thread pointer. */
static void capture_goroutines(void)
{
    if (!rep_g.go.present) {
        if (rep_g.go.version[0]) {
            ss_str_add(&R.notes, rep_g.go.why);
            ss_str_add(&R.notes, "\n");
        }
        return;
    }
    if (!R.go_threads)
        return;
    if (rep_g.go.tb_why[0]) { /* why panics would not have been seen (go_traceback.c) */
        ss_str_add(&R.notes, rep_g.go.tb_why);
        ss_str_add(&R.notes, ": Go panics and fatal errors are not dumped\n");
    }
    int r = rep_guard_run(go_job_run, 0, REP_GO_NS);
    if (r) {
        note(r == 1 ? "Go: reading the runtime faulted: goroutines so far are kept"
                    : "Go: reading the runtime took too long: goroutines so far are kept",
             0);
        /* The counts are published only as records complete, so what is there is whole. */
    }
}

/* The annotations as the process last set them, copied while the other threads still run (a writer caught
 * inside a slot can then finish it); before the capture stops them. */
static void copy_annotations(void)
{
    struct rep_annotation *copies = alloc(LASTGASP_ANNOTATIONS_MAX * sizeof *copies);
    struct mdw_annotation *out = alloc(LASTGASP_ANNOTATIONS_MAX * sizeof *out);
    uint32_t skipped = 0;
    if (!copies || !out)
        return;
    R.d.annotations = out;
    R.d.annotation_count = rep_annotations_snapshot(copies, out, &skipped);
    if (skipped) {
        ss_str_u64(&R.notes, skipped);
        ss_str_add(&R.notes, " annotation(s) left out: being changed at the crash, through every retry\n");
    }
}

/* The Go runtime's crash output, which it copies into the memory file goshim gave it
 * (debug.SetCrashOutput). Its head, where the panic and the crashing goroutine are: the rest
 * repeats the goroutines the Go stream holds. pread from offset 0: the runtime's writes move the
 * file offset it shares with our descriptor, pread does not use it. */
static void read_go_crash_text(void)
{
    int fd = rep_crash_text_fd();
    if (fd < 0)
        return;
    char *buf = alloc(REP_CRASH_TEXT_CAP);
    if (!buf)
        return;
    uint32_t n = 0;
    while (n < REP_CRASH_TEXT_CAP) { /* bounded: each pass reads at least one byte or ends */
        ssize_t r = ss_pread(fd, buf + n, REP_CRASH_TEXT_CAP - n, n);
        if (r <= 0)
            break;
        n += (uint32_t)r;
    }
    char probe;
    if (n == REP_CRASH_TEXT_CAP && ss_pread(fd, &probe, 1, n) == 1)
        ss_str_add(&R.notes, "the Go runtime's crash output is longer than the 64 KiB kept (its head)\n");
    R.d.go_crash_text.data = buf;
    R.d.go_crash_text.size = n;
}

static void memory_around_pc(void)
{
    uint64_t pc = rep_context_pc(&rep_c.uc);
    for (uint32_t i = 0; i < R.nmaps; i++) {
        const struct ss_mapping *m = &R.maps[i];
        if (pc >= m->start && pc < m->end && (m->perms & SS_PERM_R)) {
            uint64_t lo = pc - m->start > 128 ? pc - 128 : m->start;
            uint64_t hi = m->end - pc > 128 ? pc + 128 : m->end;
            add_range(lo, hi);
        }
    }
}

static struct mdw_blob read_blob(const char *path, uint32_t cap, const char *what)
{
    struct mdw_blob b = {0, 0};
    char *buf = alloc(cap);
    int trunc = 0;
    if (!buf)
        return b;
    ssize_t n = ss_read_file(AT_FDCWD, path, buf, cap, &trunc);
    if (n < 0) {
        note(what, n);
        return b;
    }
    if (trunc)
        note(what, 0);
    b.data = buf;
    b.size = (uint32_t)n;
    return b;
}

/* Container identity for `lastgasp collect`: the cgroup path names the container to its runtime;
 * the UTS nodename, the container's hostname (the pod name in Kubernetes), comes with system_info's
 * uname. Handler path. */
static void container_identity(void)
{
    R.d.cgroup = read_blob("/proc/self/cgroup", CGROUP_CAP, "/proc/self/cgroup unreadable or cut");
}

static void system_info(void)
{
    struct utsname u;
    struct ss_str s;
    ss_str_init(&s, R.os_version, sizeof R.os_version);
    if (ss_uname(&u) == 0) {
        ss_str_add(&s, u.sysname);
        ss_str_add(&s, " ");
        ss_str_add(&s, u.release);
        ss_str_add(&s, " ");
        ss_str_add(&s, u.version);
        ss_str_add(&s, " ");
        ss_str_add(&s, u.machine);
        ss_strlcpy(R.nodename, u.nodename, sizeof R.nodename);
        R.d.hostname.data = R.nodename;
        R.d.hostname.size = (uint32_t)ss_strnlen(R.nodename, sizeof R.nodename);
        uint32_t *part[3] = {&R.d.os_major, &R.d.os_minor, &R.d.os_build};
        const char *p = u.release, *end = u.release + ss_strnlen(u.release, sizeof u.release);
        for (int i = 0; i < 3 && p < end; i++) {
            uint64_t v;
            size_t k = ss_parse_u64(p, (size_t)(end - p), &v);
            *part[i] = (uint32_t)v;
            p += k;
            if (k == 0 || p >= end || *p != '.')
                break;
            p++;
        }
    }
    R.d.os_version = R.os_version;
    R.d.cpu_count = rep_g.cpu_count;
    R.d.cpu_arch = rep_md_cpu_arch;
    R.d.context_size = rep_md_context_size;
    rep_cpuid(R.d.cpu_vendor, &R.d.cpu_version, &R.d.cpu_features, &R.d.cpu_amd_features);
}

static int sink_bufw(const void *p, size_t n, void *ctx) { return ss_bufw_put(ctx, p, n); }

static long read_mem(void *dst, uint64_t src, size_t n) { return ss_memread(dst, src, n); }

/* Names of the file: the plain one, then these many with -2, -3, ... (another crash of the same comm and pid in
 * the same second: PID 1 of a restarting container, replicas sharing a volume), then random suffixes (names
 * planted by someone else in a shared directory). Each try is one system call. */
#define NAME_PLAIN_TRIES 16
#define NAME_TRIES 24
#define TMP_TRIES 8

/* 64 bits nobody can guess ahead: the kernel's random bytes (GRND_NONBLOCK: never waits); if it refuses, the
 * clocks mixed with this thread's id and stack address, which another user cannot read either. */
static uint64_t unguessable(void)
{
    uint64_t r = 0;
    if (ss_getrandom(&r, sizeof r) != (ssize_t)sizeof r)
        r = (ss_now_ns(0) * 0x9e3779b97f4a7c15ull) ^ ss_now_ns(1) ^ ((uint64_t)(uintptr_t)&r << 17) ^
            (uint64_t)rep_c.tid;
    return r;
}

/* comm-PID-YYYYMMDDTHHMMSSZ[-UNIQUE]EXT, from characters that are safe in any file name; try k of NAME_TRIES. */
static void dump_name(struct ss_str *s, int k, const char *ext)
{
    for (const char *c = R.comm; *c; c++) {
        char ch = *c;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                 ch == '_' || ch == '.';
        ss_str_addn(s, ok ? &ch : "_", 1);
    }
    ss_str_add(s, "-");
    ss_str_u64(s, (uint64_t)rep_c.pid);
    ss_str_add(s, "-");
    int64_t secs = (int64_t)(R.d.time_ns / 1000000000u);
    int64_t z = secs / 86400 + 719468, sod = secs % 86400;
    int64_t era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = yoe + era * 400 + (month <= 2);
    int64_t parts[6] = {year, month, day, sod / 3600, sod / 60 % 60, sod % 60};
    for (int i = 0; i < 6; i++) {
        if (i > 0 && parts[i] < 10)
            ss_str_add(s, "0");
        ss_str_i64(s, parts[i]);
        if (i == 2)
            ss_str_add(s, "T");
    }
    ss_str_add(s, "Z");
    if (k > 0 && k < NAME_PLAIN_TRIES) {
        ss_str_add(s, "-");
        ss_str_u64(s, (uint64_t)k + 1);
    } else if (k > 0) {
        char hex[16];
        ss_str_add(s, "-");
        ss_str_addn(s, hex, ss_fmt_hex(hex, unguessable() & 0xffffffffu, 8));
    }
    ss_str_add(s, ext);
}

/* Create the temporary file .lastgasp-PID-RANDOM.tmp: a name nobody can plant ahead (a shared 1777 directory),
 * retried on a clash. Returns the fd or -errno. */
static int create_temp(int dir_fd, char *tmp, size_t cap)
{
    int fd = -17;
    for (int k = 0; k < TMP_TRIES && (fd == -17 /* EEXIST */ || fd == -40 /* ELOOP */); k++) {
        struct ss_str t;
        char hex[16];
        ss_str_init(&t, tmp, cap);
        ss_str_add(&t, ".lastgasp-");
        ss_str_u64(&t, (uint64_t)rep_c.pid);
        ss_str_add(&t, "-");
        ss_str_addn(&t, hex, ss_fmt_hex(hex, unguessable(), 16));
        ss_str_add(&t, ".tmp");
        fd = ss_openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    }
    return fd;
}

/* Write the dump to fd; *written is what the file holds after it. Past RLIMIT_FSIZE, write(2) fails with
 * EFBIG and raises SIGXFSZ, whose default action would end the process with that signal instead of its own:
 * SIGXFSZ is blocked around the writes, and the one they left pending is taken off before it is unblocked. */
static int write_file(int fd, uint64_t *written)
{
    uint64_t xfsz = 1ull << (SIGXFSZ - 1), mask, before = 0, after = 0;
    ss_sigprocmask(SIG_BLOCK, &xfsz, &mask);
    ss_sigpending(&before);
    void *buf = alloc(WRITE_BUF);
    struct ss_bufw w;
    char small[512];
    ss_bufw_init(&w, fd, buf ? buf : small, buf ? WRITE_BUF : sizeof small);
    int64_t r = mdw_write(&R.d, sink_bufw, &w);
    int err = ss_bufw_flush(&w);
    if (ss_sigpending(&after) == 0 && (after & xfsz) && !(before & xfsz))
        ss_sigtake(SIGXFSZ);
    ss_sigprocmask(SIG_SETMASK, &mask, 0);
    int64_t at = ss_lseek(fd, 0, 1 /* SEEK_CUR */);
    *written = at >= 0 ? (uint64_t)at : w.total;
    return err < 0 ? err : r < 0 ? (int)r : 0;
}

/* Give the complete temporary file its final name, never replacing a file: renameat2(RENAME_NOREPLACE); on a
 * filesystem without it (EINVAL: FUSE, 9p, NFS), a hard link; without hard links either (EPERM and the like:
 * vfat, many FUSE filesystems), reserve the name with an exclusive create and rename onto that empty file of
 * our own. A name that exists moves on to the next. Returns 0 or -errno. */
static int publish(int dir_fd, const char *tmp, char *final, size_t cap, const char *ext)
{
    int no_noreplace = 0, no_link = 0, err = -17;
    for (int k = 0; k < NAME_TRIES && err == -17 /* EEXIST */; k++) {
        struct ss_str f;
        ss_str_init(&f, final, cap);
        dump_name(&f, k, ext);
        if (!no_noreplace) {
            err = ss_renameat2(dir_fd, tmp, final, 1 /* RENAME_NOREPLACE */);
            if (err != -22 /* EINVAL */)
                continue;
            no_noreplace = 1;
        }
        if (!no_link) {
            err = ss_linkat(dir_fd, tmp, final);
            if (err == 0)
                ss_unlinkat(dir_fd, tmp);
            if (err == 0 || err == -17)
                continue;
            no_link = 1;
        }
        int fd = ss_openat(dir_fd, final, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
        if (fd < 0) {
            err = fd;
            continue;
        }
        ss_close(fd);
        err = ss_renameat2(dir_fd, tmp, final, 0);
        if (err < 0)
            ss_unlinkat(dir_fd, final);
    }
    return err;
}

/* What write_dump did, for tell. */
struct outcome {
    int err;            /* the first error, or 0 */
    int kept;           /* 0 nothing, 1 under its name in final, 2 complete but left under the temporary name */
    int truncated;
    uint64_t written;
    char tmp[64];
    char final[160];
};

/* Write the file under a temporary name and name it when complete. A file cut before the part readers need
 * to open it (a full disk, RLIMIT_FSIZE) is removed: nothing is better than a file every reader rejects. A
 * complete or usable file is never removed: if no name can be given, it stays under the temporary one. */
static void write_dump(struct outcome *o)
{
    int dir_fd = rep_dir_fd();
    if (dir_fd < 0) {
        o->err = dir_fd;
        return;
    }
    int fd = create_temp(dir_fd, o->tmp, sizeof o->tmp);
    if (fd < 0) {
        o->err = fd;
        return;
    }
    o->err = write_file(fd, &o->written);
    ss_close(fd);
    o->truncated = o->err < 0;
    if (o->truncated && o->written < mdw_openable_size(&R.d)) {
        ss_unlinkat(dir_fd, o->tmp);
        return;
    }
    int err = publish(dir_fd, o->tmp, o->final, sizeof o->final, o->truncated ? ".truncated.dmp" : ".dmp");
    o->kept = err < 0 ? 2 : 1;
    if (!o->err)
        o->err = err;
}

static const char *err_reason(int err)
{
    switch (-err) {
    case 1: return "operation not permitted";
    case 2: return "directory no longer exists";
    case 5: return "I/O error";
    case 13: return "permission denied";
    case 17: return "every name tried is taken";
    case 27: return "file size limit, RLIMIT_FSIZE";
    case 28: return "no space left on device";
    case 30: return "read-only file system";
    case 95: return "not supported by the filesystem";
    case 116: return "its fd was closed and the path now names another directory";
    case 122: return "disk quota exceeded";
    default: return 0;
    }
}

/* "error N (reason)" */
static void add_err(struct ss_str *s, int err)
{
    const char *why = err_reason(err);
    ss_str_add(s, "error ");
    ss_str_i64(s, -err);
    if (why) {
        ss_str_add(s, " (");
        ss_str_add(s, why);
        ss_str_add(s, ")");
    }
}

/* The Go runtime's name for a fatal signal (its sigtable), as it prints "SIGSEGV: segmentation violation". */
static const char *go_signal_words(int sig)
{
    switch (sig) {
    case SIGSEGV: return "segmentation violation";
    case SIGBUS: return "bus error";
    case SIGFPE: return "floating-point exception";
    case SIGILL: return "illegal instruction";
    case SIGABRT: return "abort";
    case SIGTRAP: return "trace trap";
    case SIGSYS: return "bad system call";
    default: return 0;
    }
}

/* A Go crash in Go's words: the first line the runtime printed ("panic: ...", "fatal error: ...") and
 * the goroutine. Returns 0 when the dump holds no such line (the caller then names the signal). */
static int tell_go_reason(struct ss_str *s)
{
    const struct lg_go_header *h = &R.d.go.h;
    if (!R.d.go.present || h->reason_off == LG_NONE || h->reason_off >= h->strings_size)
        return 0;
    const char *r = R.d.go.strings + h->reason_off;
    size_t n = 0;
    while (n < 300 && r[n] && r[n] != '\n')
        n++;
    ss_str_addn(s, r, n);
    if (h->crashing_goid) {
        ss_str_add(s, " [goroutine ");
        ss_str_u64(s, h->crashing_goid);
        ss_str_add(s, "]");
    }
    return 1;
}

static void tell(const struct outcome *o)
{
    if (rep_g.quiet)
        return;
    char line[1024];
    struct ss_str s;
    ss_str_init(&s, line, sizeof line);
    ss_str_add(&s, "lastgasp: ");
    if (tell_go_reason(&s))
        goto where;
    const char *name = rep_c.sig > 0 ? md_signal_name((uint32_t)rep_c.sig) : 0;
    ss_str_add(&s, name ? name : "signal");
    if (R.d.go.present && go_signal_words(rep_c.sig)) {
        ss_str_add(&s, ": ");
        ss_str_add(&s, go_signal_words(rep_c.sig));
    }
    if (rep_c.si.si_code <= 0) { /* sent (kill, tgkill, abort): si_addr holds no address */
        ss_str_add(&s, " from pid ");
        ss_str_u64(&s, (uint64_t)(uint32_t)rep_c.si.si_pid);
    } else {
        ss_str_add(&s, " at ");
        ss_str_hex(&s, (uint64_t)(uintptr_t)rep_c.si.si_addr);
    }
    ss_str_add(&s, " in ");
    const struct mdw_thread *t = R.nthreads ? &R.threads[0] : 0;
    const struct lg_frame_record *top = t && t->frame_count ? &R.frames[t->first_frame] : 0;
    if (top && top->symbol_off != LG_NONE) {
        ss_str_add(&s, R.st.buf + top->symbol_off);
        ss_str_add(&s, "+");
        ss_str_hex(&s, top->symbol_delta);
    } else if (top && top->module_index != LG_NONE) {
        const struct mdw_module *m = &R.modules[top->module_index];
        const char *base = m->path;
        for (uint32_t i = 0; i < m->path_len; i++)
            if (m->path[i] == '/')
                base = m->path + i + 1;
        ss_str_addn(&s, base, (size_t)(m->path + m->path_len - base));
        ss_str_add(&s, "+");
        ss_str_hex(&s, top->pc - m->base);
    } else {
        ss_str_hex(&s, rep_context_pc(&rep_c.uc));
    }
    if (R.d.go.present && R.d.go.h.crashing_goid) {
        ss_str_add(&s, " [goroutine ");
        ss_str_u64(&s, R.d.go.h.crashing_goid);
        ss_str_add(&s, "]");
    }
where:
    ss_str_add(&s, ", thread ");
    ss_str_u64(&s, (uint64_t)rep_c.tid);
    if (o->kept == 1 && !o->truncated) {
        ss_str_add(&s, "; dump: ");
    } else if (o->kept == 1) {
        /* "(error N)" first: operators and tests grep for it */
        const char *why = err_reason(o->err);
        ss_str_add(&s, "; dump TRUNCATED (error ");
        ss_str_i64(&s, -o->err);
        ss_str_add(&s, ") at ");
        ss_str_u64(&s, o->written);
        ss_str_add(&s, " bytes");
        if (why) {
            ss_str_add(&s, ": ");
            ss_str_add(&s, why);
        }
        ss_str_add(&s, "; what fits is kept: ");
    } else if (o->kept == 2) {
        ss_str_add(&s, o->truncated ? "; dump TRUNCATED and not named, " : "; dump written but not named, ");
        add_err(&s, o->err);
        ss_str_add(&s, "; kept as ");
    } else if (o->err == REP_NOT_DUMPABLE) {
        ss_str_add(&s, "; no dump: the process is not dumpable, and the kernel writes no core either");
    } else {
        ss_str_add(&s, "; no dump written to ");
        ss_str_add_escaped(&s, rep_dir_path());
        ss_str_add(&s, ": ");
        add_err(&s, o->err);
        if (o->written)
            ss_str_add(&s, "; the start of the file that fitted is too short to open and was removed");
    }
    if (o->kept) {
        ss_str_add_escaped(&s, rep_dir_path());
        ss_str_add(&s, "/");
        ss_str_add(&s, o->kept == 1 ? o->final : o->tmp);
    }
    ss_str_add(&s, "\n");
    ss_write_nowait(2, s.buf, s.len); /* stderr may be a stalled pipe, or have no reader: never wait */
}

/* Handler path, the reporting thread, after the report, back on the stack the signal arrived on: give the
 * pages the report touched back to the kernel before the process dies. In a memory cgroup near its limit they
 * would stay charged while the kernel writes the core dump, which then meets the OOM killer (SIGKILL instead
 * of the original death, a core cut short). MADV_DONTNEED, not munmap: the mappings stay valid (a thread still
 * inside the capture handler may read a slot; it reads zeros), they are only empty again. */
void rep_give_back(void)
{
    if (rep_g.arena.base && rep_g.arena.high)
        ss_madvise(rep_g.arena.base, rep_g.arena.high, 4 /* MADV_DONTNEED */);
    rep_g.arena.used = rep_g.arena.high = 0; /* the pages read as zeros again */
    if (rep_g.stack) {
        ss_madvise(rep_g.stack + 4096, REP_HANDLER_STACK, 4);
        ss_madvise(rep_g.nested_altstack, REP_NESTED_ALTSTACK, 4);
    }
}

/* Handler path, reporting thread, on the private stack. */
void rep_report(void *unused)
{
    (void)unused;
    ss_memset(&R, 0, sizeof R);
    ss_arena_reset(&rep_g.arena);
    char *notes_buf = alloc(REP_NOTES_CAP);
    char *strings = alloc(REP_STRINGS_CAP);
    uint32_t *slots = alloc(STRTAB_SLOTS * sizeof(uint32_t));
    static char fallback_notes[256];
    ss_str_init(&R.notes, notes_buf ? notes_buf : fallback_notes, notes_buf ? REP_NOTES_CAP : sizeof fallback_notes);
    static char fallback_strings[1];
    static uint32_t fallback_slot[1];
    rep_strtab_init(&R.st, strings ? strings : fallback_strings, strings ? REP_STRINGS_CAP : 0,
                    slots ? slots : fallback_slot, slots ? STRTAB_SLOTS : 1);
    ss_str_add(&R.notes, rep_c.early_notes);
    struct outcome out;
    ss_memset(&out, 0, sizeof out);
    out.err = rep_preflight();
    if (out.err < 0) {
        tell(&out);
        return;
    }

    R.d.signal = (uint32_t)rep_c.sig;
    R.d.si_code = rep_c.si.si_code;
    R.d.fault_address = (uint64_t)(uintptr_t)rep_c.si.si_addr;
    R.d.pid = (uint32_t)rep_c.pid;
    R.d.crashing_tid = (uint32_t)rep_c.tid;
    if (rep_c.si.si_code <= 0) {
        R.d.sender_pid = (uint32_t)rep_c.si.si_pid;
        R.d.sender_uid = rep_c.si.si_uid;
    }
    R.d.time_ns = ss_now_ns(0 /* CLOCK_REALTIME */);
    int trunc;
    ssize_t cn = ss_read_file(AT_FDCWD, "/proc/self/comm", R.comm, sizeof R.comm - 1, &trunc);
    R.comm[cn > 0 ? cn - (R.comm[cn - 1] == '\n') : 0] = 0;
    if (!R.comm[0])
        ss_strlcpy(R.comm, "process", sizeof R.comm);

    copy_annotations();
    read_go_crash_text();
    read_maps();
    R.modules = alloc(REP_MAX_MODULES * sizeof *R.modules);
    if (R.modules)
        R.nmodules = rep_collect_modules(R.maps, R.nmaps, R.modules, REP_MAX_MODULES);
    list_threads();
    capture_threads();
    capture_goroutines();
    memory_around_pc();
    if (R.ranges)
        R.nranges = mdw_ranges_normalize(R.ranges, R.nranges);
    system_info();
    R.d.proc_status = read_blob("/proc/self/status", STATUS_CAP, "/proc/self/status unreadable or cut");
    R.d.cmdline = read_blob("/proc/self/cmdline", CMDLINE_CAP, "/proc/self/cmdline unreadable or cut");
    R.d.auxv = read_blob("/proc/self/auxv", AUXV_CAP, "/proc/self/auxv unreadable or cut");
    container_identity();
    R.d.maps.data = R.maps_text;
    R.d.maps.size = (uint32_t)R.maps_len;
    if (rep_g.include_environ) {
        R.d.environ = read_blob("/proc/self/environ", ENVIRON_CAP, "/proc/self/environ unreadable or cut");
        R.d.flags |= LG_FLAG_ENVIRON;
    }
    if (R.st.full)
        note("string table full: some names are missing", 0);

    R.d.threads = R.threads;
    R.d.thread_count = R.nthreads;
    R.d.frames = R.frames;
    R.d.frame_count = R.nframes;
    R.d.modules = R.modules;
    R.d.module_count = R.nmodules;
    R.d.ranges = R.ranges;
    R.d.range_count = R.nranges;
    R.d.read_mem = read_mem;
    R.d.notes_off = R.notes.len ? rep_strtab_add(&R.st, R.notes.buf, R.notes.len) : LG_NONE;
    R.d.strings = R.st.buf;
    R.d.strings_size = R.st.len;

    write_dump(&out);
    __atomic_store_n(&rep_c.dump_kept, out.kept != 0, __ATOMIC_RELEASE);
    rep_release_threads();
    rep_symbols_reset();
    rep_cfi_reset();
    tell(&out);
}
