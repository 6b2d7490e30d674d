/* mdread_streams.c — parsers for the standard minidump streams (Breakpad/Microsoft layouts).
 *
 * Normal context. Each parser gets a span already clamped to the file by mdread.c; any rva it finds inside
 * the stream (strings, contexts, memory) is absolute and checked again with mdr_at().
 */
#include "mdread_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mdr_read_sysinfo(struct mdr_reader *rd, const struct mdr_span *s)
{
    struct mdr_sysinfo *out = &rd->md->sysinfo;
    struct md_system_info si;

    if (s->n < sizeof si) {
        mdr_warn(rd, "stream 7 (SystemInfo) is 0x%zx bytes, needs 0x%zx; ignored", s->n, sizeof si);
        return;
    }
    memcpy(&si, s->p, sizeof si);
    out->present = 1;
    out->arch = si.processor_architecture;
    out->platform = si.platform_id;
    out->cpu_count = si.number_of_processors;
    if (si.csd_version_rva != 0)
        out->csd_version = mdr_string(rd, si.csd_version_rva, "SystemInfo csd_version");
    if (si.processor_architecture == 0 || si.processor_architecture == MD_CPU_ARCHITECTURE_AMD64) {
        char v[12];
        int printable = 1;

        memcpy(v, si.cpu, sizeof v);
        for (size_t i = 0; i < sizeof v; i++)
            printable &= v[i] >= 0x20 && v[i] < 0x7f;
        if (printable) {
            memcpy(out->cpu_vendor, v, sizeof v);
            out->cpu_vendor[12] = '\0';
        }
    }
}

void mdr_read_misc(struct mdr_reader *rd, const struct mdr_span *s)
{
    struct md_misc_info mi;

    /* The stream grew over the years (24, 44, 232, ... bytes); the pid is in the first 12 of all of them. */
    if (s->n < 12) {
        mdr_warn(rd, "stream 15 (MiscInfo) is 0x%zx bytes, too short for a process id; ignored", s->n);
        return;
    }
    memset(&mi, 0, sizeof mi);
    memcpy(&mi, s->p, s->n < sizeof mi ? s->n : sizeof mi);
    if (mi.flags1 & MD_MISC1_PROCESS_ID) {
        rd->md->has_pid = 1;
        rd->md->pid = mi.process_id;
    }
}

void mdr_read_threads(struct mdr_reader *rd, const struct mdr_span *s)
{
    struct mdr_dump *md = rd->md;
    size_t first, n = mdr_list(rd, s, sizeof(struct md_thread), &first), lost = 0;

    md->threads = mdr_calloc(rd, n, sizeof *md->threads);
    if (!md->threads)
        return;
    md->nthreads = n;
    for (size_t i = 0; i < n; i++) {
        struct mdr_thread *t = &md->threads[i];
        struct md_thread raw;
        char who[48];

        memcpy(&raw, s->p + first + i * sizeof raw, sizeof raw);
        t->tid = raw.thread_id;
        t->stack_start = raw.stack.start_of_memory_range;
        t->stack_size = raw.stack.memory.data_size;
        t->stack = mdr_at(rd, raw.stack.memory.rva, raw.stack.memory.data_size);
        if (!t->stack && t->stack_size)
            lost++;
        snprintf(who, sizeof who, "thread %u", (unsigned)t->tid);
        mdr_read_context(rd, &raw.thread_context, &t->ctx, who);
    }
    if (lost)
        mdr_warn(rd, "stream 3 (ThreadList): the stacks of %zu of %zu threads pass end of file (size 0x%zx)",
                    lost, n, md->len);
    mdr_index_threads(rd);
}

void mdr_read_thread_names(struct mdr_reader *rd, const struct mdr_span *s)
{
    size_t first, n = mdr_list(rd, s, sizeof(struct md_thread_name), &first);

    for (size_t i = 0; i < n; i++) {
        struct mdr_thread *t;
        struct md_thread_name raw;
        char who[48];
        long ti;

        memcpy(&raw, s->p + first + i * sizeof raw, sizeof raw);
        ti = mdr_find_thread(rd->md, raw.thread_id);
        if (ti < 0 || rd->md->threads[ti].name)
            continue;
        t = &rd->md->threads[ti];
        snprintf(who, sizeof who, "thread %u name", (unsigned)raw.thread_id);
        if (raw.rva_of_thread_name > UINT32_MAX) {
            mdr_warn(rd, "%s: rva 0x%llx is past any 32-bit file offset", who,
                        (unsigned long long)raw.rva_of_thread_name);
            continue;
        }
        t->name = mdr_string(rd, (uint32_t)raw.rva_of_thread_name, who);
    }
}

/* Build-ids longer than this are not build-ids (GNU ones are 16 or 20 bytes); keep the report readable. */
#define MDR_MAX_BUILD_ID 64

static void module_cv(struct mdr_reader *rd, const struct md_location *cv, struct mdr_module *m, size_t idx)
{
    const uint8_t *p;
    size_t idlen;

    if (cv->data_size == 0)
        return;
    p = mdr_at(rd, cv->rva, cv->data_size);
    if (!p || cv->data_size < 4) {
        mdr_warn(rd, "module %zu (base 0x%llx): CodeView record at rva 0x%x size 0x%x %s", idx,
                    (unsigned long long)m->base, (unsigned)cv->rva, (unsigned)cv->data_size,
                    p ? "is too short for a signature" : "passes end of file");
        return;
    }
    memcpy(&m->cv_signature, p, 4);
    if (m->cv_signature != MD_CVINFO_ELF_SIGNATURE)
        return;
    idlen = cv->data_size - 4;
    if (idlen == 0)
        return;
    if (idlen > MDR_MAX_BUILD_ID) {
        mdr_warn(rd, "module %zu (base 0x%llx): build-id of 0x%zx bytes is implausible; ignored", idx,
                    (unsigned long long)m->base, idlen);
        return;
    }
    m->build_id = mdr_calloc(rd, idlen * 2 + 1, 1);
    if (!m->build_id)
        return;
    for (size_t i = 0; i < idlen; i++)
        snprintf(m->build_id + 2 * i, 3, "%02x", p[4 + i]);
}

void mdr_read_modules(struct mdr_reader *rd, const struct mdr_span *s)
{
    struct mdr_dump *md = rd->md;
    size_t first, n = mdr_list(rd, s, sizeof(struct md_module), &first);

    md->modules = mdr_calloc(rd, n, sizeof *md->modules);
    if (!md->modules)
        return;
    md->nmodules = n;
    for (size_t i = 0; i < n; i++) {
        struct mdr_module *m = &md->modules[i];
        struct md_module raw;
        char who[64];

        memcpy(&raw, s->p + first + i * sizeof raw, sizeof raw);
        m->base = raw.base_of_image;
        m->size = raw.size_of_image;
        snprintf(who, sizeof who, "module %zu (base 0x%llx) name", i, (unsigned long long)m->base);
        m->path = mdr_string(rd, raw.module_name_rva, who);
        module_cv(rd, &raw.cv_record, m, i);
    }
    mdr_index_modules(rd);
}

void mdr_read_memory(struct mdr_reader *rd, const struct mdr_span *s)
{
    struct mdr_dump *md = rd->md;
    size_t first, n = mdr_list(rd, s, sizeof(struct md_memory_descriptor), &first), lost = 0;

    md->memory = mdr_calloc(rd, n, sizeof *md->memory);
    if (!md->memory)
        return;
    md->nmemory = n;
    for (size_t i = 0; i < n; i++) {
        struct md_memory_descriptor raw;

        memcpy(&raw, s->p + first + i * sizeof raw, sizeof raw);
        md->memory[i].start = raw.start_of_memory_range;
        md->memory[i].size = raw.memory.data_size;
        md->memory[i].data = mdr_at(rd, raw.memory.rva, raw.memory.data_size);
        if (!md->memory[i].data && raw.memory.data_size)
            lost++;
    }
    if (lost)
        mdr_warn(rd, "stream 5 (MemoryList): the bytes of %zu of %zu ranges pass end of file (size 0x%zx)",
                    lost, n, md->len);
}

void mdr_read_exception(struct mdr_reader *rd, const struct mdr_span *s)
{
    struct mdr_exception *e = &rd->md->exception;
    struct md_exception_stream raw;

    if (s->n < sizeof raw) {
        mdr_warn(rd, "stream 6 (Exception) is 0x%zx bytes, needs 0x%zx; ignored", s->n, sizeof raw);
        return;
    }
    memcpy(&raw, s->p, sizeof raw);
    e->present = 1;
    e->tid = raw.thread_id;
    e->code = raw.exception_code;
    e->flags = raw.exception_flags;
    e->address = raw.exception_address;
    mdr_read_context(rd, &raw.thread_context, &e->ctx, "Exception");
    if (rd->md->nthreads && mdr_find_thread(rd->md, e->tid) < 0)
        mdr_warn(rd, "stream 6 (Exception): thread_id %u is not in the ThreadList", (unsigned)e->tid);
}
