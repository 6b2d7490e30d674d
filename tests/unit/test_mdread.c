/* test_mdread.c — unit tests for the bounds-checked minidump reader (formats/mdread*.c).
 *
 * Dumps are built byte by byte here, from the shared layouts in formats/minidump.h, then broken on purpose:
 * each malformed case must give its own precise warning or error, keep every other stream readable, and never
 * touch memory outside the buffer (run under -fsanitize=address,undefined to prove the last part).
 *
 * `test_mdread --write-corpus DIR` also writes the built dumps as fuzzing seeds (tests/fuzz/corpus).
 */
#include "../../formats/mdread.h"
#include "../../formats/minidump.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- building dumps ---- */

#define MAX_DUMP 8192
#define NSTREAMS 11

struct opts {
    uint32_t lg_header_size;   /* 80 in v1; larger to test forward compatibility */
    uint32_t lg_thread_size;   /* 24 in v1 */
    uint32_t lg_frame_size;    /* 32 in v1 */
    uint16_t arch;
    int odd_module_name;       /* module 0's name length made odd */
};

static const struct opts v1 = { 80, 24, 32, MD_CPU_ARCHITECTURE_AMD64, 0 };

/* Where things landed, so the malformed cases can patch them. */
struct dump {
    uint8_t b[MAX_DUMP];
    size_t len;
    size_t dir;                /* directory offset */
    size_t entry[NSTREAMS];    /* directory entry offsets, in the order written */
    size_t threads, modules, lg, lg_frames, lg_strings;
    uint32_t lg_strings_size;
    size_t mod_name[2];
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

/* A small but complete lastgasp dump: every stream of formats/README.md except Environ and Auxv. */
static void build(struct dump *d, const struct opts *o)
{
    struct md_header h = { MD_SIGNATURE, MD_VERSION, NSTREAMS, 32, 0, 1700000000, 0 };
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
    d->dir = add(d, NULL, NSTREAMS * sizeof(struct md_directory));
    for (int i = 0; i < NSTREAMS; i++)
        d->entry[i] = d->dir + i * sizeof(struct md_directory);

    exc = add(d, NULL, sizeof ex);
    add_lg(d, o);
    off = d->len - d->lg;
    dir_entry(d, 1, LG_STREAM_CRASH_INFO, d->lg, off);

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

static int has_warning(const struct fmt_md *md, const char *text)
{
    for (size_t i = 0; i < md->nwarnings; i++)
        if (strstr(md->warnings[i], text))
            return 1;
    return 0;
}

static void dump_warnings(const struct fmt_md *md)
{
    for (size_t i = 0; i < md->nwarnings; i++)
        printf("    warning: %s\n", md->warnings[i]);
}

static int open_dump(struct fmt_md *md, const struct dump *d, size_t len, char *err, size_t errlen)
{
    return fmt_md_open(md, d->b, len, err, errlen);
}

/* ---- the cases ---- */

static void test_valid(void)
{
    struct dump d;
    struct fmt_md md;
    char err[256];
    const struct fmt_md_module *m;

    build(&d, &v1);
    CHECK(d.len < 4096);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    CHECK(md.nwarnings == 0);
    CHECK(err[0] == '\0');
    if (md.nwarnings)
        dump_warnings(&md);
    CHECK(md.nstreams == NSTREAMS);
    for (size_t i = 0; i < md.nstreams; i++)
        CHECK(md.streams[i].state == FMT_MD_STREAM_READ);

    CHECK(md.exception.present);
    CHECK(md.exception.tid == 1234 && md.exception.code == 11 && md.exception.flags == 1);
    CHECK(md.exception.ctx.arch == FMT_MD_ARCH_AMD64);
    CHECK(md.exception.ctx.reg[FMT_MD_RIP] == 0x55d0c0de1234);
    CHECK(md.exception.ctx.reg[FMT_MD_RSP] == 0x7ffd00001000);
    CHECK(md.exception.ctx.reg[FMT_MD_RBP] == 0x7ffd00001040);
    CHECK(md.exception.ctx.reg[FMT_MD_RAX] == 0xaaaa);

    CHECK(md.sysinfo.present && md.sysinfo.arch == MD_CPU_ARCHITECTURE_AMD64 && md.sysinfo.cpu_count == 4);
    CHECK(md.sysinfo.csd_version && strcmp(md.sysinfo.csd_version, "Linux 6.1.0 #1 SMP x86_64") == 0);
    CHECK(strcmp(md.sysinfo.cpu_vendor, "GenuineIntel") == 0);
    CHECK(md.has_pid && md.pid == 1233);

    CHECK(md.nthreads == 2);
    if (md.nthreads == 2) {
        CHECK(md.threads[0].tid == 1234 && md.threads[1].tid == 1235);
        CHECK(md.threads[0].name && strcmp(md.threads[0].name, "crasher") == 0);
        CHECK(md.threads[1].name && strcmp(md.threads[1].name, "worker") == 0);
        CHECK(md.threads[1].ctx.reg[FMT_MD_RIP] == 0x7f0000001000);
        CHECK(md.threads[0].stack && md.threads[0].stack_size == 64 && md.threads[0].stack[5] == 5);
    }
    CHECK(fmt_md_thread_by_tid(&md, 1235) == &md.threads[1]);
    CHECK(fmt_md_thread_by_tid(&md, 99) == NULL);

    CHECK(md.nmodules == 2);
    if (md.nmodules == 2) {
        CHECK(md.modules[0].path && strcmp(md.modules[0].path, "/usr/bin/crasher") == 0);
        CHECK(md.modules[0].build_id &&
              strcmp(md.modules[0].build_id, "0102030405060708090a0b0c0d0e0f1011121314") == 0);
        CHECK(md.modules[1].path && strcmp(md.modules[1].path, "/lib/lib\xc3\xa9\xf0\x9f\x98\x80.so") == 0);
        CHECK(md.modules[1].build_id == NULL);
    }
    m = fmt_md_module_at(&md, 0x55d0c0de4fff);
    CHECK(m == &md.modules[0]);
    CHECK(fmt_md_module_at(&md, 0x55d0c0de5000) == NULL);
    CHECK(fmt_md_module_at(&md, 0x7f0000001000) == &md.modules[1]);
    CHECK(fmt_md_module_at(&md, 0) == NULL);

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
    fmt_md_close(&md);
}

/* Records and headers larger than v1 (a future writer) read the same, their extra bytes skipped. */
static void test_forward_compatible(void)
{
    struct opts o = v1;
    struct dump d;
    struct fmt_md md;
    char err[256];

    o.lg_header_size = 96;
    o.lg_thread_size = 32;
    o.lg_frame_size = 40;
    build(&d, &o);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    CHECK(md.nwarnings == 0);
    CHECK(md.lg.present && md.lg.header_size == 96 && md.lg.nthreads == 2 && md.lg.nframes == 3);
    if (md.lg.nthreads == 2 && md.lg.nframes == 3) {
        CHECK(md.lg.threads[1].tid == 1235 && md.lg.threads[1].first_frame == 2);
        CHECK(md.lg.frames[1].pc == 0x55d0c0de1300);
        CHECK(md.lg.frames[1].symbol && strcmp(md.lg.frames[1].symbol, "main") == 0);
    }
    CHECK(md.lg.notes != NULL);
    fmt_md_close(&md);

    /* Smaller than v1 cannot be read: said, and the rest of the dump still is. */
    o.lg_header_size = 80;
    o.lg_thread_size = 16;
    build(&d, &o);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    CHECK(has_warning(&md, "lastgasp: thread record size 16 is smaller than v1's 24; 2 records ignored"));
    CHECK(md.lg.present && md.lg.nthreads == 0 && md.lg.nframes == 3);
    CHECK(md.nthreads == 2 && md.nmodules == 2);
    fmt_md_close(&md);
}

static void test_not_minidump(void)
{
    struct dump d;
    struct fmt_md md;
    char err[256];

    build(&d, &v1);
    memcpy(d.b, "MDMQ", 4);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_NOT_MINIDUMP);
    CHECK(strcmp(err, "not a minidump: signature 0x514d444d is not \"MDMP\"") == 0);
    fmt_md_close(&md);

    CHECK(open_dump(&md, &d, 31, err, sizeof err) == FMT_MD_NOT_MINIDUMP);
    CHECK(strcmp(err, "not a minidump: 31 bytes, shorter than the 32-byte header") == 0);
    fmt_md_close(&md);

    CHECK(fmt_md_open(&md, NULL, 0, err, sizeof err) == FMT_MD_NOT_MINIDUMP);
    fmt_md_close(&md);

    CHECK(fmt_md_open_file(&md, "/nonexistent/dump.dmp", err, sizeof err) == FMT_MD_IO);
    CHECK(strcmp(err, "cannot open: No such file or directory") == 0);
    fmt_md_close(&md);
}

static void test_directory_past_eof(void)
{
    struct dump d;
    struct fmt_md md;
    char err[256], want[256];
    struct md_header h;

    /* Count larger than the file: the entries present are read, and all streams with them. */
    build(&d, &v1);
    memcpy(&h, d.b, sizeof h);
    h.stream_count = 100000;
    memcpy(d.b, &h, sizeof h);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    snprintf(want, sizeof want, "stream directory at rva 0x20 (100000 entries of 12 bytes) passes end of file "
             "(size 0x%zx); reading %zu entries", d.len, (d.len - 32) / 12);
    CHECK(strcmp(err, want) == 0);
    CHECK(md.exception.present && md.lg.present && md.nthreads == 2 && md.nmodules == 2 && md.nmemory == 1);
    fmt_md_close(&md);

    /* Directory entirely outside the file: a minidump with nothing readable. */
    build(&d, &v1);
    memcpy(&h, d.b, sizeof h);
    h.stream_directory_rva = 0x10000;
    memcpy(d.b, &h, sizeof h);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    CHECK(strstr(err, "stream directory at rva 0x10000 (11 entries of 12 bytes) passes end of file") != NULL);
    CHECK(md.nstreams == 0 && !md.exception.present && !md.lg.present);
    fmt_md_close(&md);
}

static void test_stream_past_eof(void)
{
    struct dump d;
    struct fmt_md md;
    char err[256], want[256];
    uint32_t rva;
    size_t cut;

    /* Cut the file in the middle of the MemoryList's one range: its bytes are gone, the rest stays. */
    build(&d, &v1);
    rva = get32(&d, d.entry[10] + 8);
    cut = rva + 10;
    CHECK(open_dump(&md, &d, cut, err, sizeof err) == FMT_MD_OK);
    snprintf(want, sizeof want, "stream 5 (MemoryList) at rva 0x%x size 0x14 passes end of file (size 0x%zx); "
             "reading the 0xa bytes present", (unsigned)rva, cut);
    CHECK(strcmp(err, want) == 0);
    CHECK(has_warning(&md, "stream 5 (MemoryList): count 1 needs 0x14 bytes, stream has 0xa; reading 0"));
    CHECK(md.streams[10].state == FMT_MD_STREAM_PARTIAL);
    CHECK(md.nmemory == 0);
    CHECK(md.exception.present && md.lg.present && md.lg.nframes == 3 && md.nthreads == 2);
    CHECK(md.nmodules == 2 && md.modules[0].path && md.cmdline.data);
    fmt_md_close(&md);

    /* A stream that starts past the end cannot be read at all. */
    build(&d, &v1);
    put32(&d, d.entry[0] + 8, 0x9000);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    snprintf(want, sizeof want, "stream 6 (Exception) at rva 0x9000 size 0xa8 starts past end of file "
             "(size 0x%zx)", d.len);
    CHECK(strcmp(err, want) == 0);
    CHECK(md.streams[0].state == FMT_MD_STREAM_BAD && !md.exception.present);
    CHECK(md.lg.present && md.nthreads == 2);
    fmt_md_close(&md);

    /* Every truncation of a valid dump opens (or is refused) cleanly, and keeps what lies before the cut. */
    build(&d, &v1);
    {
        int bad = 0;

        for (size_t len = 0; len <= d.len; len++) {
            int rc = open_dump(&md, &d, len, err, sizeof err);

            if ((len < 32) != (rc == FMT_MD_NOT_MINIDUMP))
                bad++;
            if (len >= d.lg + 80 && !md.lg.present)
                bad++;
            fmt_md_close(&md);
        }
        CHECK(bad == 0);
    }
}

static void test_overflow(void)
{
    struct dump d;
    struct fmt_md md;
    char err[256], want[256];
    uint32_t rva;

    build(&d, &v1);
    rva = get32(&d, d.entry[4] + 8);
    put32(&d, d.entry[4] + 4, 0xfffffff0u); /* ThreadList size: rva + size wraps a u32 */
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    snprintf(want, sizeof want, "stream 3 (ThreadList) at rva 0x%x size 0xfffffff0: rva + size overflows 32 bits "
             "(file size 0x%zx)", (unsigned)rva, d.len);
    CHECK(strncmp(err, want, strlen(want)) == 0);
    CHECK(md.streams[4].state == FMT_MD_STREAM_PARTIAL);
    CHECK(md.nthreads == 2); /* the count inside still bounds the list */
    fmt_md_close(&md);

    /* A context location that wraps is refused, not followed. */
    build(&d, &v1);
    put32(&d, d.threads + 4 + 48 + 40 + 4, 0xffffff00u); /* thread 1's context rva */
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    CHECK(has_warning(&md, "thread 1235: context at rva 0xffffff00 size 0x4d0 passes end of file"));
    CHECK(md.nthreads == 2 && md.threads[1].ctx.arch == FMT_MD_ARCH_NONE);
    CHECK(md.threads[0].ctx.arch == FMT_MD_ARCH_AMD64);
    fmt_md_close(&md);
}

static void test_module_names(void)
{
    struct dump d;
    struct opts o = v1;
    struct fmt_md md;
    char err[256], want[256];

    o.odd_module_name = 1;
    build(&d, &o);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    snprintf(want, sizeof want, "module 0 (base 0x55d0c0de0000) name: string at rva 0x%zx has odd byte length "
             "0x1f; last byte ignored", d.mod_name[0]);
    CHECK(strcmp(err, want) == 0);
    CHECK(md.nmodules == 2 && md.modules[0].path && strcmp(md.modules[0].path, "/usr/bin/crashe") == 0);
    fmt_md_close(&md);

    /* Name length passing the end of the file. */
    build(&d, &v1);
    put32(&d, d.mod_name[1], 0x7ffffff0u);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    snprintf(want, sizeof want, "module 1 (base 0x7f0000000000) name: string at rva 0x%zx length 0x7ffffff0 "
             "passes end of file (size 0x%zx)", d.mod_name[1], d.len);
    CHECK(strcmp(err, want) == 0);
    CHECK(md.nmodules == 2 && md.modules[1].path == NULL && md.modules[0].path != NULL);
    fmt_md_close(&md);

    /* Name rva itself past the end. */
    build(&d, &v1);
    put32(&d, d.modules + 4 + 108 + 20, (uint32_t)d.len - 2);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    snprintf(want, sizeof want, "module 1 (base 0x7f0000000000) name: string at rva 0x%zx passes end of file",
             d.len - 2);
    CHECK(strncmp(err, want, strlen(want)) == 0);
    CHECK(md.modules[1].path == NULL && md.modules[1].size == 0x200000);
    fmt_md_close(&md);
}

static void test_lg_strings(void)
{
    struct dump d;
    struct fmt_md md;
    char err[256], want[256];

    build(&d, &v1);
    put32(&d, d.lg_frames + 32 + 20, 0x10000); /* frame 1's symbol_off */
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    snprintf(want, sizeof want, "lastgasp: frame 1: string offset 0x10000 outside the strings area (size 0x%x)",
             (unsigned)d.lg_strings_size);
    CHECK(strcmp(err, want) == 0);
    CHECK(md.lg.nframes == 3 && md.lg.frames[1].symbol == NULL && md.lg.frames[0].symbol != NULL);
    CHECK(md.lg.frames[1].pc == 0x55d0c0de1300);
    fmt_md_close(&md);

    /* The last string loses its terminator: the notes are refused, the other strings stay. */
    build(&d, &v1);
    d.b[d.lg_strings + d.lg_strings_size - 1] = 'X';
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    CHECK(has_warning(&md, "lastgasp: notes: string at offset 0x25 not NUL-terminated within the strings area"));
    CHECK(md.lg.notes == NULL && md.lg.threads && md.lg.threads[1].name);
    CHECK(md.lg.threads && strcmp(md.lg.threads[1].name, "worker") == 0);
    fmt_md_close(&md);

    /* A module index outside the ModuleList is dropped, not followed. */
    build(&d, &v1);
    put32(&d, d.lg_frames + 16, 7);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    CHECK(has_warning(&md, "lastgasp: frame 0: module index 7 outside the ModuleList (2 modules)"));
    CHECK(md.lg.frames[0].module_index == LG_NONE);
    fmt_md_close(&md);
}

static void test_counts_too_large(void)
{
    struct dump d;
    struct fmt_md md;
    char err[256];

    build(&d, &v1);
    put32(&d, d.threads, 1000);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    CHECK(strcmp(err, "stream 3 (ThreadList): count 1000 needs 0xbb84 bytes, stream has 0x64; reading 2") == 0);
    CHECK(md.nthreads == 2 && md.threads[1].tid == 1235);
    fmt_md_close(&md);

    /* lastgasp thread_count larger than its stream: the records present are read, the frames after them
     * cannot be located. */
    build(&d, &v1);
    put32(&d, d.lg + 48, 5000);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    CHECK(strstr(err, "lastgasp: 5000 thread records of 24 bytes at offset 0x50 pass end of stream") != NULL);
    CHECK(md.lg.present && md.lg.nthreads > 2 && md.lg.threads[0].tid == 1234 && md.lg.nframes == 0);
    CHECK(md.lg.threads[0].frame_count == 0); /* clamped to the frames actually read */
    fmt_md_close(&md);

    /* A thread's frame range outside the frame records is clamped. */
    build(&d, &v1);
    put32(&d, d.lg + 80 + 24 + 12, 50); /* thread 1 frame_count */
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    CHECK(strcmp(err, "lastgasp: thread 1 (tid 1235): frames 2..52 outside the 3 frame records") == 0);
    CHECK(md.lg.threads[1].first_frame == 2 && md.lg.threads[1].frame_count == 1);
    fmt_md_close(&md);

    /* Threads sharing frames are made disjoint, so output stays bounded by the file. */
    build(&d, &v1);
    put32(&d, d.lg + 80 + 24 + 8, 0); /* thread 1 first_frame = 0: overlaps thread 0's 0..2 */
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    CHECK(has_warning(&md, "lastgasp: thread 1 (tid 1235): frames 0..1 overlap another thread's; cut"));
    CHECK(md.lg.threads[0].frame_count == 2 && md.lg.threads[1].frame_count == 0);
    fmt_md_close(&md);
}

static void test_duplicates_and_unknown(void)
{
    struct dump d;
    struct fmt_md md;
    char err[256];

    build(&d, &v1);
    /* The Maps entry becomes a second Exception stream pointing at garbage; an unknown type replaces Cmdline. */
    put32(&d, d.entry[9], MD_EXCEPTION_STREAM);
    put32(&d, d.entry[8], 0x47670005);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    CHECK(strcmp(err, "stream 6 (Exception) at directory entry 9 duplicates entry 0; ignored (the first wins)") == 0);
    CHECK(md.streams[9].state == FMT_MD_STREAM_DUPLICATE && md.streams[8].state == FMT_MD_STREAM_UNKNOWN);
    CHECK(md.exception.present && md.exception.tid == 1234);
    CHECK(md.cmdline.data == NULL && md.maps.data == NULL);
    CHECK(md.nwarnings == 1);
    fmt_md_close(&md);
}

static void test_unsupported_arch(void)
{
    struct dump d;
    struct opts o = v1;
    struct fmt_md md;
    char err[256];

    o.arch = MD_CPU_ARCHITECTURE_ARM64;
    build(&d, &o);
    CHECK(open_dump(&md, &d, d.len, err, sizeof err) == FMT_MD_OK);
    CHECK(strcmp(err, "CPU context: unsupported architecture arm64 (0x8003); registers not decoded") == 0);
    CHECK(md.nwarnings == 1); /* said once, not once per context */
    CHECK(md.exception.ctx.arch == FMT_MD_ARCH_UNSUPPORTED && md.threads[0].ctx.arch == FMT_MD_ARCH_UNSUPPORTED);
    CHECK(md.lg.present && md.nmodules == 2);
    fmt_md_close(&md);
}

/* Every single-byte change of a valid dump (three values per byte) opens without crashing; run this under
 * ASan/UBSan for it to mean something. */
static void test_byte_flips(void)
{
    static const uint8_t values[] = { 0x00, 0xff, 0x80 };
    struct dump d;
    struct fmt_md md;
    char err[256];
    int bad = 0;

    build(&d, &v1);
    for (size_t i = 0; i < d.len; i++) {
        uint8_t saved = d.b[i];

        for (size_t v = 0; v < sizeof values; v++) {
            d.b[i] = values[v];
            int rc = open_dump(&md, &d, d.len, err, sizeof err);

            /* Only the signature decides what is a minidump. */
            if ((rc == FMT_MD_OK) != (i >= 4))
                bad++;
            fmt_md_close(&md);
        }
        d.b[i] = saved;
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
 * stream (what another producer writes), and a truncated one. */
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
    test_byte_flips();
    return check_summary();
}
