/* test_mdread.c — unit tests for the bounds-checked minidump reader (formats/read/).
 *
 * Dumps are built byte by byte here, from the shared layouts in formats/minidump/minidump.h, then broken on purpose:
 * each malformed case must give its own precise warning or error, keep every other stream readable, and never
 * touch memory outside the buffer (run under -fsanitize=address,undefined to prove the last part).
 *
 * `test_mdread --write-corpus DIR` also writes the built dumps as fuzzing seeds (tests/fuzz/corpus).
 */
#include "../../formats/read/mdread.h"
#include "../../formats/minidump/minidump.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- building dumps ---- */

#define MAX_DUMP 8192
#define NSTREAMS 11            /* the base set; the optional streams follow it in the directory */

struct opts {
    uint32_t lg_header_size;   /* 80 in v1; larger to test forward compatibility */
    uint32_t lg_thread_size;   /* 24 in v1 */
    uint32_t lg_frame_size;    /* 32 in v1 */
    uint16_t arch;
    int odd_module_name;       /* module 0's name length made odd */
    int go;                    /* add a Go stream (a Go program's dump) */
    uint32_t go_header_size;   /* 64 in v1 */
    uint32_t go_goroutine_size; /* 64 in v1 */
    uint32_t go_frame_size;    /* 24 in v1 */
    uint32_t go_stream_version; /* the Go stream's version: 0 or 1 writes v1 (no reason), 2 a reason */
    int annotations;           /* add the Crashpad info stream (3 annotations) and the Go crash text */
};

static const struct opts v1 = { 80, 24, 32, MD_CPU_ARCHITECTURE_AMD64, 0, 0, 0, 0, 0, 0, 0 };
static const struct opts go_v1 = { 80, 24, 32, MD_CPU_ARCHITECTURE_AMD64, 0, 1, 64, 64, 24, 1, 0 };
static const struct opts go_v2 = { 80, 24, 32, MD_CPU_ARCHITECTURE_AMD64, 0, 1, 64, 64, 24, 2, 0 };
static const struct opts ann_v1 = { 80, 24, 32, MD_CPU_ARCHITECTURE_AMD64, 0, 1, 64, 64, 24, 1, 1 };

/* Where things landed, so the malformed cases can patch them. */
struct dump {
    uint8_t b[MAX_DUMP];
    size_t len;
    size_t dir;                /* directory offset */
    size_t entry[NSTREAMS + 3]; /* directory entry offsets, in the order written */
    size_t nstreams;
    size_t threads, modules, lg, lg_frames, lg_strings;
    uint32_t lg_strings_size;
    size_t go, go_goroutines, go_frames, go_strings, go_size; /* the Go stream, when opts.go */
    size_t mod_name[2];
    int cp_entry, text_entry;  /* directory entries of the Crashpad info and the Go crash text, when present */
    size_t cp, cp_dict;        /* the Crashpad info struct and its dictionary */
    uint32_t cp_key[3], cp_value[3]; /* rvas of the annotations' strings */
    size_t text;
};

static size_t add(struct dump *d, const void *p, size_t n)
{
    size_t off = (d->len + 7) & ~(size_t)7;

    if (off + n > MAX_DUMP) {
        fprintf(stderr, "test dump too big\n");
        exit(1);
    }
    memset(d->b + d->len, 0, off - d->len);
    if (p)
        memcpy(d->b + off, p, n);
    else
        memset(d->b + off, 0, n);
    d->len = off + n;
    return off;
}

/* A "u32 count; entry[count]" list stream. */
static size_t add_list(struct dump *d, uint32_t count, const void *entries, size_t size)
{
    size_t off = add(d, NULL, 4 + size);

    memcpy(d->b + off, &count, 4);
    memcpy(d->b + off + 4, entries, size);
    return off;
}

static void put32(struct dump *d, size_t off, uint32_t v) { memcpy(d->b + off, &v, 4); }
static uint32_t get32(const struct dump *d, size_t off) { uint32_t v; memcpy(&v, d->b + off, 4); return v; }

static uint32_t add_string16(struct dump *d, const uint16_t *u, uint32_t units)
{
    uint32_t bytes = units * 2;
    size_t off = add(d, NULL, 4 + bytes + 2); /* length, UTF-16LE units, 2-byte terminator */

    memcpy(d->b + off, &bytes, 4);
    memcpy(d->b + off + 4, u, bytes);
    return (uint32_t)off;
}

static uint32_t add_string(struct dump *d, const char *ascii)
{
    uint16_t u[128];
    uint32_t n = (uint32_t)strlen(ascii);

    for (uint32_t i = 0; i < n; i++)
        u[i] = (uint8_t)ascii[i];
    return add_string16(d, u, n);
}

static void dir_entry(struct dump *d, int i, uint32_t type, size_t off, size_t size)
{
    struct md_directory e = { type, { (uint32_t)size, (uint32_t)off } };

    memcpy(d->b + d->entry[i], &e, sizeof e);
}

static struct md_context_amd64 context(uint64_t rip, uint64_t rsp)
{
    struct md_context_amd64 c;

    memset(&c, 0, sizeof c);
    c.context_flags = MD_CONTEXT_AMD64_FULL;
    c.rip = rip;
    c.rsp = rsp;
    c.rbp = rsp + 0x40;
    c.rax = 0xaaaa;
    return c;
}

static const char lg_strings[] = "crasher\0worker\0crash_null_write\0main\0maps cut at 256 KiB\nno environ";
#define S_CRASHER 0
#define S_WORKER 8
#define S_FUNC 15
#define S_MAIN 32
#define S_NOTES 37

static void add_lg(struct dump *d, const struct opts *o)
{
    struct lg_info_header h;
    struct lg_thread_record t[2] = {
        { 1234, LG_THREAD_OK, 0, 2, S_CRASHER, 1 },
        { 1235, LG_THREAD_NO_ANSWER, 2, 1, S_WORKER, 0 },
    };
    struct lg_frame_record f[3] = {
        { 0x55d0c0de1234, 0x7ffd00001000, 0, S_FUNC, 0x14, LG_TRUST_CONTEXT, { 0 } },
        { 0x55d0c0de1300, 0x7ffd00001050, 0, S_MAIN, 0x20, LG_TRUST_CFI, { 0 } },
        { 0x7f0000001000, 0x7ffd00002000, LG_NONE, LG_NONE, 0, LG_TRUST_FP, { 0 } },
    };
    size_t off;

    memset(&h, 0, sizeof h);
    h.version = 1;
    h.header_size = o->lg_header_size;
    h.signal = 11;
    h.si_code = 1;
    h.fault_address = 0;
    h.pid = 1233;
    h.crashing_tid = 1234;
    h.time_ns = 1700000000123456789ull;
    h.thread_count = 2;
    h.thread_record_size = o->lg_thread_size;
    h.frame_count = 3;
    h.frame_record_size = o->lg_frame_size;
    h.strings_size = sizeof lg_strings;
    h.notes_off = S_NOTES;
    /* Larger-than-v1 headers and records are padded with 0xee: a reader must skip those bytes. */
    d->lg = off = add(d, NULL, o->lg_header_size);
    memset(d->b + off, 0xee, o->lg_header_size);
    memcpy(d->b + off, &h, sizeof h);
    off += o->lg_header_size;
    for (int i = 0; i < 2; i++, off += o->lg_thread_size) {
        memset(d->b + off, 0xee, o->lg_thread_size);
        memcpy(d->b + off, &t[i], sizeof t[i]);
    }
    d->lg_frames = off;
    for (int i = 0; i < 3; i++, off += o->lg_frame_size) {
        memset(d->b + off, 0xee, o->lg_frame_size);
        memcpy(d->b + off, &f[i], sizeof f[i]);
    }
    d->lg_strings = off;
    d->lg_strings_size = sizeof lg_strings;
    memcpy(d->b + off, lg_strings, sizeof lg_strings);
    d->len = off + sizeof lg_strings;
}

/* The Go stream of a crash in main.crash (inlined into main.main) while goroutines 7 and 8 wait in main.worker:
 * their identical stacks share frame records 2..3, as the writer shares them. */
#define GO_REASON "panic: a [recovered]\n\tpanic: b\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1]\n"
static const char go_strings[] = "go1.26.8\0main.crash\0/src/app/main.go\0main.main\0runtime.gopark\0"
                                 "/usr/local/go/src/runtime/proc.go\0main.worker\0" GO_REASON "\0chan receive";
#define GO_NOW 500000000000000ull /* now_ns: about 5.8 days of CLOCK_MONOTONIC */

static uint32_t go_off(const char *str)
{
    for (size_t i = 0; i < sizeof go_strings; i += strlen(go_strings + i) + 1)
        if (strcmp(go_strings + i, str) == 0)
            return (uint32_t)i;
    fprintf(stderr, "no Go test string %s\n", str);
    exit(1);
}

static void add_go(struct dump *d, const struct opts *o)
{
    struct lg_go_header h;
    struct lg_go_goroutine g[3];
    struct lg_go_frame f[4] = {
        { 0x55d0c0de2100, go_off("main.crash"), go_off("/src/app/main.go"), 12, 1, { 0 } },
        { 0x55d0c0de2100, go_off("main.main"), go_off("/src/app/main.go"), 20, 0, { 0 } },
        { 0x55d0c0de1800, go_off("runtime.gopark"), go_off("/usr/local/go/src/runtime/proc.go"), 435, 0, { 0 } },
        { 0x55d0c0de2200, go_off("main.worker"), go_off("/src/app/main.go"), 30, 0, { 0 } },
    };
    size_t off;

    memset(g, 0, sizeof g);
    g[0] = (struct lg_go_goroutine){ 1, 0, 0, 2, LG_NONE, LG_GOROUTINE_CRASHED | LG_GOROUTINE_LOCKED, 1234, 0, 2,
                                     LG_NONE, LG_NONE, 0, 0 };
    g[1] = (struct lg_go_goroutine){ 7, 1, GO_NOW - 210000000000ull, 4, go_off("chan receive"), 0, 0, 2, 2,
                                     go_off("main.main"), go_off("/src/app/main.go"), 25, 0 };
    g[2] = g[1];
    g[2].goid = 8;
    g[2].wait_since_ns = GO_NOW - 10000000000ull;
    memset(&h, 0, sizeof h);
    h.version = o->go_stream_version > 1 ? o->go_stream_version : 1;
    h.header_size = o->go_header_size;
    if (h.version >= 2)
        h.reason_off = go_off(GO_REASON);
    h.go_version_off = go_off("go1.26.8");
    h.crashing_goid = 1;
    h.now_ns = GO_NOW;
    h.goroutine_count = 3;
    h.goroutine_record_size = o->go_goroutine_size;
    h.frame_count = 4;
    h.frame_record_size = o->go_frame_size;
    h.strings_size = sizeof go_strings;
    h.notes_off = LG_NONE;
    /* As in add_lg(): larger-than-v1 parts padded with 0xee, which the reader must skip. */
    d->go = off = add(d, NULL, o->go_header_size);
    memset(d->b + off, 0xee, o->go_header_size);
    memcpy(d->b + off, &h, sizeof h);
    off += o->go_header_size;
    d->go_goroutines = off;
    for (int i = 0; i < 3; i++, off += o->go_goroutine_size) {
        memset(d->b + off, 0xee, o->go_goroutine_size);
        memcpy(d->b + off, &g[i], sizeof g[i]);
    }
    d->go_frames = off;
    for (int i = 0; i < 4; i++, off += o->go_frame_size) {
        memset(d->b + off, 0xee, o->go_frame_size);
        memcpy(d->b + off, &f[i], sizeof f[i]);
    }
    d->go_strings = off;
    memcpy(d->b + off, go_strings, sizeof go_strings);
    d->len = off + sizeof go_strings;
    d->go_size = d->len - d->go;
}

static const char *const cp_keys[3] = { "build", "region", "user" };
static const char *const cp_values[3] = { "1234", "eu-west-1", "caf\xc3\xa9" };
static const char crash_text[] = "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/app/main.go:12 +0x1d\n";

/* A MinidumpUTF8String: u32 byte length, the bytes, a NUL. */
static uint32_t add_utf8(struct dump *d, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    size_t off = add(d, NULL, 4 + n + 1);

    memcpy(d->b + off, &n, 4);
    memcpy(d->b + off + 4, s, n);
    return (uint32_t)off;
}

/* The Crashpad info stream as Crashpad writes it (the struct is the stream; dictionary and strings after it),
 * then the Go crash text; each takes the next directory entry. */
static void add_crashpad(struct dump *d, int entry)
{
    struct md_crashpad_info ci;
    struct md_simple_string_dictionary_entry e[3];

    memset(&ci, 0, sizeof ci);
    ci.version = 1;
    d->cp = add(d, NULL, sizeof ci);
    for (int i = 0; i < 3; i++) {
        d->cp_key[i] = add_utf8(d, cp_keys[i]);
        d->cp_value[i] = add_utf8(d, cp_values[i]);
        e[i] = (struct md_simple_string_dictionary_entry){ d->cp_key[i], d->cp_value[i] };
    }
    d->cp_dict = add_list(d, 3, e, sizeof e);
    ci.simple_annotations = (struct md_location){ 4 + sizeof e, (uint32_t)d->cp_dict };
    memcpy(d->b + d->cp, &ci, sizeof ci);
    d->cp_entry = entry;
    dir_entry(d, entry, MD_CRASHPAD_INFO_STREAM, d->cp, sizeof ci);
    d->text = add(d, crash_text, sizeof crash_text - 1);
    d->text_entry = entry + 1;
    dir_entry(d, entry + 1, LG_STREAM_GO_CRASH_TEXT, d->text, sizeof crash_text - 1);
}

/* A small but complete lastgasp dump: every stream of formats/README.md except Environ and Auxv; the Go
 * stream when o->go, the Crashpad info and Go crash text when o->annotations. */
static void build(struct dump *d, const struct opts *o)
{
    struct md_header h = { MD_SIGNATURE, MD_VERSION, NSTREAMS + (o->go != 0) + 2 * (o->annotations != 0), 32, 0,
                           1700000000, 0 };
    struct md_exception_stream ex;
    struct md_system_info si;
    struct md_misc_info mi = { 24, MD_MISC1_PROCESS_ID, 1233, 0, 0, 0 };
    struct md_context_amd64 c0 = context(0x55d0c0de1234, 0x7ffd00001000), c1 = context(0x7f0000001000, 0x7ffd00002000);
    struct md_thread th[2];
    struct md_module mod[2];
    struct md_thread_name tn[2];
    struct md_memory_descriptor mem;
    /* "/lib/libé😀.so": a BMP character and a surrogate pair */
    static const uint16_t name1[] = { '/', 'l', 'i', 'b', '/', 'l', 'i', 'b', 0xe9, 0xd83d, 0xde00, '.', 's', 'o' };
    static const char cmdline[] = "./crasher\0segv";
    static const char maps[] = "55d0c0de0000-55d0c0de5000 r-xp 00000000 08:01 42 /usr/bin/crasher\n";
    static const char status[] = "Name:\tcrasher\nTgid:\t1233\nPid:\t1233\n";
    uint8_t cv[24], stack[64];
    size_t off, exc, ctx0, ctx1, sys, misc, names, mods, memlist, cmd, map, st, stk;
    uint32_t csd, tname[2];

    memset(d, 0, sizeof *d);
    add(d, &h, sizeof h);
    d->nstreams = h.stream_count;
    d->dir = add(d, NULL, d->nstreams * sizeof(struct md_directory));
    for (size_t i = 0; i < d->nstreams; i++)
        d->entry[i] = d->dir + i * sizeof(struct md_directory);

    exc = add(d, NULL, sizeof ex);
    add_lg(d, o);
    off = d->len - d->lg;
    dir_entry(d, 1, LG_STREAM_CRASH_INFO, d->lg, off);
    /* Right after the crash info, as the writer orders it; listed last in the directory. */
    if (o->go) {
        add_go(d, o);
        dir_entry(d, NSTREAMS, LG_STREAM_GO, d->go, d->go_size);
    }
    if (o->annotations)
        add_crashpad(d, NSTREAMS + (o->go != 0));

    csd = add_string(d, "Linux 6.1.0 #1 SMP x86_64");
    memset(&si, 0, sizeof si);
    si.processor_architecture = o->arch;
    si.number_of_processors = 4;
    si.platform_id = MD_OS_LINUX;
    si.csd_version_rva = csd;
    memcpy(si.cpu, "GenuineIntel", 12);
    sys = add(d, &si, sizeof si);
    dir_entry(d, 2, MD_SYSTEM_INFO_STREAM, sys, sizeof si);
    misc = add(d, &mi, sizeof mi);
    dir_entry(d, 3, MD_MISC_INFO_STREAM, misc, sizeof mi);

    ctx0 = add(d, &c0, sizeof c0);
    ctx1 = add(d, &c1, sizeof c1);
    for (int i = 0; i < (int)sizeof stack; i++)
        stack[i] = (uint8_t)i;
    stk = add(d, stack, sizeof stack);
    memset(th, 0, sizeof th);
    th[0].thread_id = 1234;
    th[0].stack = (struct md_memory_descriptor){ 0x7ffd00001000, { sizeof stack, (uint32_t)stk } };
    th[0].thread_context = (struct md_location){ sizeof c0, (uint32_t)ctx0 };
    th[1].thread_id = 1235;
    th[1].thread_context = (struct md_location){ sizeof c1, (uint32_t)ctx1 };
    d->threads = add_list(d, 2, th, sizeof th);
    dir_entry(d, 4, MD_THREAD_LIST_STREAM, d->threads, 4 + sizeof th);

    tname[0] = add_string(d, "crasher");
    tname[1] = add_string(d, "worker");
    tn[0] = (struct md_thread_name){ 1234, tname[0] };
    tn[1] = (struct md_thread_name){ 1235, tname[1] };
    names = add_list(d, 2, tn, sizeof tn);
    dir_entry(d, 5, MD_THREAD_NAME_LIST_STREAM, names, 4 + sizeof tn);

    d->mod_name[0] = add_string(d, "/usr/bin/crasher");
    if (o->odd_module_name)
        put32(d, d->mod_name[0], get32(d, d->mod_name[0]) - 1);
    d->mod_name[1] = add_string16(d, name1, sizeof name1 / 2);
    memcpy(cv, "LEpB", 4);
    for (int i = 0; i < 20; i++)
        cv[4 + i] = (uint8_t)(i + 1);
    off = add(d, cv, sizeof cv);
    memset(mod, 0, sizeof mod);
    mod[0].base_of_image = 0x55d0c0de0000;
    mod[0].size_of_image = 0x5000;
    mod[0].module_name_rva = (uint32_t)d->mod_name[0];
    mod[0].cv_record = (struct md_location){ sizeof cv, (uint32_t)off };
    mod[1].base_of_image = 0x7f0000000000;
    mod[1].size_of_image = 0x200000;
    mod[1].module_name_rva = (uint32_t)d->mod_name[1];
    mods = d->modules = add_list(d, 2, mod, sizeof mod);
    dir_entry(d, 6, MD_MODULE_LIST_STREAM, mods, 4 + sizeof mod);

    st = add(d, status, sizeof status - 1);
    dir_entry(d, 7, MD_LINUX_PROC_STATUS, st, sizeof status - 1);
    cmd = add(d, cmdline, sizeof cmdline);
    dir_entry(d, 8, MD_LINUX_CMD_LINE, cmd, sizeof cmdline);
    map = add(d, maps, sizeof maps - 1);
    dir_entry(d, 9, MD_LINUX_MAPS, map, sizeof maps - 1);

    /* The Exception stream is written last so that it can point at the crashing thread's context. */
    memset(&ex, 0, sizeof ex);
    ex.thread_id = 1234;
    ex.exception_code = 11;
    ex.exception_flags = 1;
    ex.exception_address = 0;
    ex.thread_context = (struct md_location){ sizeof c0, (uint32_t)ctx0 };
    memcpy(d->b + exc, &ex, sizeof ex);
    dir_entry(d, 0, MD_EXCEPTION_STREAM, exc, sizeof ex);

    /* MemoryList last, as the writer orders it: the stack bytes above are its one range. */
    mem = (struct md_memory_descriptor){ 0x7ffd00001000, { sizeof stack, (uint32_t)stk } };
    memlist = add_list(d, 1, &mem, sizeof mem);
    dir_entry(d, 10, MD_MEMORY_LIST_STREAM, memlist, 4 + sizeof mem);
}

/* ---- helpers for checks ---- */

static int has_warning(const struct mdr_dump *md, const char *text)
{
    for (size_t i = 0; i < md->nwarnings; i++)
        if (strstr(md->warnings[i], text))
            return 1;
    return 0;
}

static void dump_warnings(const struct mdr_dump *md)
{
    for (size_t i = 0; i < md->nwarnings; i++)
        printf("    warning: %s\n", md->warnings[i]);
}

static int open_dump(struct mdr_dump *md, const struct dump *d, size_t len, char *err, size_t errlen)
{
    return mdr_open(md, d->b, len, err, errlen);
}

/* ---- the cases ---- */

static void test_valid(void)
{
    struct dump d;
    struct mdr_dump md;
    char err[256];
    const struct mdr_module *m;

    build(&d, &v1);
    CHECK(d.len < 4096);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(md.nwarnings == 0);
    CHECK(err[0] == '\0');
    if (md.nwarnings)
        dump_warnings(&md);
    CHECK(md.nstreams == NSTREAMS);
    for (size_t i = 0; i < md.nstreams; i++)
        CHECK(md.streams[i].state == MDR_STREAM_READ);

    CHECK(md.exception.present);
    CHECK(md.exception.tid == 1234 && md.exception.code == 11 && md.exception.flags == 1);
    CHECK(md.exception.ctx.arch == MDR_ARCH_AMD64);
    CHECK(md.exception.ctx.reg[MDR_RIP] == 0x55d0c0de1234);
    CHECK(md.exception.ctx.reg[MDR_RSP] == 0x7ffd00001000);
    CHECK(md.exception.ctx.reg[MDR_RBP] == 0x7ffd00001040);
    CHECK(md.exception.ctx.reg[MDR_RAX] == 0xaaaa);

    CHECK(md.sysinfo.present && md.sysinfo.arch == MD_CPU_ARCHITECTURE_AMD64 && md.sysinfo.cpu_count == 4);
    CHECK(md.sysinfo.csd_version && strcmp(md.sysinfo.csd_version, "Linux 6.1.0 #1 SMP x86_64") == 0);
    CHECK(strcmp(md.sysinfo.cpu_vendor, "GenuineIntel") == 0);
    CHECK(md.has_pid && md.pid == 1233);

    CHECK(md.nthreads == 2);
    if (md.nthreads == 2) {
        CHECK(md.threads[0].tid == 1234 && md.threads[1].tid == 1235);
        CHECK(md.threads[0].name && strcmp(md.threads[0].name, "crasher") == 0);
        CHECK(md.threads[1].name && strcmp(md.threads[1].name, "worker") == 0);
        CHECK(md.threads[1].ctx.reg[MDR_RIP] == 0x7f0000001000);
        CHECK(md.threads[0].stack && md.threads[0].stack_size == 64 && md.threads[0].stack[5] == 5);
    }
    CHECK(mdr_thread_by_tid(&md, 1235) == &md.threads[1]);
    CHECK(mdr_thread_by_tid(&md, 99) == NULL);

    CHECK(md.nmodules == 2);
    if (md.nmodules == 2) {
        CHECK(md.modules[0].path && strcmp(md.modules[0].path, "/usr/bin/crasher") == 0);
        CHECK(md.modules[0].build_id &&
              strcmp(md.modules[0].build_id, "0102030405060708090a0b0c0d0e0f1011121314") == 0);
        CHECK(md.modules[1].path && strcmp(md.modules[1].path, "/lib/lib\xc3\xa9\xf0\x9f\x98\x80.so") == 0);
        CHECK(md.modules[1].build_id == NULL);
    }
    m = mdr_module_at(&md, 0x55d0c0de4fff);
    CHECK(m == &md.modules[0]);
    CHECK(mdr_module_at(&md, 0x55d0c0de5000) == NULL);
    CHECK(mdr_module_at(&md, 0x7f0000001000) == &md.modules[1]);
    CHECK(mdr_module_at(&md, 0) == NULL);

    CHECK(md.nmemory == 1 && md.memory[0].start == 0x7ffd00001000 && md.memory[0].data);
    CHECK(md.cmdline.data && md.cmdline.len == 15 && memcmp(md.cmdline.data, "./crasher\0segv", 15) == 0);
    CHECK(md.maps.data && md.maps.len > 10);
    CHECK(md.proc_status.data && md.environment.data == NULL && md.auxv.data == NULL);

    CHECK(md.lg.present);
    CHECK(md.lg.version == 1 && md.lg.signal == 11 && md.lg.si_code == 1 && md.lg.fault_address == 0);
    CHECK(md.lg.pid == 1233 && md.lg.crashing_tid == 1234 && md.lg.time_ns == 1700000000123456789ull);
    CHECK(md.lg.nthreads == 2 && md.lg.nframes == 3);
    if (md.lg.nthreads == 2 && md.lg.nframes == 3) {
        CHECK(md.lg.threads[0].tid == 1234 && md.lg.threads[0].crashed && md.lg.threads[0].frame_count == 2);
        CHECK(md.lg.threads[0].name && strcmp(md.lg.threads[0].name, "crasher") == 0);
        CHECK(md.lg.threads[1].status == LG_THREAD_NO_ANSWER && !md.lg.threads[1].crashed);
        CHECK(md.lg.threads[1].first_frame == 2 && md.lg.threads[1].frame_count == 1);
        CHECK(md.lg.frames[0].pc == 0x55d0c0de1234 && md.lg.frames[0].symbol_delta == 0x14);
        CHECK(md.lg.frames[0].symbol && strcmp(md.lg.frames[0].symbol, "crash_null_write") == 0);
        CHECK(md.lg.frames[1].trust == LG_TRUST_CFI && md.lg.frames[1].module_index == 0);
        CHECK(md.lg.frames[2].symbol == NULL && md.lg.frames[2].module_index == LG_NONE);
    }
    CHECK(md.lg.notes && strcmp(md.lg.notes, "maps cut at 256 KiB\nno environ") == 0);
    mdr_close(&md);
}

/* Records and headers larger than v1 (a future writer) read the same, their extra bytes skipped. */
static void test_forward_compatible(void)
{
    struct opts o = v1;
    struct dump d;
    struct mdr_dump md;
    char err[256];

    o.lg_header_size = 96;
    o.lg_thread_size = 32;
    o.lg_frame_size = 40;
    build(&d, &o);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(md.nwarnings == 0);
    CHECK(md.lg.present && md.lg.header_size == 96 && md.lg.nthreads == 2 && md.lg.nframes == 3);
    if (md.lg.nthreads == 2 && md.lg.nframes == 3) {
        CHECK(md.lg.threads[1].tid == 1235 && md.lg.threads[1].first_frame == 2);
        CHECK(md.lg.frames[1].pc == 0x55d0c0de1300);
        CHECK(md.lg.frames[1].symbol && strcmp(md.lg.frames[1].symbol, "main") == 0);
    }
    CHECK(md.lg.notes != NULL);
    mdr_close(&md);

    /* Smaller than v1 cannot be read: said, and the rest of the dump still is. */
    o.lg_header_size = 80;
    o.lg_thread_size = 16;
    build(&d, &o);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(has_warning(&md, "lastgasp: thread record size 16 is smaller than v1's 24; 2 records ignored"));
    CHECK(md.lg.present && md.lg.nthreads == 0 && md.lg.nframes == 3);
    CHECK(md.nthreads == 2 && md.nmodules == 2);
    mdr_close(&md);
}

static void test_not_minidump(void)
{
    struct dump d;
    struct mdr_dump md;
    char err[256];

    build(&d, &v1);
    memcpy(d.b, "MDMQ", 4);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_NOT_MINIDUMP);
    CHECK(strcmp(err, "not a minidump: signature 0x514d444d is not \"MDMP\"") == 0);
    mdr_close(&md);

    CHECK(open_dump(&md, &d, 31, err, sizeof err) == MDR_NOT_MINIDUMP);
    CHECK(strcmp(err, "not a minidump: 31 bytes, shorter than the 32-byte header") == 0);
    mdr_close(&md);

    CHECK(mdr_open(&md, NULL, 0, err, sizeof err) == MDR_NOT_MINIDUMP);
    mdr_close(&md);

    CHECK(mdr_open_file(&md, "/nonexistent/dump.dmp", err, sizeof err) == MDR_IO);
    CHECK(strcmp(err, "cannot open: No such file or directory") == 0);
    mdr_close(&md);
}

static void test_directory_past_eof(void)
{
    struct dump d;
    struct mdr_dump md;
    char err[256], want[256];
    struct md_header h;

    /* Count larger than the file: the entries present are read, and all streams with them. */
    build(&d, &v1);
    memcpy(&h, d.b, sizeof h);
    h.stream_count = 100000;
    memcpy(d.b, &h, sizeof h);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    snprintf(want, sizeof want, "stream directory at rva 0x20 (100000 entries of 12 bytes) passes end of file "
             "(size 0x%zx); reading %zu entries", d.len, (d.len - 32) / 12);
    CHECK(strcmp(err, want) == 0);
    CHECK(md.exception.present && md.lg.present && md.nthreads == 2 && md.nmodules == 2 && md.nmemory == 1);
    mdr_close(&md);

    /* Directory entirely outside the file: a minidump with nothing readable. */
    build(&d, &v1);
    memcpy(&h, d.b, sizeof h);
    h.stream_directory_rva = 0x10000;
    memcpy(d.b, &h, sizeof h);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(strstr(err, "stream directory at rva 0x10000 (11 entries of 12 bytes) passes end of file") != NULL);
    CHECK(md.nstreams == 0 && !md.exception.present && !md.lg.present);
    mdr_close(&md);
}

static void test_stream_past_eof(void)
{
    struct dump d;
    struct mdr_dump md;
    char err[256], want[256];
    uint32_t rva;
    size_t cut;

    /* Cut the file in the middle of the MemoryList's one range: its bytes are gone, the rest stays. */
    build(&d, &v1);
    rva = get32(&d, d.entry[10] + 8);
    cut = rva + 10;
    CHECK(open_dump(&md, &d, cut, err, sizeof err) == MDR_OK);
    snprintf(want, sizeof want, "stream 5 (MemoryList) at rva 0x%x size 0x14 passes end of file (size 0x%zx); "
             "reading the 0xa bytes present", (unsigned)rva, cut);
    CHECK(strcmp(err, want) == 0);
    CHECK(has_warning(&md, "stream 5 (MemoryList): count 1 needs 0x14 bytes, stream has 0xa; reading 0"));
    CHECK(md.streams[10].state == MDR_STREAM_PARTIAL);
    CHECK(md.nmemory == 0);
    CHECK(md.exception.present && md.lg.present && md.lg.nframes == 3 && md.nthreads == 2);
    CHECK(md.nmodules == 2 && md.modules[0].path && md.cmdline.data);
    mdr_close(&md);

    /* A stream that starts past the end cannot be read at all. */
    build(&d, &v1);
    put32(&d, d.entry[0] + 8, 0x9000);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    snprintf(want, sizeof want, "stream 6 (Exception) at rva 0x9000 size 0xa8 starts past end of file "
             "(size 0x%zx)", d.len);
    CHECK(strcmp(err, want) == 0);
    CHECK(md.streams[0].state == MDR_STREAM_BAD && !md.exception.present);
    CHECK(md.lg.present && md.nthreads == 2);
    mdr_close(&md);

    /* Every truncation of a valid dump opens (or is refused) cleanly, and keeps what lies before the cut. */
    build(&d, &v1);
    {
        int bad = 0;

        for (size_t len = 0; len <= d.len; len++) {
            int rc = open_dump(&md, &d, len, err, sizeof err);

            if ((len < 32) != (rc == MDR_NOT_MINIDUMP))
                bad++;
            if (len >= d.lg + 80 && !md.lg.present)
                bad++;
            mdr_close(&md);
        }
        CHECK(bad == 0);
    }
}

static void test_overflow(void)
{
    struct dump d;
    struct mdr_dump md;
    char err[256], want[256];
    uint32_t rva;

    build(&d, &v1);
    rva = get32(&d, d.entry[4] + 8);
    put32(&d, d.entry[4] + 4, 0xfffffff0u); /* ThreadList size: rva + size wraps a u32 */
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    snprintf(want, sizeof want, "stream 3 (ThreadList) at rva 0x%x size 0xfffffff0: rva + size overflows 32 bits "
             "(file size 0x%zx)", (unsigned)rva, d.len);
    CHECK(strncmp(err, want, strlen(want)) == 0);
    CHECK(md.streams[4].state == MDR_STREAM_PARTIAL);
    CHECK(md.nthreads == 2); /* the count inside still bounds the list */
    mdr_close(&md);

    /* A context location that wraps is refused, not followed. */
    build(&d, &v1);
    put32(&d, d.threads + 4 + 48 + 40 + 4, 0xffffff00u); /* thread 1's context rva */
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(has_warning(&md, "thread 1235: context at rva 0xffffff00 size 0x4d0 passes end of file"));
    CHECK(md.nthreads == 2 && md.threads[1].ctx.arch == MDR_ARCH_NONE);
    CHECK(md.threads[0].ctx.arch == MDR_ARCH_AMD64);
    mdr_close(&md);
}

static void test_module_names(void)
{
    struct dump d;
    struct opts o = v1;
    struct mdr_dump md;
    char err[256], want[256];

    o.odd_module_name = 1;
    build(&d, &o);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    snprintf(want, sizeof want, "module 0 (base 0x55d0c0de0000) name: string at rva 0x%zx has odd byte length "
             "0x1f; last byte ignored", d.mod_name[0]);
    CHECK(strcmp(err, want) == 0);
    CHECK(md.nmodules == 2 && md.modules[0].path && strcmp(md.modules[0].path, "/usr/bin/crashe") == 0);
    mdr_close(&md);

    /* Name length passing the end of the file. */
    build(&d, &v1);
    put32(&d, d.mod_name[1], 0x7ffffff0u);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    snprintf(want, sizeof want, "module 1 (base 0x7f0000000000) name: string at rva 0x%zx length 0x7ffffff0 "
             "passes end of file (size 0x%zx)", d.mod_name[1], d.len);
    CHECK(strcmp(err, want) == 0);
    CHECK(md.nmodules == 2 && md.modules[1].path == NULL && md.modules[0].path != NULL);
    mdr_close(&md);

    /* Name rva itself past the end. */
    build(&d, &v1);
    put32(&d, d.modules + 4 + 108 + 20, (uint32_t)d.len - 2);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    snprintf(want, sizeof want, "module 1 (base 0x7f0000000000) name: string at rva 0x%zx passes end of file",
             d.len - 2);
    CHECK(strncmp(err, want, strlen(want)) == 0);
    CHECK(md.modules[1].path == NULL && md.modules[1].size == 0x200000);
    mdr_close(&md);
}

static void test_lg_strings(void)
{
    struct dump d;
    struct mdr_dump md;
    char err[256], want[256];

    build(&d, &v1);
    put32(&d, d.lg_frames + 32 + 20, 0x10000); /* frame 1's symbol_off */
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    snprintf(want, sizeof want, "lastgasp: frame 1: string offset 0x10000 outside the strings area (size 0x%x)",
             (unsigned)d.lg_strings_size);
    CHECK(strcmp(err, want) == 0);
    CHECK(md.lg.nframes == 3 && md.lg.frames[1].symbol == NULL && md.lg.frames[0].symbol != NULL);
    CHECK(md.lg.frames[1].pc == 0x55d0c0de1300);
    mdr_close(&md);

    /* The last string loses its terminator: the notes are refused, the other strings stay. */
    build(&d, &v1);
    d.b[d.lg_strings + d.lg_strings_size - 1] = 'X';
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(has_warning(&md, "lastgasp: notes: string at offset 0x25 not NUL-terminated within the strings area"));
    CHECK(md.lg.notes == NULL && md.lg.threads && md.lg.threads[1].name);
    CHECK(md.lg.threads && strcmp(md.lg.threads[1].name, "worker") == 0);
    mdr_close(&md);

    /* A module index outside the ModuleList is dropped, not followed. */
    build(&d, &v1);
    put32(&d, d.lg_frames + 16, 7);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(has_warning(&md, "lastgasp: frame 0: module index 7 outside the ModuleList (2 modules)"));
    CHECK(md.lg.frames[0].module_index == LG_NONE);
    mdr_close(&md);
}

static void test_counts_too_large(void)
{
    struct dump d;
    struct mdr_dump md;
    char err[256];

    build(&d, &v1);
    put32(&d, d.threads, 1000);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(strcmp(err, "stream 3 (ThreadList): count 1000 needs 0xbb84 bytes, stream has 0x64; reading 2") == 0);
    CHECK(md.nthreads == 2 && md.threads[1].tid == 1235);
    mdr_close(&md);

    /* lastgasp thread_count larger than its stream: the records present are read, the frames after them
     * cannot be located. */
    build(&d, &v1);
    put32(&d, d.lg + 48, 5000);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(strstr(err, "lastgasp: 5000 thread records of 24 bytes at offset 0x50 pass end of stream") != NULL);
    CHECK(md.lg.present && md.lg.nthreads > 2 && md.lg.threads[0].tid == 1234 && md.lg.nframes == 0);
    CHECK(md.lg.threads[0].frame_count == 0); /* clamped to the frames actually read */
    mdr_close(&md);

    /* A thread's frame range outside the frame records is clamped. */
    build(&d, &v1);
    put32(&d, d.lg + 80 + 24 + 12, 50); /* thread 1 frame_count */
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(strcmp(err, "lastgasp: thread 1 (tid 1235): frames 2..52 outside the 3 frame records") == 0);
    CHECK(md.lg.threads[1].first_frame == 2 && md.lg.threads[1].frame_count == 1);
    mdr_close(&md);

    /* Threads sharing frames are made disjoint, so output stays bounded by the file. */
    build(&d, &v1);
    put32(&d, d.lg + 80 + 24 + 8, 0); /* thread 1 first_frame = 0: overlaps thread 0's 0..2 */
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(has_warning(&md, "lastgasp: thread 1 (tid 1235): frames 0..1 overlap another thread's; cut"));
    CHECK(md.lg.threads[0].frame_count == 2 && md.lg.threads[1].frame_count == 0);
    mdr_close(&md);
}

static void test_duplicates_and_unknown(void)
{
    struct dump d;
    struct mdr_dump md;
    char err[256];

    build(&d, &v1);
    /* The Maps entry becomes a second Exception stream pointing at garbage; an unknown type replaces Cmdline. */
    put32(&d, d.entry[9], MD_EXCEPTION_STREAM);
    put32(&d, d.entry[8], 0x47670005);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(strcmp(err, "stream 6 (Exception) at directory entry 9 duplicates entry 0; ignored (the first wins)") == 0);
    CHECK(md.streams[9].state == MDR_STREAM_DUPLICATE && md.streams[8].state == MDR_STREAM_UNKNOWN);
    CHECK(md.exception.present && md.exception.tid == 1234);
    CHECK(md.cmdline.data == NULL && md.maps.data == NULL);
    CHECK(md.nwarnings == 1);
    mdr_close(&md);
}

static void test_unsupported_arch(void)
{
    struct dump d;
    struct opts o = v1;
    struct mdr_dump md;
    char err[256];

    o.arch = 2; /* mips: a layout this reader does not decode */
    build(&d, &o);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(strcmp(err, "CPU context: unsupported architecture mips (0x2); registers not decoded") == 0);
    CHECK(md.nwarnings == 1); /* said once, not once per context */
    CHECK(md.exception.ctx.arch == MDR_ARCH_UNSUPPORTED && md.threads[0].ctx.arch == MDR_ARCH_UNSUPPORTED);
    CHECK(md.lg.present && md.nmodules == 2);
    mdr_close(&md);
}

/* ---- the Go stream ---- */

static void test_go_valid(void)
{
    struct dump d;
    struct mdr_dump md;
    char err[256];
    const struct mdr_go_goroutine *g;
    const struct mdr_go_frame *f;

    build(&d, &go_v1);
    CHECK(d.len < 4608); /* a small fuzzing seed */
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(md.nwarnings == 0 && err[0] == '\0');
    if (md.nwarnings)
        dump_warnings(&md);
    CHECK(md.nstreams == NSTREAMS + 1);
    CHECK(md.streams[NSTREAMS].type == LG_STREAM_GO && md.streams[NSTREAMS].state == MDR_STREAM_READ);
    CHECK(strcmp(mdr_stream_name(LG_STREAM_GO), "lastgasp Go") == 0);
    /* The Go stream changes nothing else. */
    CHECK(md.lg.present && md.lg.nthreads == 2 && md.lg.nframes == 3 && md.nthreads == 2 && md.nmodules == 2);

    CHECK(md.go.present && md.go.version == 1 && md.go.header_size == 64);
    CHECK(md.go.go_version && strcmp(md.go.go_version, "go1.26.8") == 0);
    CHECK(md.go.reason == NULL); /* v1: the field was reserved, 0, and 0 is no reason */
    CHECK(md.go.flags == 0 && md.go.crashing_goid == 1);
    CHECK_EQ_U64(md.go.now_ns, GO_NOW);
    CHECK(md.go.notes == NULL);
    CHECK(md.go.ngoroutines == 3 && md.go.nframes == 4);
    if (md.go.ngoroutines != 3 || md.go.nframes != 4) {
        mdr_close(&md);
        return;
    }
    f = md.go.frames;
    CHECK_EQ_U64(f[0].pc, 0x55d0c0de2100);
    CHECK(f[0].function && strcmp(f[0].function, "main.crash") == 0);
    CHECK(f[0].file && strcmp(f[0].file, "/src/app/main.go") == 0);
    CHECK(f[0].line == 12 && f[0].inlined);
    CHECK(f[1].pc == f[0].pc && !f[1].inlined && f[1].line == 20);
    CHECK(f[1].function && strcmp(f[1].function, "main.main") == 0);
    CHECK(f[2].function && strcmp(f[2].function, "runtime.gopark") == 0 && f[2].line == 435);
    CHECK(f[2].file && strcmp(f[2].file, "/usr/local/go/src/runtime/proc.go") == 0);
    CHECK(f[3].pc == 0x55d0c0de2200 && f[3].line == 30 && !f[3].inlined);

    g = &md.go.goroutines[0];
    CHECK(g->goid == 1 && g->parent_goid == 0 && g->wait_since_ns == 0 && g->status == 2);
    CHECK(g->wait_reason == NULL && g->flags == (LG_GOROUTINE_CRASHED | LG_GOROUTINE_LOCKED));
    CHECK(g->thread_tid == 1234 && g->frames == &md.go.frames[0] && g->nframes == 2);
    CHECK(g->created_by_function == NULL && g->created_by_file == NULL && g->created_by_line == 0);

    g = &md.go.goroutines[1];
    CHECK(g->goid == 7 && g->parent_goid == 1 && g->status == 4 && g->flags == 0 && g->thread_tid == 0);
    CHECK_EQ_U64(g->wait_since_ns, GO_NOW - 210000000000ull);
    CHECK(g->wait_reason && strcmp(g->wait_reason, "chan receive") == 0);
    CHECK(g->frames == &md.go.frames[2] && g->nframes == 2);
    CHECK(g->created_by_function && strcmp(g->created_by_function, "main.main") == 0);
    CHECK(g->created_by_file && strcmp(g->created_by_file, "/src/app/main.go") == 0);
    CHECK(g->created_by_line == 25);

    /* Goroutine 8 shares goroutine 7's frame records: kept as they are, no warning. */
    g = &md.go.goroutines[2];
    CHECK(g->goid == 8 && g->frames == md.go.goroutines[1].frames && g->nframes == 2);
    CHECK_EQ_U64(g->wait_since_ns, GO_NOW - 10000000000ull);
    mdr_close(&md);

    /* A dump without the stream has no Go part. */
    build(&d, &v1);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(!md.go.present && md.go.ngoroutines == 0 && md.go.goroutines == NULL);
    mdr_close(&md);
}

static void test_go_forward_compatible(void)
{
    struct opts o = go_v1;
    struct dump d;
    struct mdr_dump md;
    char err[256];

    o.go_header_size = 72;
    o.go_goroutine_size = 80;
    o.go_frame_size = 32;
    build(&d, &o);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(md.nwarnings == 0);
    if (md.nwarnings)
        dump_warnings(&md);
    CHECK(md.go.present && md.go.header_size == 72 && md.go.ngoroutines == 3 && md.go.nframes == 4);
    if (md.go.ngoroutines == 3 && md.go.nframes == 4) {
        CHECK(md.go.goroutines[2].goid == 8 && md.go.goroutines[2].frames == &md.go.frames[2]);
        CHECK(md.go.goroutines[1].created_by_line == 25);
        CHECK(md.go.frames[3].function && strcmp(md.go.frames[3].function, "main.worker") == 0);
        CHECK(md.go.frames[0].inlined && !md.go.frames[3].inlined);
    }
    CHECK(md.go.go_version && strcmp(md.go.go_version, "go1.26.8") == 0);
    mdr_close(&md);
}

static void test_go_strings(void)
{
    struct dump d;
    struct mdr_dump md;
    char err[256], want[256];

    /* A wait reason outside the strings area: that string is dropped, the record and the rest kept. */
    build(&d, &go_v1);
    put32(&d, d.go_goroutines + 64 + 28, 0x10000);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    snprintf(want, sizeof want, "lastgasp Go: goroutine 1 wait_reason: string offset 0x10000 outside the strings "
             "area (size 0x%zx)", sizeof go_strings);
    CHECK(strcmp(err, want) == 0);
    CHECK(md.nwarnings == 1);
    CHECK(md.go.ngoroutines == 3 && md.go.goroutines[1].wait_reason == NULL);
    CHECK(md.go.goroutines[1].goid == 7 && md.go.goroutines[1].nframes == 2);
    CHECK(md.go.goroutines[2].wait_reason && strcmp(md.go.goroutines[2].wait_reason, "chan receive") == 0);
    mdr_close(&md);

    /* The bad offsets of a frame's file, a creator and the version: each named, each dropped alone. */
    build(&d, &go_v1);
    put32(&d, d.go_frames + 3 * 24 + 12, (uint32_t)sizeof go_strings); /* frame 3 file: one past the end */
    put32(&d, d.go_goroutines + 2 * 64 + 48, LG_NONE - 1);              /* goroutine 2 created_by_function */
    put32(&d, d.go + 8, 0x8000);                                        /* go_version_off */
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    snprintf(want, sizeof want, "lastgasp Go: frame 3 file: string offset 0x%zx outside the strings area "
             "(size 0x%zx)", sizeof go_strings, sizeof go_strings);
    CHECK(has_warning(&md, want));
    snprintf(want, sizeof want, "lastgasp Go: goroutine 2 created_by_function: string offset 0xfffffffe outside "
             "the strings area (size 0x%zx)", sizeof go_strings);
    CHECK(has_warning(&md, want));
    snprintf(want, sizeof want, "lastgasp Go: go_version: string offset 0x8000 outside the strings area "
             "(size 0x%zx)", sizeof go_strings);
    CHECK(has_warning(&md, want));
    CHECK(md.nwarnings == 3);
    CHECK(md.go.go_version == NULL && md.go.frames[3].file == NULL && md.go.frames[3].function != NULL);
    CHECK(md.go.goroutines[2].created_by_function == NULL && md.go.goroutines[2].created_by_file != NULL);
    CHECK(md.go.goroutines[1].created_by_function != NULL);
    mdr_close(&md);

    /* The last string loses its terminator: both wait reasons that use it are refused, nothing else. */
    build(&d, &go_v1);
    d.b[d.go_strings + sizeof go_strings - 1] = 'X';
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    snprintf(want, sizeof want, "lastgasp Go: goroutine 1 wait_reason: string at offset 0x%x not NUL-terminated "
             "within the strings area (size 0x%zx)", (unsigned)go_off("chan receive"), sizeof go_strings);
    CHECK(strcmp(err, want) == 0);
    CHECK(has_warning(&md, "lastgasp Go: goroutine 2 wait_reason: string at offset"));
    CHECK(md.nwarnings == 2);
    CHECK(md.go.goroutines[1].wait_reason == NULL && md.go.goroutines[2].wait_reason == NULL);
    CHECK(md.go.go_version && md.go.frames[3].function && strcmp(md.go.frames[3].function, "main.worker") == 0);
    mdr_close(&md);
}

static void test_go_frame_ranges(void)
{
    struct dump d;
    struct mdr_dump md;
    char err[256];

    /* Past the frame records: clamped to the records present, as the crash info clamps a thread's range. */
    build(&d, &go_v1);
    put32(&d, d.go_goroutines + 2 * 64 + 44, 50); /* goroutine 2 frame_count */
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(strcmp(err, "lastgasp Go: goroutine 2 (goid 8): frames 2..52 outside the 4 frame records") == 0);
    CHECK(md.nwarnings == 1);
    CHECK(md.go.goroutines[2].frames == &md.go.frames[2] && md.go.goroutines[2].nframes == 2);
    CHECK(md.go.goroutines[1].frames == &md.go.frames[2] && md.go.goroutines[1].nframes == 2);
    mdr_close(&md);

    /* A first frame past the end leaves no frames at all. */
    build(&d, &go_v1);
    put32(&d, d.go_goroutines + 40, 9); /* goroutine 0 first_frame */
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(strcmp(err, "lastgasp Go: goroutine 0 (goid 1): frames 9..11 outside the 4 frame records") == 0);
    CHECK(md.go.goroutines[0].nframes == 0 && md.go.goroutines[0].frames == NULL);
    mdr_close(&md);

    /* first_frame + frame_count wraps a u32: still outside, not a small range. */
    build(&d, &go_v1);
    put32(&d, d.go_goroutines + 64 + 40, 3);
    put32(&d, d.go_goroutines + 64 + 44, 0xffffffffu);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(strcmp(err, "lastgasp Go: goroutine 1 (goid 7): frames 3..4294967298 outside the 4 frame records") == 0);
    CHECK(md.go.goroutines[1].frames == &md.go.frames[3] && md.go.goroutines[1].nframes == 1);
    mdr_close(&md);

    /* Every goroutine on all the frames, overlapping: allowed, no warning. */
    build(&d, &go_v1);
    for (int i = 0; i < 3; i++) {
        put32(&d, d.go_goroutines + i * 64 + 40, 0);
        put32(&d, d.go_goroutines + i * 64 + 44, 4);
    }
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(md.nwarnings == 0);
    for (int i = 0; i < 3; i++)
        CHECK(md.go.goroutines[i].frames == md.go.frames && md.go.goroutines[i].nframes == 4);
    mdr_close(&md);
}

/* v2 has the reason: read from its offset; LG_NONE is none; an offset past the strings is a warning, not a
 * string. A future version keeps it. */
static void test_go_reason(void)
{
    struct dump d;
    struct mdr_dump md;
    struct opts o = go_v2;
    char err[256];

    build(&d, &go_v2);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(md.nwarnings == 0);
    CHECK(md.go.present && md.go.version == 2);
    CHECK(md.go.reason && strcmp(md.go.reason, GO_REASON) == 0);
    CHECK(md.go.go_version && strcmp(md.go.go_version, "go1.26.8") == 0 && md.go.ngoroutines == 3);
    mdr_close(&md);

    put32(&d, d.go + 60, LG_NONE);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(md.nwarnings == 0 && md.go.reason == NULL);
    mdr_close(&md);

    put32(&d, d.go + 60, 0x8000);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(md.go.reason == NULL && md.nwarnings == 1);
    if (md.nwarnings == 1)
        CHECK(strstr(md.warnings[0], "reason") != NULL);
    mdr_close(&md);

    o.go_stream_version = 3;
    o.go_header_size = 72;
    build(&d, &o);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(md.nwarnings == 0 && md.go.version == 3 && md.go.header_size == 72);
    CHECK(md.go.reason && strcmp(md.go.reason, GO_REASON) == 0);
    mdr_close(&md);
}

/* More frames than the reader's bound in one goroutine: cut there, so output stays bounded by the records. */
static void test_go_frame_bound(void)
{
    const uint32_t nframes = MDR_GO_MAX_GOROUTINE_FRAMES + 100;
    size_t stream = sizeof(struct lg_go_header) + sizeof(struct lg_go_goroutine) +
                    nframes * sizeof(struct lg_go_frame);
    size_t len = 32 + 12 + stream;
    uint8_t *b = calloc(1, len);
    struct md_header h = { MD_SIGNATURE, MD_VERSION, 1, 32, 0, 0, 0 };
    struct md_directory e = { LG_STREAM_GO, { (uint32_t)stream, 44 } };
    struct lg_go_header gh = { 1, 64, LG_NONE, 0, 1, GO_NOW, 1, 64, nframes, 24, 0, LG_NONE, LG_NONE, 0 };
    struct lg_go_goroutine g = { 1, 0, 0, 2, LG_NONE, 1, 0, 0, nframes, LG_NONE, LG_NONE, 0, 0 };
    struct lg_go_frame f = { 0x401000, LG_NONE, LG_NONE, 0, 0, { 0 } };
    struct mdr_dump md;
    char err[256], want[256];
    size_t off = 44;

    if (!b) {
        CHECK(b != NULL);
        return;
    }
    memcpy(b, &h, sizeof h);
    memcpy(b + 32, &e, sizeof e);
    memcpy(b + off, &gh, sizeof gh);
    memcpy(b + (off += sizeof gh), &g, sizeof g);
    for (off += sizeof g; off < len; off += sizeof f, f.pc += 0x10)
        memcpy(b + off, &f, sizeof f);
    CHECK(mdr_open(&md, b, len, err, sizeof err) == MDR_OK);
    snprintf(want, sizeof want, "lastgasp Go: goroutine 0 (goid 1): %u frames, more than the reader's bound of "
             "%u; cut", (unsigned)nframes, MDR_GO_MAX_GOROUTINE_FRAMES);
    CHECK(strcmp(err, want) == 0);
    CHECK(md.nwarnings == 1);
    CHECK(md.go.nframes == nframes && md.go.ngoroutines == 1);
    CHECK(md.go.goroutines[0].nframes == MDR_GO_MAX_GOROUTINE_FRAMES);
    CHECK(md.go.goroutines[0].frames == md.go.frames);
    CHECK_EQ_U64(md.go.frames[nframes - 1].pc, 0x401000 + 0x10 * (nframes - 1));
    mdr_close(&md);
    free(b);
}

static void test_go_sizes(void)
{
    struct opts o = go_v1;
    struct dump d;
    struct mdr_dump md;
    char err[256], want[256];

    /* Goroutine records smaller than v1's: unreadable, said once; the frames after them are still found. */
    o.go_goroutine_size = 32;
    build(&d, &o);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(strcmp(err, "lastgasp Go: goroutine record size 32 is smaller than v1's 64; 3 records ignored") == 0);
    CHECK(md.nwarnings == 1);
    CHECK(md.go.present && md.go.ngoroutines == 0 && md.go.nframes == 4 && md.go.go_version != NULL);
    CHECK(md.go.frames[3].line == 30);
    CHECK(md.lg.present && md.nthreads == 2);
    mdr_close(&md);

    /* Frame records smaller than v1's: no frames, so every goroutine's range is outside them. */
    o = go_v1;
    o.go_frame_size = 16;
    build(&d, &o);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(strcmp(err, "lastgasp Go: frame record size 16 is smaller than v1's 24; 4 records ignored") == 0);
    CHECK(has_warning(&md, "lastgasp Go: goroutine 0 (goid 1): frames 0..2 outside the 0 frame records"));
    CHECK(has_warning(&md, "lastgasp Go: goroutine 2 (goid 8): frames 2..4 outside the 0 frame records"));
    CHECK(md.go.ngoroutines == 3 && md.go.nframes == 0 && md.go.goroutines[1].nframes == 0);
    CHECK(md.go.goroutines[1].wait_reason != NULL);
    mdr_close(&md);

    /* A header smaller than v1's: the stream cannot be read; the rest of the dump can. */
    build(&d, &go_v1);
    put32(&d, d.go + 4, 40);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    snprintf(want, sizeof want, "lastgasp Go: version 1 header_size 0x28 unusable (v1 header 0x40, stream 0x%zx "
             "bytes); ignored", d.go_size);
    CHECK(strcmp(err, want) == 0);
    CHECK(!md.go.present && md.go.ngoroutines == 0 && md.lg.present && md.nmodules == 2);
    mdr_close(&md);

    /* Version 0 is no version. */
    build(&d, &go_v1);
    put32(&d, d.go, 0);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(strncmp(err, "lastgasp Go: version 0 header_size 0x40 unusable", 48) == 0);
    CHECK(!md.go.present);
    mdr_close(&md);

    /* A stream too short for the version and header size. */
    build(&d, &go_v1);
    put32(&d, d.entry[NSTREAMS] + 4, 4);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(strcmp(err, "lastgasp Go: stream is 0x4 bytes, too short for a header; ignored") == 0);
    CHECK(!md.go.present);
    mdr_close(&md);
}

static void test_go_truncated(void)
{
    struct dump d;
    struct mdr_dump md;
    char err[256], want[256];
    size_t n;

    /* The directory says the stream ends after two frame records: those are read, the strings are gone. */
    build(&d, &go_v1);
    n = 64 + 3 * 64 + 2 * 24 + 4;
    put32(&d, d.entry[NSTREAMS] + 4, (uint32_t)n);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    snprintf(want, sizeof want, "lastgasp Go: 4 frame records of 24 bytes at offset 0x100 pass end of stream "
             "(size 0x%zx); reading 2", n);
    CHECK(strcmp(err, want) == 0);
    CHECK(has_warning(&md, "lastgasp Go: strings area starts past end of stream"));
    CHECK(has_warning(&md, "lastgasp Go: go_version: string offset 0x0 outside the strings area (size 0x0)"));
    CHECK(has_warning(&md, "lastgasp Go: goroutine 1 (goid 7): frames 2..4 outside the 2 frame records"));
    CHECK(md.go.present && md.go.ngoroutines == 3 && md.go.nframes == 2);
    CHECK(md.go.goroutines[0].nframes == 2 && md.go.goroutines[1].nframes == 0);
    CHECK(md.go.frames[1].pc == 0x55d0c0de2100 && md.go.frames[1].function == NULL);
    CHECK(md.go.goroutines[1].goid == 7 && md.go.goroutines[1].wait_reason == NULL);
    mdr_close(&md);

    /* The strings area cut short: the strings wholly inside it stay. */
    build(&d, &go_v1);
    n = d.go_strings - d.go + go_off("main.main");
    put32(&d, d.entry[NSTREAMS] + 4, (uint32_t)n);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    snprintf(want, sizeof want, "lastgasp Go: strings area at offset 0x%zx size 0x%zx passes end of stream "
             "(size 0x%zx)", d.go_strings - d.go, sizeof go_strings, n);
    CHECK(strcmp(err, want) == 0);
    CHECK(md.go.go_version && md.go.frames[0].function && strcmp(md.go.frames[0].file, "/src/app/main.go") == 0);
    CHECK(md.go.frames[1].function == NULL && md.go.nframes == 4);
    mdr_close(&md);

    /* The file itself ends inside the goroutine records: the stream is partial, one record is read. */
    build(&d, &go_v1);
    n = d.go + 64 + 64 + 10;
    CHECK(open_dump(&md, &d, n, err, sizeof err) == MDR_OK);
    snprintf(want, sizeof want, "lastgasp Go: 3 goroutine records of 64 bytes at offset 0x40 pass end of stream "
             "(size 0x%zx); reading 1", (size_t)(64 + 64 + 10));
    CHECK(has_warning(&md, want));
    CHECK(md.streams[NSTREAMS].state == MDR_STREAM_PARTIAL);
    CHECK(md.go.present && md.go.ngoroutines == 1 && md.go.goroutines[0].goid == 1);
    CHECK(md.go.nframes == 0 && md.go.goroutines[0].nframes == 0);
    CHECK(md.lg.present && md.lg.nthreads == 2);
    mdr_close(&md);

    /* Every truncation opens cleanly and keeps the Go header once it is in the file. */
    build(&d, &go_v1);
    {
        int bad = 0;

        for (size_t len = 0; len <= d.len; len++) {
            int rc = open_dump(&md, &d, len, err, sizeof err);

            if ((len < 32) != (rc == MDR_NOT_MINIDUMP))
                bad++;
            if (len >= d.go + 64 && !md.go.present)
                bad++;
            if (len >= d.go + d.go_size && md.go.ngoroutines != 3)
                bad++;
            mdr_close(&md);
        }
        CHECK(bad == 0);
    }
}

static void test_go_duplicate(void)
{
    struct dump d;
    struct mdr_dump md;
    char err[256];
    struct md_directory e;

    /* Entry 9 becomes the Go stream; entry 11, the original one, now points at the maps text. */
    build(&d, &go_v1);
    memcpy(&e, d.b + d.entry[9], sizeof e);
    put32(&d, d.entry[9], LG_STREAM_GO);
    put32(&d, d.entry[9] + 4, (uint32_t)d.go_size);
    put32(&d, d.entry[9] + 8, (uint32_t)d.go);
    put32(&d, d.entry[NSTREAMS] + 4, e.location.data_size);
    put32(&d, d.entry[NSTREAMS] + 8, e.location.rva);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(strcmp(err, "stream 0x476f0002 (lastgasp Go) at directory entry 11 duplicates entry 9; ignored "
                      "(the first wins)") == 0);
    CHECK(md.nwarnings == 1);
    CHECK(md.streams[NSTREAMS].state == MDR_STREAM_DUPLICATE && md.streams[9].state == MDR_STREAM_READ);
    CHECK(md.go.present && md.go.ngoroutines == 3 && md.go.goroutines[2].goid == 8);
    CHECK(md.maps.data == NULL);
    mdr_close(&md);
}

static void test_crashpad_valid(void)
{
    struct dump d;
    struct mdr_dump md;
    char err[256];

    build(&d, &ann_v1);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(md.nwarnings == 0);
    if (md.nwarnings)
        dump_warnings(&md);
    CHECK(md.go.present && md.crashpad.present && md.crashpad.version == 1);
    CHECK_EQ_U64(md.crashpad.nannotations, 3);
    for (size_t i = 0; i < md.crashpad.nannotations && i < 3; i++) {
        const struct mdr_annotation *a = &md.crashpad.annotations[i];

        CHECK(strcmp(a->key, cp_keys[i]) == 0 && a->key_len == strlen(cp_keys[i]));
        CHECK(strcmp(a->value, cp_values[i]) == 0 && a->value_len == strlen(cp_values[i]));
    }
    CHECK(md.go_crash_text.data && md.go_crash_text.len == sizeof crash_text - 1);
    CHECK(strcmp(mdr_stream_name(MD_CRASHPAD_INFO_STREAM), "CrashpadInfo") == 0);
    CHECK(strcmp(mdr_stream_name(LG_STREAM_GO_CRASH_TEXT), "lastgasp Go crash text") == 0);
    mdr_close(&md);

    /* A Crashpad info without a dictionary (an empty location) is present, with no annotations. */
    build(&d, &ann_v1);
    put32(&d, d.cp + 36, 0);
    put32(&d, d.cp + 40, 0);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(md.nwarnings == 0 && md.crashpad.present && md.crashpad.nannotations == 0);
    mdr_close(&md);

    /* A later version reads as v1. */
    build(&d, &ann_v1);
    put32(&d, d.cp, 7);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
    CHECK(md.nwarnings == 0 && md.crashpad.version == 7 && md.crashpad.nannotations == 3);
    mdr_close(&md);
}

/* Open d and expect `warning` among the warnings and `left` annotations kept. */
static void expect_crashpad(struct dump *d, size_t len, const char *warning, int present, size_t left)
{
    struct mdr_dump md;
    char err[256];

    CHECK(open_dump(&md, d, len, err, sizeof err) == MDR_OK);
    CHECK_MSG(!warning || has_warning(&md, warning), "no warning \"%s\"", warning);
    if (warning && !has_warning(&md, warning))
        dump_warnings(&md);
    CHECK_MSG(md.crashpad.present == present && md.crashpad.nannotations == left,
              "present %d with %zu annotations, expected %d with %zu", md.crashpad.present, md.crashpad.nannotations,
              present, left);
    CHECK(md.go.present && md.go.ngoroutines == 3); /* the other streams are unharmed */
    mdr_close(&md);
}

static void test_crashpad_malformed(void)
{
    struct dump d;
    char want[256];

    build(&d, &ann_v1);
    put32(&d, d.cp, 0);
    expect_crashpad(&d, d.len, "CrashpadInfo: version 0 is not a version; ignored", 0, 0);

    build(&d, &ann_v1);
    put32(&d, d.entry[d.cp_entry] + 4, 40);
    expect_crashpad(&d, d.len, "CrashpadInfo: stream is 0x28 bytes, needs 0x34; ignored", 0, 0);

    build(&d, &ann_v1);
    put32(&d, d.cp + 40, (uint32_t)d.len);
    snprintf(want, sizeof want, "CrashpadInfo: annotation dictionary at rva 0x%zx size 0x1c passes end of file",
             d.len);
    expect_crashpad(&d, d.len, want, 1, 0);

    build(&d, &ann_v1);
    put32(&d, d.cp + 36, 2);
    expect_crashpad(&d, d.len, "CrashpadInfo: annotation dictionary at rva", 1, 0);

    build(&d, &ann_v1);
    put32(&d, d.cp_dict, 1000);
    expect_crashpad(&d, d.len, "CrashpadInfo: annotation count 1000 does not fit the dictionary's 0x1c bytes; "
                    "reading 3", 1, 3);

    /* One bad string costs its own entry only. */
    build(&d, &ann_v1);
    put32(&d, d.cp_dict + 4 + 8, 0xfffffff0u);
    snprintf(want, sizeof want, "CrashpadInfo: annotation 1 key: string at rva 0xfffffff0 passes end of file "
             "(size 0x%zx)", d.len);
    expect_crashpad(&d, d.len, want, 1, 2);

    build(&d, &ann_v1);
    put32(&d, d.cp_value[2], 0x7fffffff);
    snprintf(want, sizeof want, "CrashpadInfo: annotation 2 value: string at rva 0x%x length 0x7fffffff passes "
             "end of file", (unsigned)d.cp_value[2]);
    expect_crashpad(&d, d.len, want, 1, 2);

    build(&d, &ann_v1);
    d.b[d.cp_value[0] + 4 + 4] = 'x'; /* "1234" loses its NUL */
    snprintf(want, sizeof want, "CrashpadInfo: annotation 0 value: string at rva 0x%x lacks its NUL terminator",
             (unsigned)d.cp_value[0]);
    expect_crashpad(&d, d.len, want, 1, 3);

    build(&d, &ann_v1);
    put32(&d, d.cp_key[1], 0);
    expect_crashpad(&d, d.len, "CrashpadInfo: annotation 1 has an empty key; ignored", 1, 2);

    /* Entries 1 and 2 both name "build": the first "build" (entry 0) wins. */
    build(&d, &ann_v1);
    put32(&d, d.cp_dict + 4 + 8, d.cp_key[0]);
    put32(&d, d.cp_dict + 4 + 16, d.cp_key[0]);
    expect_crashpad(&d, d.len, "CrashpadInfo: 2 annotations repeat an earlier key; dropped (the first one wins)",
                    1, 1);
    {
        struct mdr_dump md;
        char err[256];

        CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
        CHECK(md.crashpad.nannotations == 1 && strcmp(md.crashpad.annotations[0].value, "1234") == 0);
        mdr_close(&md);
    }

    /* A key with a NUL inside keeps its length: the renderers escape it rather than cut it. */
    build(&d, &ann_v1);
    d.b[d.cp_key[1] + 4 + 2] = 0;
    {
        struct mdr_dump md;
        char err[256];

        CHECK(open_dump(&md, &d, d.len, err, sizeof err) == MDR_OK);
        CHECK(md.crashpad.nannotations == 3 && md.crashpad.annotations[1].key_len == 6);
        CHECK(memcmp(md.crashpad.annotations[1].key, "re\0ion", 6) == 0);
        mdr_close(&md);
    }

    /* Every truncation opens; once the dictionary's strings are all in the file, so are the annotations. */
    build(&d, &ann_v1);
    {
        struct mdr_dump md;
        char err[256];
        int bad = 0;

        for (size_t len = 0; len <= d.len; len++) {
            int rc = open_dump(&md, &d, len, err, sizeof err);

            if ((len < 32) != (rc == MDR_NOT_MINIDUMP))
                bad++;
            if (len >= d.cp_dict + 28 && md.crashpad.nannotations != 3)
                bad++;
            if (len >= d.text + sizeof crash_text - 1 && !md.go_crash_text.data)
                bad++;
            mdr_close(&md);
        }
        CHECK(bad == 0);
    }
}

/* Every single-byte change of a valid dump (plain, Go, Go with annotations and crash text; three values per
 * byte) opens without crashing; run this under ASan/UBSan for it to mean something. */
static void test_byte_flips(void)
{
    static const uint8_t values[] = { 0x00, 0xff, 0x80 };
    struct dump d;
    struct mdr_dump md;
    char err[256];
    int bad = 0;

    for (int go = 0; go < 3; go++) {
        build(&d, go == 2 ? &ann_v1 : go ? &go_v1 : &v1);
        for (size_t i = 0; i < d.len; i++) {
            uint8_t saved = d.b[i];

            for (size_t v = 0; v < sizeof values; v++) {
                d.b[i] = values[v];
                int rc = open_dump(&md, &d, d.len, err, sizeof err);

                /* Only the signature decides what is a minidump. */
                if ((rc == MDR_OK) != (i >= 4))
                    bad++;
                mdr_close(&md);
            }
            d.b[i] = saved;
        }
    }
    CHECK(bad == 0);
}

static int write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

/* Seeds for tests/fuzz/corpus: the valid dump, a future-version one, an arm64 one, one without the lastgasp
 * stream (what another producer writes), a truncated one, a Go program's, and one with annotations and the Go
 * runtime's crash text. */
static int write_corpus(const char *dir)
{
    struct dump d;
    struct opts o = v1;
    int rc = 0;

    build(&d, &v1);
    rc |= write_file(dir, "valid_v1.dmp", d.b, d.len);
    rc |= write_file(dir, "truncated.dmp", d.b, d.len - 40);
    put32(&d, d.entry[1], 0x47670005);
    rc |= write_file(dir, "no_lastgasp.dmp", d.b, d.len);
    o.lg_header_size = 96, o.lg_thread_size = 32, o.lg_frame_size = 40;
    build(&d, &o);
    rc |= write_file(dir, "future_sizes.dmp", d.b, d.len);
    o = v1;
    o.arch = MD_CPU_ARCHITECTURE_ARM64;
    build(&d, &o);
    rc |= write_file(dir, "arm64.dmp", d.b, d.len);
    build(&d, &go_v1);
    rc |= write_file(dir, "go.dmp", d.b, d.len);
    build(&d, &go_v2);
    rc |= write_file(dir, "go_v2.dmp", d.b, d.len);
    build(&d, &ann_v1);
    rc |= write_file(dir, "annotations.dmp", d.b, d.len);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
        return write_corpus(argv[2]);
    test_valid();
    test_forward_compatible();
    test_not_minidump();
    test_directory_past_eof();
    test_stream_past_eof();
    test_overflow();
    test_module_names();
    test_lg_strings();
    test_counts_too_large();
    test_duplicates_and_unknown();
    test_unsupported_arch();
    test_go_valid();
    test_go_forward_compatible();
    test_go_strings();
    test_go_frame_ranges();
    test_go_frame_bound();
    test_go_reason();
    test_go_sizes();
    test_go_truncated();
    test_go_duplicate();
    test_crashpad_valid();
    test_crashpad_malformed();
    test_byte_flips();
    return check_summary();
}
