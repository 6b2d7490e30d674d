/* mdwrite.c — emit a minidump from a captured model, in one forward pass.
 *
 * RULES: async-signal-safe. No libc calls, no allocation, no recursion; loops bounded by the
 * model's counts. Stack budget: about 5 KiB (one 4 KiB copy buffer); the handler's stack is 512 KiB.
 *
 * How it stays streaming: the directory sits at the front, so every stream's size and offset must
 * be known before the first byte goes out. Each stream is emitted twice by the same code: first to
 * a counting "dry" pass that records sizes and offsets (memory is not read), then for real, with
 * the cross-stream offsets (a thread's context and stack, which live in other streams) taken from
 * the first pass. Nothing the emitters write depends on those offsets' values for its size.
 */
#include "mdwrite.h"

#include "../../sigsafe/sigsafe.h"

enum {
    S_EXCEPTION,
    S_LASTGASP,
    S_GO,
    S_CRASHPAD,
    S_GO_CRASH_TEXT,
    S_SYSTEM,
    S_MISC,
    S_CGROUP,
    S_HOSTNAME,
    S_THREADS,
    S_THREAD_NAMES,
    S_MODULES,
    S_STATUS,
    S_CMDLINE,
    S_AUXV,
    S_MAPS,
    S_ENVIRON,
    S_MEMORY,
    S_COUNT
};

static const uint32_t stream_types[S_COUNT] = {
    MD_EXCEPTION_STREAM, LG_STREAM_CRASH_INFO, LG_STREAM_GO, MD_CRASHPAD_INFO_STREAM, LG_STREAM_GO_CRASH_TEXT,
    MD_SYSTEM_INFO_STREAM, MD_MISC_INFO_STREAM, LG_STREAM_CGROUP, LG_STREAM_HOSTNAME,
    MD_THREAD_LIST_STREAM, MD_THREAD_NAME_LIST_STREAM, MD_MODULE_LIST_STREAM, MD_LINUX_PROC_STATUS,
    MD_LINUX_CMD_LINE, MD_LINUX_AUXV, MD_LINUX_MAPS, MD_LINUX_ENVIRON, MD_MEMORY_LIST_STREAM,
};

#define MODULE_NAME_MAX_UNITS 1023u

struct writer {
    const struct mdw_dump *d;
    mdw_sink sink;
    void *ctx;
    uint64_t pos;
    int dry;
    int err;
    uint32_t rva[S_COUNT];
    uint32_t size[S_COUNT];
    uint8_t present[S_COUNT];
    uint64_t list_end; /* set by list streams: where the directory-counted part ends */
};

/* Readers (Breakpad) insist that a list stream's size is exactly count + entries; the things the
 * entries point to (contexts, names, memory bytes) follow outside the stream's counted size. */
static void end_of_list(struct writer *w) { w->list_end = w->pos; }

static void put(struct writer *w, const void *p, size_t n)
{
    if (!w->dry && !w->err && n)
        w->err = w->sink(p, n, w->ctx);
    w->pos += n;
}

static void zeros(struct writer *w, uint64_t n)
{
    static const uint8_t z[256];
    while (n > 0) {
        size_t k = n < sizeof z ? (size_t)n : sizeof z;
        put(w, z, k);
        n -= k;
    }
}

static void align(struct writer *w, unsigned a)
{
    zeros(w, (a - w->pos % a) % a);
}

static void put_u32(struct writer *w, uint32_t v) { put(w, &v, 4); }

/* ---- UTF-8 to UTF-16 MINIDUMP_STRING ---- */

/* Decode one code point from s[*i..n); invalid bytes become U+FFFD, one byte at a time. */
static uint32_t utf8_next(const char *s, size_t n, size_t *i)
{
    const uint8_t *b = (const uint8_t *)s;
    uint8_t c = b[*i];
    size_t need = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 9;
    if (need == 0) {
        (*i)++;
        return c;
    }
    if (need == 9 || need > n - *i - 1) {
        (*i)++;
        return 0xfffd;
    }
    uint32_t cp = c & (0x3fu >> need);
    for (size_t k = 1; k <= need; k++) {
        if ((b[*i + k] & 0xc0) != 0x80) {
            (*i)++;
            return 0xfffd;
        }
        cp = (cp << 6) | (b[*i + k] & 0x3fu);
    }
    static const uint32_t min_for[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_for[need] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        (*i)++;
        return 0xfffd;
    }
    *i += need + 1;
    return cp;
}

/* Emit (or, with w->dry, just count) the UTF-16 units of s, at most max_units. Returns units. */
static uint32_t utf16_units(struct writer *w, const char *s, size_t n, uint32_t max_units, int emit)
{
    uint32_t units = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp = utf8_next(s, n, &i);
        uint16_t u[2];
        uint32_t k = 1;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            u[0] = (uint16_t)(0xd800 + (cp >> 10));
            u[1] = (uint16_t)(0xdc00 + (cp & 0x3ff));
            k = 2;
        } else {
            u[0] = (uint16_t)cp;
        }
        if (units + k > max_units)
            break;
        if (emit)
            put(w, u, 2 * k);
        units += k;
    }
    return units;
}

/* MINIDUMP_STRING at the current (4-aligned) position; returns its rva. */
static uint32_t put_md_string(struct writer *w, const char *s, size_t n, uint32_t max_units)
{
    align(w, 4);
    uint32_t rva = (uint32_t)w->pos;
    uint32_t units = utf16_units(w, s, n, max_units, 0);
    put_u32(w, units * 2);
    utf16_units(w, s, n, max_units, 1);
    zeros(w, 2);
    return rva;
}

/* ---- cross-stream offsets ---- */

static uint32_t context_count(const struct mdw_dump *d)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < d->thread_count; i++)
        n += d->threads[i].context != 0;
    return n;
}

/* Bytes of one CPU context: the architecture's (cpu_arch 0 is amd64). */
static uint32_t context_size(const struct mdw_dump *d)
{
    return d->context_size ? d->context_size : (uint32_t)sizeof(struct md_context_amd64);
}

/* The location of thread i's context inside the ThreadList stream (0 when it has none). */
static struct md_location context_location(const struct writer *w, uint32_t i)
{
    const struct mdw_dump *d = w->d;
    struct md_location loc = {0, 0};
    if (!d->threads[i].context)
        return loc;
    uint32_t before = 0;
    for (uint32_t k = 0; k < i; k++)
        before += d->threads[k].context != 0;
    loc.data_size = context_size(d);
    loc.rva = w->rva[S_THREADS] + 4 + context_count(d) * (uint32_t)sizeof(struct md_thread) +
              before * context_size(d);
    return loc;
}

/* The location of [start, start+size) inside the MemoryList's data, or {0,0} if not captured. */
static struct md_location memory_location(const struct writer *w, uint64_t start, uint64_t size)
{
    const struct mdw_dump *d = w->d;
    struct md_location loc = {0, 0};
    uint64_t rva = w->rva[S_MEMORY] + 4 + (uint64_t)d->range_count * sizeof(struct md_memory_descriptor);
    for (uint32_t j = 0; j < d->range_count; j++) {
        const struct mdw_range *r = &d->ranges[j];
        if (start >= r->start && start - r->start + size <= r->size) {
            loc.data_size = (uint32_t)size;
            loc.rva = (uint32_t)(rva + (start - r->start));
            return loc;
        }
        rva += r->size;
    }
    return loc;
}

static uint32_t crashing_index(const struct mdw_dump *d)
{
    for (uint32_t i = 0; i < d->thread_count; i++)
        if (d->threads[i].tid == d->crashing_tid)
            return i;
    return LG_NONE;
}

/* ---- the streams ---- */

static void emit_exception(struct writer *w)
{
    const struct mdw_dump *d = w->d;
    struct md_exception_stream e;
    ss_memset(&e, 0, sizeof e);
    e.thread_id = d->crashing_tid;
    e.exception_code = d->signal;
    e.exception_flags = (uint32_t)d->si_code;
    e.exception_address = d->fault_address;
    uint32_t ci = crashing_index(d);
    if (ci != LG_NONE)
        e.thread_context = context_location(w, ci);
    put(w, &e, sizeof e);
}

static void emit_lastgasp(struct writer *w)
{
    const struct mdw_dump *d = w->d;
    struct lg_info_header h;
    ss_memset(&h, 0, sizeof h);
    h.version = LG_CRASH_INFO_VERSION;
    h.header_size = sizeof h;
    h.signal = d->signal;
    h.si_code = d->si_code;
    h.fault_address = d->fault_address;
    h.pid = d->pid;
    h.crashing_tid = d->crashing_tid;
    h.sender_pid = d->sender_pid;
    h.sender_uid = d->sender_uid;
    h.time_ns = d->time_ns;
    h.thread_count = d->thread_count;
    h.thread_record_size = sizeof(struct lg_thread_record);
    h.frame_count = d->frame_count;
    h.frame_record_size = sizeof(struct lg_frame_record);
    h.strings_size = d->strings_size;
    h.notes_off = d->notes_off;
    h.flags = d->flags;
    put(w, &h, sizeof h);
    for (uint32_t i = 0; i < d->thread_count; i++) {
        const struct mdw_thread *t = &d->threads[i];
        struct lg_thread_record r = {t->tid, t->status, t->first_frame, t->frame_count, t->name_off, t->crashed};
        put(w, &r, sizeof r);
    }
    put(w, d->frames, (size_t)d->frame_count * sizeof(struct lg_frame_record));
    put(w, d->strings, d->strings_size);
}

static void emit_go(struct writer *w)
{
    const struct mdw_go *g = &w->d->go;
    struct lg_go_header h = g->h;
    h.version = LG_GO_VERSION;
    h.header_size = sizeof h;
    h.goroutine_record_size = sizeof(struct lg_go_goroutine);
    h.frame_record_size = sizeof(struct lg_go_frame);
    put(w, &h, sizeof h);
    put(w, g->goroutines, (size_t)h.goroutine_count * sizeof(struct lg_go_goroutine));
    put(w, g->frames, (size_t)h.frame_count * sizeof(struct lg_go_frame));
    put(w, g->strings, h.strings_size);
}

/* Crashpad's layout: the fixed struct is the stream (its counted size, as Crashpad writes it), then the
 * dictionary and its MinidumpUTF8Strings, which the struct and the entries reach by rva. */
static void emit_crashpad(struct writer *w)
{
    const struct mdw_dump *d = w->d;
    struct md_crashpad_info ci;
    ss_memset(&ci, 0, sizeof ci);
    ci.version = MD_CRASHPAD_INFO_VERSION;
    ci.simple_annotations.rva = (uint32_t)(w->pos + sizeof ci); /* 52 after an 8-aligned start: 4-aligned */
    ci.simple_annotations.data_size =
        4 + d->annotation_count * (uint32_t)sizeof(struct md_simple_string_dictionary_entry);
    put(w, &ci, sizeof ci);
    end_of_list(w);
    put_u32(w, d->annotation_count);
    uint64_t str = w->pos + (uint64_t)d->annotation_count * sizeof(struct md_simple_string_dictionary_entry);
    for (uint32_t i = 0; i < d->annotation_count; i++) {
        const struct mdw_annotation *a = &d->annotations[i];
        struct md_simple_string_dictionary_entry e;
        str = (str + 3) & ~(uint64_t)3;
        e.key_rva = (uint32_t)str;
        str += 4 + (uint64_t)a->key_len + 1;
        str = (str + 3) & ~(uint64_t)3;
        e.value_rva = (uint32_t)str;
        str += 4 + (uint64_t)a->value_len + 1;
        put(w, &e, sizeof e);
    }
    for (uint32_t i = 0; i < d->annotation_count; i++) {
        const struct mdw_annotation *a = &d->annotations[i];
        const char *s[2] = {a->key, a->value};
        uint32_t n[2] = {a->key_len, a->value_len};
        for (int k = 0; k < 2; k++) {
            align(w, 4);
            put_u32(w, n[k]);
            put(w, s[k], n[k]);
            zeros(w, 1);
        }
    }
}

static void emit_system(struct writer *w)
{
    const struct mdw_dump *d = w->d;
    struct md_system_info s;
    ss_memset(&s, 0, sizeof s);
    s.processor_architecture = d->cpu_arch ? d->cpu_arch : MD_CPU_ARCHITECTURE_AMD64;
    if (s.processor_architecture == MD_CPU_ARCHITECTURE_AMD64) {
        /* x86: family and model/stepping from cpuid leaf 1, as Breakpad's writer derives them */
        s.processor_level = (uint16_t)(((d->cpu_version >> 8) & 0xf) + ((d->cpu_version >> 20) & 0xff));
        s.processor_revision = (uint16_t)((((d->cpu_version >> 4) & 0xf) | ((d->cpu_version >> 12) & 0xf0)) << 8 |
                                          (d->cpu_version & 0xf));
        s.cpu[0] = d->cpu_vendor[0];
        s.cpu[1] = d->cpu_vendor[1];
        s.cpu[2] = d->cpu_vendor[2];
        s.cpu[3] = d->cpu_version;
        s.cpu[4] = d->cpu_features;
        s.cpu[5] = d->cpu_amd_features;
    } else {
        /* arm: Breakpad's ARM CPU information, {cpuid (MIDR), elf_hwcaps}; the level is the architecture
         * version (8 for every arm64 CPU) */
        s.processor_level = 8;
        s.cpu[0] = d->cpu_version;
        s.cpu[1] = d->cpu_features;
    }
    s.number_of_processors = (uint8_t)(d->cpu_count > 255 ? 255 : d->cpu_count);
    s.platform_id = MD_OS_LINUX;
    s.major_version = d->os_major;
    s.minor_version = d->os_minor;
    s.build_number = d->os_build;
    s.csd_version_rva = (uint32_t)(w->pos + sizeof s); /* the string follows at once (56 is 4-aligned) */
    put(w, &s, sizeof s);
    end_of_list(w);
    const char *os = d->os_version ? d->os_version : "";
    put_md_string(w, os, ss_strlen(os), 255);
}

static void emit_misc(struct writer *w)
{
    struct md_misc_info m = {sizeof m, MD_MISC1_PROCESS_ID, w->d->pid, 0, 0, 0};
    put(w, &m, sizeof m);
}

static void emit_threads(struct writer *w)
{
    const struct mdw_dump *d = w->d;
    put_u32(w, context_count(d));
    for (uint32_t i = 0; i < d->thread_count; i++) {
        const struct mdw_thread *t = &d->threads[i];
        if (!t->context)
            continue;
        struct md_thread m;
        ss_memset(&m, 0, sizeof m);
        m.thread_id = t->tid;
        m.stack.start_of_memory_range = t->stack_start;
        if (t->stack_size)
            m.stack.memory = memory_location(w, t->stack_start, t->stack_size);
        m.thread_context = context_location(w, i);
        put(w, &m, sizeof m);
    }
    end_of_list(w);
    for (uint32_t i = 0; i < d->thread_count; i++)
        if (d->threads[i].context)
            put(w, d->threads[i].context, context_size(d));
}

static void emit_thread_names(struct writer *w)
{
    const struct mdw_dump *d = w->d;
    uint32_t n = 0;
    for (uint32_t i = 0; i < d->thread_count; i++)
        n += d->threads[i].context && d->threads[i].name_off < d->strings_size;
    put_u32(w, n);
    /* Names follow the array; each entry's rva is found by sizing the names before it. */
    uint64_t name_rva = w->pos + (uint64_t)n * sizeof(struct md_thread_name);
    for (uint32_t i = 0; i < d->thread_count; i++) {
        const struct mdw_thread *t = &d->threads[i];
        if (!t->context || t->name_off >= d->strings_size)
            continue;
        const char *s = d->strings + t->name_off;
        size_t len = ss_strnlen(s, d->strings_size - t->name_off);
        name_rva = (name_rva + 3) & ~(uint64_t)3;
        struct md_thread_name e = {t->tid, name_rva};
        put(w, &e, sizeof e);
        name_rva += 4 + 2 * (uint64_t)utf16_units(w, s, len, 255, 0) + 2;
    }
    end_of_list(w);
    for (uint32_t i = 0; i < d->thread_count; i++) {
        const struct mdw_thread *t = &d->threads[i];
        if (!t->context || t->name_off >= d->strings_size)
            continue;
        const char *s = d->strings + t->name_off;
        put_md_string(w, s, ss_strnlen(s, d->strings_size - t->name_off), 255);
    }
}

static void emit_modules(struct writer *w)
{
    const struct mdw_dump *d = w->d;
    put_u32(w, d->module_count);
    uint64_t extra = w->pos + (uint64_t)d->module_count * sizeof(struct md_module);
    for (uint32_t i = 0; i < d->module_count; i++) {
        const struct mdw_module *m = &d->modules[i];
        struct md_module r;
        ss_memset(&r, 0, sizeof r);
        r.base_of_image = m->base;
        r.size_of_image = (uint32_t)(m->size ? m->size : 1);
        extra = (extra + 3) & ~(uint64_t)3;
        r.module_name_rva = (uint32_t)extra;
        extra += 4 + 2 * (uint64_t)utf16_units(w, m->path, m->path_len, MODULE_NAME_MAX_UNITS, 0) + 2;
        if (m->build_id_len) {
            extra = (extra + 3) & ~(uint64_t)3;
            r.cv_record.rva = (uint32_t)extra;
            r.cv_record.data_size = 4 + m->build_id_len;
            extra += r.cv_record.data_size;
        }
        put(w, &r, sizeof r);
    }
    end_of_list(w);
    for (uint32_t i = 0; i < d->module_count; i++) {
        const struct mdw_module *m = &d->modules[i];
        put_md_string(w, m->path, m->path_len, MODULE_NAME_MAX_UNITS);
        if (m->build_id_len) {
            align(w, 4);
            put_u32(w, MD_CVINFO_ELF_SIGNATURE);
            put(w, m->build_id, m->build_id_len);
        }
    }
}

static void emit_blob(struct writer *w, const struct mdw_blob *b) { put(w, b->data, b->size); }

static void emit_memory(struct writer *w)
{
    const struct mdw_dump *d = w->d;
    put_u32(w, d->range_count);
    uint64_t rva = w->pos + (uint64_t)d->range_count * sizeof(struct md_memory_descriptor);
    for (uint32_t j = 0; j < d->range_count; j++) {
        struct md_memory_descriptor m = {d->ranges[j].start, {(uint32_t)d->ranges[j].size, (uint32_t)rva}};
        put(w, &m, sizeof m);
        rva += d->ranges[j].size;
    }
    end_of_list(w);
    uint8_t buf[4096];
    for (uint32_t j = 0; j < d->range_count; j++) {
        uint64_t a = d->ranges[j].start, left = d->ranges[j].size;
        if (w->dry) {
            zeros(w, left);
            continue;
        }
        while (left > 0 && !w->err) {
            size_t k = left < sizeof buf ? (size_t)left : sizeof buf;
            if (!d->read_mem || d->read_mem(buf, a, k) != (long)k)
                ss_memset(buf, 0, k);
            put(w, buf, k);
            a += k;
            left -= k;
        }
    }
}

static void emit(struct writer *w, int s)
{
    const struct mdw_dump *d = w->d;
    switch (s) {
    case S_EXCEPTION: emit_exception(w); break;
    case S_LASTGASP: emit_lastgasp(w); break;
    case S_GO: emit_go(w); break;
    case S_CRASHPAD: emit_crashpad(w); break;
    case S_GO_CRASH_TEXT: emit_blob(w, &d->go_crash_text); break;
    case S_SYSTEM: emit_system(w); break;
    case S_MISC: emit_misc(w); break;
    case S_CGROUP: emit_blob(w, &d->cgroup); break;
    case S_HOSTNAME: emit_blob(w, &d->hostname); break;
    case S_THREADS: emit_threads(w); break;
    case S_THREAD_NAMES: emit_thread_names(w); break;
    case S_MODULES: emit_modules(w); break;
    case S_STATUS: emit_blob(w, &d->proc_status); break;
    case S_CMDLINE: emit_blob(w, &d->cmdline); break;
    case S_AUXV: emit_blob(w, &d->auxv); break;
    case S_MAPS: emit_blob(w, &d->maps); break;
    case S_ENVIRON: emit_blob(w, &d->environ); break;
    case S_MEMORY: emit_memory(w); break;
    }
}

/* One pass over the whole file: header, directory, streams. */
static void pass(struct writer *w)
{
    uint32_t count = 0;
    for (int s = 0; s < S_COUNT; s++)
        count += w->present[s];
    struct md_header h = {MD_SIGNATURE, MD_VERSION, count, sizeof h, 0, (uint32_t)(w->d->time_ns / 1000000000u), 0};
    w->pos = 0;
    put(w, &h, sizeof h);
    for (int s = 0; s < S_COUNT; s++) {
        if (!w->present[s])
            continue;
        struct md_directory e = {stream_types[s], {w->size[s], w->rva[s]}};
        put(w, &e, sizeof e);
    }
    for (int s = 0; s < S_COUNT; s++) {
        if (!w->present[s])
            continue;
        align(w, 8);
        uint64_t start = w->pos;
        if (w->dry)
            w->rva[s] = (uint32_t)start;
        w->list_end = 0;
        emit(w, s);
        if (w->dry)
            w->size[s] = (uint32_t)((w->list_end ? w->list_end : w->pos) - start);
    }
}

static void plan(struct writer *w, const struct mdw_dump *d)
{
    ss_memset(w, 0, sizeof *w);
    w->d = d;
    for (int s = 0; s < S_COUNT; s++)
        w->present[s] = 1;
    w->present[S_GO] = d->go.present;
    w->present[S_CRASHPAD] = d->annotation_count != 0;
    w->present[S_GO_CRASH_TEXT] = d->go_crash_text.size != 0;
    w->present[S_STATUS] = d->proc_status.size != 0;
    w->present[S_CMDLINE] = d->cmdline.size != 0;
    w->present[S_AUXV] = d->auxv.size != 0;
    w->present[S_MAPS] = d->maps.size != 0;
    w->present[S_ENVIRON] = d->environ.size != 0;
    w->present[S_CGROUP] = d->cgroup.size != 0;
    w->present[S_HOSTNAME] = d->hostname.size != 0;
    w->dry = 1;
    pass(w);
}

int64_t mdw_write(const struct mdw_dump *d, mdw_sink sink, void *ctx)
{
    struct writer w;
    plan(&w, d);
    w.sink = sink;
    w.ctx = ctx;
    if (w.pos > 0xffffffffu)
        return -27; /* EFBIG: a minidump's offsets are 32-bit */
    w.dry = 0;
    pass(&w);
    return w.err ? w.err : (int64_t)w.pos;
}

uint64_t mdw_openable_size(const struct mdw_dump *d)
{
    struct writer w;
    plan(&w, d);
    return (uint64_t)w.rva[S_THREADS] + w.size[S_THREADS];
}

uint32_t mdw_ranges_normalize(struct mdw_range *r, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        struct mdw_range x = r[i];
        uint32_t j = i;
        while (j > 0 && r[j - 1].start > x.start) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = x;
    }
    uint32_t out = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (r[i].size == 0)
            continue;
        if (out > 0 && r[i].start <= r[out - 1].start + r[out - 1].size) {
            uint64_t end = r[i].start + r[i].size, prev_end = r[out - 1].start + r[out - 1].size;
            if (end > prev_end)
                r[out - 1].size = end - r[out - 1].start;
            continue;
        }
        r[out++] = r[i];
    }
    return out;
}
