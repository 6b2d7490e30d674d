/* test_roundtrip.c — the handler's writer (formats/minidump/mdwrite.o, as shipped) into the reader.
 *
 * A model with every kind of field is written to memory, then parsed back; each value must come
 * back as written. Also: the writer's size-counting pass agrees with what it writes, every
 * truncation of the file still opens, list streams have the exact sizes Breakpad demands, memory
 * that cannot be read is written as zeros, and the ranges normaliser sorts and merges.
 */
#include <stdlib.h>
#include <string.h>

#include "../../formats/read/mdread.h"
#include "../../formats/minidump/mdwrite.h"
#include "check.h"

struct membuf {
    uint8_t *p;
    size_t len, cap;
};

static int sink_mem(const void *p, size_t n, void *ctx)
{
    struct membuf *b = ctx;
    if (b->len + n > b->cap)
        return -28; /* ENOSPC */
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static uint8_t g_stack_a[512], g_stack_b[256], g_code[64];
#define ADDR_A 0x7f0000001000ull
#define ADDR_B 0x7f0000100000ull
#define ADDR_CODE 0x555500001000ull
#define ADDR_UNREADABLE 0x600000000000ull

/* Stands in for the fault-tolerant read: three known ranges, everything else unreadable. */
static long fake_read(void *dst, uint64_t src, size_t n)
{
    const struct { uint64_t at; uint8_t *p; size_t len; } m[] = {
        {ADDR_A, g_stack_a, sizeof g_stack_a}, {ADDR_B, g_stack_b, sizeof g_stack_b}, {ADDR_CODE, g_code, sizeof g_code}};
    for (size_t i = 0; i < 3; i++) {
        if (src >= m[i].at && src + n <= m[i].at + m[i].len) {
            memcpy(dst, m[i].p + (src - m[i].at), n);
            return (long)n;
        }
    }
    return -14;
}

static char g_strings[] = "main\0worker\0crash_here\0caller\0line one\nline two\n";
enum { S_MAIN = 0, S_WORKER = 5, S_CRASH = 12, S_CALLER = 23, S_NOTES = 30 };

static struct mdw_dump make_model(struct md_context_amd64 ctx[2], struct mdw_thread th[3],
                                  struct lg_frame_record fr[3], struct mdw_module mods[2], struct mdw_range rg[4])
{
    for (size_t i = 0; i < sizeof g_stack_a; i++)
        g_stack_a[i] = (uint8_t)(i * 7);
    for (size_t i = 0; i < sizeof g_stack_b; i++)
        g_stack_b[i] = (uint8_t)(255 - i);
    memset(g_code, 0x90, sizeof g_code);
    memset(ctx, 0, 2 * sizeof *ctx);
    ctx[0].context_flags = ctx[1].context_flags = MD_CONTEXT_AMD64_FULL;
    ctx[0].rip = ADDR_CODE + 0x10;
    ctx[0].rsp = ADDR_A + 128;
    ctx[0].rbp = 0x1234;
    ctx[1].rip = ADDR_CODE + 0x20;
    ctx[1].rsp = ADDR_B + 16;
    memset(th, 0, 3 * sizeof *th);
    th[0] = (struct mdw_thread){.tid = 101, .crashed = 1, .first_frame = 0, .frame_count = 2, .name_off = S_MAIN,
                                .stack_start = ADDR_A, .stack_size = sizeof g_stack_a, .context = &ctx[0]};
    th[1] = (struct mdw_thread){.tid = 102, .first_frame = 2, .frame_count = 1, .name_off = S_WORKER,
                                .stack_start = ADDR_B, .stack_size = sizeof g_stack_b, .context = &ctx[1]};
    th[2] = (struct mdw_thread){.tid = 103, .status = LG_THREAD_NO_ANSWER, .name_off = LG_NONE};
    fr[0] = (struct lg_frame_record){ADDR_CODE + 0x10, ADDR_A + 128, 0, S_CRASH, 0x10, LG_TRUST_CONTEXT, {0}};
    fr[1] = (struct lg_frame_record){ADDR_CODE + 0x40, ADDR_A + 160, 0, S_CALLER, 0x8, LG_TRUST_CFI, {0}};
    fr[2] = (struct lg_frame_record){0x7f00dead0000ull, 0, LG_NONE, LG_NONE, 0, LG_TRUST_FP, {0}};
    static const char path0[] = "/usr/bin/prog", path1[] = "/opt/caf\xc3\xa9/lib\xf0\x9f\x92\xa5.so";
    memset(mods, 0, 2 * sizeof *mods);
    mods[0] = (struct mdw_module){.base = 0x555500000000ull, .size = 0x5000, .path = path0, .path_len = sizeof path0 - 1,
                                  .build_id = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4}, .build_id_len = 8};
    mods[1] = (struct mdw_module){.base = 0x7f1000000000ull, .size = 0x2000, .path = path1, .path_len = sizeof path1 - 1};
    rg[0] = (struct mdw_range){ADDR_B, sizeof g_stack_b};
    rg[1] = (struct mdw_range){ADDR_A, sizeof g_stack_a};
    rg[2] = (struct mdw_range){ADDR_CODE, sizeof g_code};
    rg[3] = (struct mdw_range){ADDR_UNREADABLE, 64};
    struct mdw_dump d;
    memset(&d, 0, sizeof d);
    d.signal = 11;
    d.si_code = 1;
    d.fault_address = 0x10;
    d.pid = 100;
    d.crashing_tid = 101;
    d.time_ns = 1795000000123456789ull;
    d.os_version = "Linux 6.1.0 #1 SMP x86_64";
    d.os_major = 6;
    d.os_minor = 1;
    d.cpu_count = 2;
    d.threads = th;
    d.thread_count = 3;
    d.frames = fr;
    d.frame_count = 3;
    d.strings = g_strings;
    d.strings_size = sizeof g_strings;
    d.notes_off = S_NOTES;
    d.modules = mods;
    d.module_count = 2;
    d.ranges = rg;
    d.range_count = mdw_ranges_normalize(rg, 4);
    d.read_mem = fake_read;
    d.proc_status = (struct mdw_blob){"Name:\tprog\nTgid:\t100\n", 21};
    d.cmdline = (struct mdw_blob){"prog\0--flag\0", 12};
    d.cgroup = (struct mdw_blob){"0::/system.slice/docker-ab12.scope\n", 35};
    d.hostname = (struct mdw_blob){"ab12", 4};
    d.maps = (struct mdw_blob){"555500000000-555500005000 r-xp 00000000 08:01 42 /usr/bin/prog\n", 64};
    return d;
}

static void test_roundtrip(void)
{
    struct md_context_amd64 ctx[2];
    struct mdw_thread th[3];
    struct lg_frame_record fr[3];
    struct mdw_module mods[2];
    struct mdw_range rg[4];
    struct mdw_dump d = make_model(ctx, th, fr, mods, rg);
    CHECK_EQ_U64(d.range_count, 4);
    CHECK(rg[0].start == ADDR_CODE && rg[1].start == ADDR_UNREADABLE && rg[2].start == ADDR_A);

    struct membuf b = {malloc(1 << 20), 0, 1 << 20};
    int64_t n = mdw_write(&d, sink_mem, &b);
    CHECK(n > 0 && (size_t)n == b.len); /* the counting pass and the real one agree */

    struct mdr_dump md;
    char err[256];
    CHECK(mdr_open(&md, b.p, b.len, err, sizeof err) == MDR_OK);
    CHECK_MSG(md.nwarnings == 0, "warnings: %s", md.nwarnings ? md.warnings[0] : "");
    /* Exception */
    CHECK(md.exception.present && md.exception.tid == 101 && md.exception.code == 11 && md.exception.flags == 1);
    CHECK_EQ_U64(md.exception.address, 0x10);
    CHECK_EQ_U64(md.exception.ctx.reg[MDR_RIP], ADDR_CODE + 0x10);
    /* System and pid */
    CHECK(md.sysinfo.present && md.sysinfo.arch == MD_CPU_ARCHITECTURE_AMD64 && md.sysinfo.platform == MD_OS_LINUX);
    CHECK(md.sysinfo.csd_version && strcmp(md.sysinfo.csd_version, "Linux 6.1.0 #1 SMP x86_64") == 0);
    CHECK(md.has_pid && md.pid == 100);
    /* Threads: only the two with contexts are in the ThreadList, stacks point at their bytes. */
    CHECK_EQ_U64(md.nthreads, 2);
    if (md.nthreads == 2) {
        CHECK(md.threads[0].tid == 101 && md.threads[1].tid == 102);
        CHECK(md.threads[0].stack && md.threads[0].stack_size == sizeof g_stack_a &&
              memcmp(md.threads[0].stack, g_stack_a, sizeof g_stack_a) == 0);
        CHECK(md.threads[1].stack && memcmp(md.threads[1].stack, g_stack_b, sizeof g_stack_b) == 0);
        CHECK(md.threads[0].name && strcmp(md.threads[0].name, "main") == 0);
        CHECK(md.threads[1].name && strcmp(md.threads[1].name, "worker") == 0);
        CHECK_EQ_U64(md.threads[1].ctx.reg[MDR_RSP], ADDR_B + 16);
    }
    /* Modules: UTF-8 path through UTF-16 and back; build-id; no CodeView record without one. */
    CHECK_EQ_U64(md.nmodules, 2);
    if (md.nmodules == 2) {
        CHECK(md.modules[0].path && strcmp(md.modules[0].path, "/usr/bin/prog") == 0);
        CHECK(md.modules[0].build_id && strcmp(md.modules[0].build_id, "deadbeef01020304") == 0);
        CHECK(md.modules[1].path && strcmp(md.modules[1].path, "/opt/caf\xc3\xa9/lib\xf0\x9f\x92\xa5.so") == 0);
        CHECK(md.modules[1].build_id == NULL && md.modules[1].cv_signature == 0);
        CHECK_EQ_U64(md.modules[0].size, 0x5000);
    }
    /* Memory: sorted, and the unreadable range is present as zeros. */
    CHECK_EQ_U64(md.nmemory, 4);
    for (size_t i = 0; i < md.nmemory; i++) {
        if (i > 0)
            CHECK(md.memory[i - 1].start + md.memory[i - 1].size <= md.memory[i].start);
        if (md.memory[i].start == ADDR_UNREADABLE) {
            static const uint8_t zero[64];
            CHECK(md.memory[i].data && memcmp(md.memory[i].data, zero, 64) == 0);
        }
        if (md.memory[i].start == ADDR_CODE)
            CHECK(md.memory[i].data && memcmp(md.memory[i].data, g_code, sizeof g_code) == 0);
    }
    /* Raw streams */
    CHECK(md.cmdline.len == 12 && memcmp(md.cmdline.data, "prog\0--flag\0", 12) == 0);
    CHECK(md.proc_status.len == 21 && md.maps.len == 64 && md.environment.data == NULL);
    CHECK(md.process_name && strcmp(md.process_name, "prog") == 0);
    CHECK(md.cgroup.len == 35 && memcmp(md.cgroup.data, "0::/system.slice/docker-ab12.scope\n", 35) == 0);
    CHECK(md.hostname.len == 4 && memcmp(md.hostname.data, "ab12", 4) == 0);
    /* lastgasp stream */
    CHECK(md.lg.present && md.lg.version == LG_CRASH_INFO_VERSION && md.lg.signal == 11 && md.lg.pid == 100);
    CHECK_EQ_U64(md.lg.time_ns, 1795000000123456789ull);
    CHECK(md.lg.notes && strcmp(md.lg.notes, "line one\nline two\n") == 0);
    CHECK_EQ_U64(md.lg.nthreads, 3);
    CHECK_EQ_U64(md.lg.nframes, 3);
    if (md.lg.nthreads == 3 && md.lg.nframes == 3) {
        CHECK(md.lg.threads[0].crashed && !md.lg.threads[1].crashed);
        CHECK(md.lg.threads[2].status == LG_THREAD_NO_ANSWER && md.lg.threads[2].name == NULL);
        CHECK(md.lg.frames[0].symbol && strcmp(md.lg.frames[0].symbol, "crash_here") == 0);
        CHECK(md.lg.frames[1].symbol && strcmp(md.lg.frames[1].symbol, "caller") == 0 && md.lg.frames[1].symbol_delta == 8);
        CHECK(md.lg.frames[2].symbol == NULL && md.lg.frames[2].module_index == LG_NONE);
        CHECK(md.lg.frames[1].trust == LG_TRUST_CFI);
    }
    /* Breakpad's exact-size rule for list streams. */
    for (size_t i = 0; i < md.nstreams; i++) {
        const struct mdr_stream *s = &md.streams[i];
        const uint8_t *p = b.p + s->rva;
        uint32_t count;
        memcpy(&count, p, 4);
        if (s->type == MD_THREAD_LIST_STREAM)
            CHECK_EQ_U64(s->size, 4 + count * sizeof(struct md_thread));
        if (s->type == MD_MODULE_LIST_STREAM)
            CHECK_EQ_U64(s->size, 4 + count * sizeof(struct md_module));
        if (s->type == MD_MEMORY_LIST_STREAM)
            CHECK_EQ_U64(s->size, 4 + count * sizeof(struct md_memory_descriptor));
        if (s->type == MD_SYSTEM_INFO_STREAM)
            CHECK_EQ_U64(s->size, sizeof(struct md_system_info));
        CHECK(s->rva % 8 == 0);
    }
    mdr_close(&md);

    /* The crash reason comes first: any prefix that holds the header and directory still opens,
     * and once the Exception stream is in, it is read. */
    size_t exc_end = 0;
    CHECK(mdr_open(&md, b.p, b.len, err, sizeof err) == MDR_OK);
    for (size_t i = 0; i < md.nstreams; i++)
        if (md.streams[i].type == MD_EXCEPTION_STREAM)
            exc_end = md.streams[i].rva + md.streams[i].size;
    CHECK(md.nstreams > 0 && md.streams[0].type == MD_EXCEPTION_STREAM);
    mdr_close(&md);
    int bad = 0;
    for (size_t cut = 32; cut < b.len; cut += 7) {
        if (mdr_open(&md, b.p, cut, err, sizeof err) != MDR_OK ||
            (cut >= exc_end && !(md.exception.present && md.exception.code == 11)))
            bad++;
        mdr_close(&md);
    }
    CHECK_MSG(bad == 0, "%d truncations lost the crash reason", bad);

    /* mdw_openable_size: exactly where the thread list's counted part ends (what Breakpad and rust-minidump
     * require before they open a file); a file cut there has every thread the list holds (the two that answered), one byte less loses one. */
    size_t threads_end = 0;
    CHECK(mdr_open(&md, b.p, b.len, err, sizeof err) == MDR_OK);
    for (size_t i = 0; i < md.nstreams; i++)
        if (md.streams[i].type == MD_THREAD_LIST_STREAM)
            threads_end = md.streams[i].rva + md.streams[i].size;
    mdr_close(&md);
    CHECK_EQ_U64(mdw_openable_size(&d), threads_end);
    CHECK(threads_end > exc_end && threads_end < b.len);
    int rc = mdr_open(&md, b.p, threads_end, err, sizeof err);
    CHECK_MSG(rc == MDR_OK && md.nthreads == 2, "rc %d, %zu threads", rc, md.nthreads);
    mdr_close(&md);
    rc = mdr_open(&md, b.p, threads_end - 1, err, sizeof err);
    CHECK_MSG(rc == MDR_OK && md.nthreads == 1, "rc %d, %zu threads", rc, md.nthreads);
    mdr_close(&md);

    /* A sink that fails stops the writer and reports the error. */
    struct membuf small = {malloc(100), 0, 100};
    CHECK(mdw_write(&d, sink_mem, &small) == -28);
    free(small.p);
    free(b.p);
}

static int has_stream(const struct mdr_dump *md, uint32_t type)
{
    for (size_t i = 0; i < md->nstreams; i++)
        if (md->streams[i].type == type)
            return 1;
    return 0;
}

/* The Crashpad info stream and the Go crash text: absent when empty; every annotation (the table's bound of
 * 64, keys of 1 to 63 bytes, values up to 1023 bytes, UTF-8 beyond ASCII) back as written; the layout that
 * Crashpad's readers expect (the stream is the 52-byte struct, strings NUL-terminated and 4-aligned). */
static void test_annotations_and_crash_text(void)
{
    struct md_context_amd64 ctx[2];
    struct mdw_thread th[3];
    struct lg_frame_record fr[3];
    struct mdw_module mods[2];
    struct mdw_range rg[4];
    struct mdw_dump d = make_model(ctx, th, fr, mods, rg);
    struct membuf b = {malloc(1 << 20), 0, 1 << 20};
    struct mdr_dump md;
    char err[256];

    /* None of either: neither stream is written. */
    CHECK(mdw_write(&d, sink_mem, &b) > 0);
    CHECK(mdr_open(&md, b.p, b.len, err, sizeof err) == MDR_OK);
    CHECK(!has_stream(&md, MD_CRASHPAD_INFO_STREAM) && !has_stream(&md, LG_STREAM_GO_CRASH_TEXT));
    CHECK(!md.crashpad.present && md.crashpad.nannotations == 0 && md.go_crash_text.data == NULL);
    mdr_close(&md);

    static char keys[64][64], values[64][1024];
    struct mdw_annotation ann[64];
    for (int i = 0; i < 64; i++) {
        uint32_t klen = (uint32_t)(i % 63) + 1, vlen = (uint32_t)(i * 16 + 15) % 1024;
        for (uint32_t k = 0; k < klen; k++)
            keys[i][k] = (char)('a' + (i + k) % 26);
        keys[i][0] = (char)('0' + i / 10), keys[i][klen > 1] = (char)('0' + i % 10); /* unique */
        for (uint32_t k = 0; k < vlen; k++)
            values[i][k] = (char)('A' + k % 26);
        if (vlen >= 5)
            memcpy(values[i], "\xc3\xa9\xe2\x82\xac", 5); /* "é€" */
        ann[i] = (struct mdw_annotation){keys[i], klen, values[i], vlen};
    }
    static const char text[] = "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:5 +0x1d\n";
    d.annotations = ann;
    d.annotation_count = 64;
    d.go_crash_text = (struct mdw_blob){text, sizeof text - 1};
    b.len = 0;
    int64_t n = mdw_write(&d, sink_mem, &b);
    CHECK(n > 0 && (size_t)n == b.len);
    CHECK(mdr_open(&md, b.p, b.len, err, sizeof err) == MDR_OK);
    CHECK_MSG(md.nwarnings == 0, "warnings: %s", md.nwarnings ? md.warnings[0] : "");
    CHECK(md.crashpad.present && md.crashpad.version == MD_CRASHPAD_INFO_VERSION);
    CHECK_EQ_U64(md.crashpad.nannotations, 64);
    int same = md.crashpad.nannotations == 64;
    for (size_t i = 0; same && i < 64; i++) {
        const struct mdr_annotation *a = &md.crashpad.annotations[i];
        same = a->key_len == ann[i].key_len && memcmp(a->key, ann[i].key, a->key_len) == 0 && !a->key[a->key_len] &&
               a->value_len == ann[i].value_len && memcmp(a->value, ann[i].value, a->value_len) == 0;
        CHECK_MSG(same, "annotation %zu differs", i);
    }
    CHECK(md.go_crash_text.len == sizeof text - 1 && memcmp(md.go_crash_text.data, text, sizeof text - 1) == 0);
    for (size_t i = 0; i < md.nstreams; i++) {
        const struct mdr_stream *s = &md.streams[i];
        if (s->type != MD_CRASHPAD_INFO_STREAM)
            continue;
        struct md_crashpad_info ci;
        uint32_t count;
        CHECK_EQ_U64(s->size, sizeof ci);
        memcpy(&ci, b.p + s->rva, sizeof ci);
        CHECK(ci.module_list.rva == 0 && ci.module_list.data_size == 0);
        CHECK_EQ_U64(ci.simple_annotations.data_size, 4 + 64 * 8);
        memcpy(&count, b.p + ci.simple_annotations.rva, 4);
        CHECK_EQ_U64(count, 64);
        int layout_ok = 1;
        for (uint32_t k = 0; k < count; k++) {
            struct md_simple_string_dictionary_entry e;
            memcpy(&e, b.p + ci.simple_annotations.rva + 4 + 8 * k, sizeof e);
            uint32_t rvas[2] = {e.key_rva, e.value_rva}, len;
            for (int j = 0; j < 2; j++) {
                memcpy(&len, b.p + rvas[j], 4);
                layout_ok &= rvas[j] % 4 == 0 && b.p[rvas[j] + 4 + len] == 0;
            }
        }
        CHECK(layout_ok);
    }
    mdr_close(&md);

    /* Every prefix of the file opens, and holds the annotations once their strings are in. */
    int bad = 0;
    for (size_t cut = 32; cut < b.len; cut += 97) {
        if (mdr_open(&md, b.p, cut, err, sizeof err) != MDR_OK)
            bad++;
        mdr_close(&md);
    }
    CHECK(bad == 0);
    free(b.p);
}

static void test_ranges(void)
{
    struct mdw_range r[] = {{100, 10}, {50, 10}, {105, 20}, {60, 5}, {200, 0}, {300, 1}};
    uint32_t n = mdw_ranges_normalize(r, 6);
    CHECK_EQ_U64(n, 3);
    CHECK(r[0].start == 50 && r[0].size == 15); /* 50..60 and 60..65 touch: merged */
    CHECK(r[1].start == 100 && r[1].size == 25);
    CHECK(r[2].start == 300 && r[2].size == 1);
    CHECK_EQ_U64(mdw_ranges_normalize(r, 0), 0);
}

/* An arm64 dump: the same model with arm64 contexts (what reporter/aarch64/context.c makes) is written with
 * Breakpad's ARM64 layout and architecture, and the reader gives every register back by its name. */
static void test_arm64_contexts(void)
{
    struct md_context_amd64 unused[2];
    struct mdw_thread th[3];
    struct lg_frame_record fr[3];
    struct mdw_module mods[2];
    struct mdw_range rg[4];
    struct mdw_dump d = make_model(unused, th, fr, mods, rg);
    struct md_context_arm64 ctx[2];
    memset(ctx, 0, sizeof ctx);
    for (int k = 0; k < 2; k++) {
        ctx[k].context_flags = MD_CONTEXT_ARM64_OLD_FULL;
        for (int i = 0; i < 31; i++)
            ctx[k].iregs[i] = 0x1000u * (uint64_t)(k + 1) + (uint64_t)i;
        ctx[k].cpsr = 0x60000000u;
        ctx[k].fpsr = 0x10;
        ctx[k].vregs[31][15] = 0xab;
    }
    ctx[0].iregs[MD_ARM64_REG_SP] = ADDR_A + 128;
    ctx[0].iregs[MD_ARM64_REG_PC] = ADDR_CODE + 0x10;
    ctx[1].iregs[MD_ARM64_REG_SP] = ADDR_B + 16;
    ctx[1].iregs[MD_ARM64_REG_PC] = ADDR_CODE + 0x20;
    th[0].context = &ctx[0];
    th[1].context = &ctx[1];
    d.cpu_arch = MD_CPU_ARCHITECTURE_ARM64;
    d.context_size = sizeof(struct md_context_arm64);
    d.cpu_version = 0x410fd0c0; /* a MIDR: Neoverse N1 */
    d.cpu_features = 0xff;      /* AT_HWCAP */

    struct membuf b = {malloc(1 << 20), 0, 1 << 20};
    int64_t n = mdw_write(&d, sink_mem, &b);
    CHECK(n > 0 && (size_t)n == b.len);
    struct mdr_dump md;
    char err[256];
    CHECK(mdr_open(&md, b.p, b.len, err, sizeof err) == MDR_OK);
    CHECK_MSG(md.nwarnings == 0, "warnings: %s", md.nwarnings ? md.warnings[0] : "");
    CHECK(md.sysinfo.present && md.sysinfo.arch == MD_CPU_ARCHITECTURE_ARM64 && md.sysinfo.cpu_vendor[0] == 0);
    /* The context is Breakpad's 796 bytes, flags and all, at the place the thread and the exception name. */
    CHECK(md.exception.present && md.exception.ctx.arch == MDR_ARCH_ARM64);
    CHECK(md.exception.ctx.context_flags == MD_CONTEXT_ARM64_OLD_FULL);
    CHECK_EQ_U64(md.exception.ctx.nregs, 34);
    CHECK_EQ_U64(mdr_context_pc(&md.exception.ctx), ADDR_CODE + 0x10);
    CHECK_EQ_U64(mdr_context_sp(&md.exception.ctx), ADDR_A + 128);
    CHECK_EQ_U64(md.exception.ctx.reg[MDR_ARM64_FP], 0x1000 + 29);
    CHECK_EQ_U64(md.exception.ctx.reg[MDR_ARM64_LR], 0x1000 + 30);
    CHECK_EQ_U64(md.exception.ctx.reg[MDR_ARM64_X0 + 28], 0x1000 + 28);
    CHECK_EQ_U64(md.exception.ctx.reg[MDR_ARM64_CPSR], 0x60000000);
    CHECK(strcmp(md.exception.ctx.reg_names[MDR_ARM64_X0 + 28], "x28") == 0 &&
          strcmp(md.exception.ctx.reg_names[MDR_ARM64_CPSR], "cpsr") == 0);
    CHECK_EQ_U64(md.nthreads, 2);
    if (md.nthreads == 2) {
        CHECK(md.threads[1].ctx.arch == MDR_ARCH_ARM64);
        CHECK_EQ_U64(mdr_context_pc(&md.threads[1].ctx), ADDR_CODE + 0x20);
        CHECK_EQ_U64(md.threads[1].ctx.reg[MDR_ARM64_X0 + 3], 0x2003);
        CHECK(md.threads[0].stack && memcmp(md.threads[0].stack, g_stack_a, sizeof g_stack_a) == 0);
    }
    /* The raw bytes: 796 of them per context, v31's top byte where LLDB reads it (284 + 31 * 16 + 15). */
    int found = 0;
    for (size_t off = 0; off + sizeof ctx[0] <= b.len; off++) {
        if (memcmp(b.p + off, &ctx[0], sizeof ctx[0]) == 0) {
            found = 1;
            CHECK(b.p[off + 284 + 31 * 16 + 15] == 0xab);
            CHECK(b.p[off + 272] == 0 && b.p[off + 275] == 0x60); /* cpsr, little-endian */
            break;
        }
    }
    CHECK(found);
    mdr_close(&md);
    free(b.p);
}

int main(void)
{
    test_roundtrip();
    test_arm64_contexts();
    test_annotations_and_crash_text();
    test_ranges();
    return check_summary();
}
