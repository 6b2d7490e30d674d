/* debuginfo.c — file:line and inlined frames from DWARF, for the command-line tool (see debuginfo.h).
 *
 * Normal context; heap and elfutils. Everything found is kept until the process exits (the tool renders a few
 * dumps and ends): module handles, names and file names that libdw hands out point into open debug files,
 * which are never closed, so the strings put into the model stay valid however long the model lives.
 *
 * Bounds against a hostile dump: one lookup per distinct (module, pc), memoized; at most DBG_MAX_INLINE source
 * frames per pc; at most DBG_MAX_MODULES modules looked up; the debuginfod queries of one run share one
 * deadline. The DWARF itself comes from files matched by build-id, not from the dump.
 */
#include "debuginfo.h"
#include "../read/grow.h"
#include "../bundle/bundle_int.h"
#include "../minidump/minidump.h"

#include <dwarf.h>
#include <elfutils/debuginfod.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DBG_MAX_INLINE 16        /* source frames at one pc: a deeper inline chain keeps its innermost ones */
#define DBG_MAX_MODULES 4096
#define DBG_DEFAULT_TIMEOUT_S 20 /* all debuginfod queries of one run */

struct dbg_src {
    const char *function; /* NULL when DWARF names none */
    const char *file;
    int32_t line;
    int inlined;
    int has_entry;
    uint64_t entry;       /* the function's entry (file address), for the physical frame's offset */
};

struct dbg_memo {         /* one looked-up pc */
    uint64_t addr;        /* file address + 1 (0 = empty slot) */
    uint32_t first, n;    /* into srcs[] */
};

struct dbg_cu {           /* a range of a compile unit, for files without .debug_aranges (Go's) */
    uint64_t lo, hi;
    Dwarf_Off off;
};

struct dbg_mod {
    char *build_id;       /* the key: hex as the dump has it */
    int usable;
    Elf *elf;
    Dwarf *dw;
    uint64_t vaddr_minus_off; /* of the first PT_LOAD: file address = pc - base + this */
    const char *from, *path, *url, *note;
    struct dbg_memo *memo;
    size_t memo_cap, memo_n;
    struct dbg_src *srcs;
    size_t nsrcs, srcs_cap;
    struct dbg_cu *cus;
    size_t ncus;
    int cus_built;
};

static struct {
    struct dbg_mod *mods;
    size_t n, cap;
    debuginfod_client *client;
    int client_tried;
    double deadline;      /* CLOCK_MONOTONIC seconds; 0 = not started */
} g;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int env_off(const char *name)
{
    const char *v = getenv(name);
    return v && (strcmp(v, "off") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0);
}

/* ---- finding a module's DWARF ---- */

/* Open fd's DWARF into d; takes fd on success (kept open for the process's life). */
static int open_dwarf(struct dbg_mod *d, int fd, const char *path, const char *from)
{
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    Dwarf *dw = elf ? dwarf_begin_elf(elf, DWARF_C_READ, NULL) : NULL;
    Dwarf_CU *cu = NULL;
    Dwarf_Die cudie;
    size_t phnum = 0;
    int have_load = 0;

    if (dw && dwarf_get_units(dw, NULL, &cu, NULL, NULL, &cudie, NULL) == 0 && elf_getphdrnum(elf, &phnum) == 0) {
        for (size_t i = 0; i < phnum && !have_load; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
                d->vaddr_minus_off = ph.p_vaddr - ph.p_offset;
                have_load = 1;
            }
        }
    }
    if (!have_load) {
        if (dw)
            dwarf_end(dw);
        if (elf)
            elf_end(elf);
        return 0;
    }
    d->elf = elf;
    d->dw = dw;
    d->path = strdup(path);
    d->from = from;
    d->usable = 1;
    return 1;
}

static int progress(debuginfod_client *c, long a, long b)
{
    (void)c, (void)a, (void)b;
    return now_s() > g.deadline; /* non-zero cancels the transfer */
}

/* libdebuginfod (0.188) records a cancelled transfer as "not found" in its cache (an empty file), and would
 * then answer "not found" without asking for cache_miss_s seconds: a run cut short by our deadline must not
 * hide the debug info from the next one. Remove that empty entry, and only an empty one. */
static void forget_negative_entry(const char *build_id)
{
    const char *dir = getenv("DEBUGINFOD_CACHE_PATH"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char base[1024], path[1200];
    struct stat st;

    if (dir && dir[0])
        snprintf(base, sizeof base, "%s", dir);
    else if (xdg && xdg[0])
        snprintf(base, sizeof base, "%s/debuginfod_client", xdg);
    else if (home && home[0])
        snprintf(base, sizeof base, "%s/.cache/debuginfod_client", home);
    else
        return;
    snprintf(path, sizeof path, "%s/%s/debuginfo", base, build_id);
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 && unlink(path) == 0) {
        snprintf(path, sizeof path, "%s/%s", base, build_id);
        rmdir(path);
    }
}

static void from_debuginfod(struct dbg_mod *d, const char **why)
{
    const char *urls = getenv("DEBUGINFOD_URLS");
    char *path = NULL;

    if (!urls || !urls[0]) {
        *why = "DEBUGINFOD_URLS is not set";
        return;
    }
    if (env_off("LASTGASP_DEBUGINFOD")) {
        *why = "debuginfod is off (LASTGASP_DEBUGINFOD=off)";
        return;
    }
    if (!g.client_tried) {
        const char *t = getenv("LASTGASP_DEBUGINFOD_TIMEOUT");
        double secs = t && atof(t) > 0 ? atof(t) : DBG_DEFAULT_TIMEOUT_S;
        g.client_tried = 1;
        g.deadline = now_s() + secs;
        /* libdebuginfod's own per-server stall timeout (90 s by default) must not outlast ours */
        setenv("DEBUGINFOD_TIMEOUT", t && atof(t) > 0 ? t : "20", 0);
        g.client = debuginfod_begin();
        if (g.client)
            debuginfod_set_progressfn(g.client, progress);
    }
    if (!g.client) {
        *why = "debuginfod client could not start";
        return;
    }
    if (now_s() > g.deadline) {
        *why = "debuginfod: out of time for this run (LASTGASP_DEBUGINFOD_TIMEOUT)";
        return;
    }
    int fd = debuginfod_find_debuginfo(g.client, (const unsigned char *)d->build_id, 0, &path);
    if (fd < 0) {
        /* a transfer our deadline cancelled comes back as -ENOENT too: the clock tells them apart */
        int late = now_s() >= g.deadline;
        *why = late ? "debuginfod: timed out (LASTGASP_DEBUGINFOD_TIMEOUT)"
               : fd == -ENOENT ? "debuginfod: not found" : "debuginfod: query failed";
        if (late)
            forget_negative_entry(d->build_id);
        if (!late && fd != -ENOENT) {
            static char buf[160];
            snprintf(buf, sizeof buf, "%s (%s)", *why, strerror(-fd));
            *why = strdup(buf);
        }
        return;
    }
    const char *url = debuginfod_get_url(g.client);
    if (open_dwarf(d, fd, path ? path : "(debuginfod)", "debuginfod")) {
        /* no url: the answer came from libdebuginfod's cache, without a query */
        d->url = url ? strdup(url) : strdup(urls);
        if (!url)
            d->note = "from libdebuginfod's cache";
    } else {
        close(fd);
        *why = "debuginfod: the file it served has no usable DWARF";
    }
    free(path);
}

/* The DWARF for module m, looked up once per build-id and run. */
static struct dbg_mod *module_dwarf(struct mdr_module *m)
{
    const char *why = NULL;
    char found[160];

    if (!m->build_id) {
        m->debug_from = "none";
        m->debug_note = "the dump has no build-id for this module";
        return NULL;
    }
    struct dbg_mod *d = NULL;
    for (size_t i = 0; i < g.n && !d; i++)
        if (strcmp(g.mods[i].build_id, m->build_id) == 0)
            d = &g.mods[i];
    if (d)
        goto found;
    if (g.n == DBG_MAX_MODULES)
        return NULL;
    if (mdr_grow((void **)&g.mods, &g.cap, g.n + 1, sizeof *g.mods, 16) < 0)
        return NULL;
    d = &g.mods[g.n];
    memset(d, 0, sizeof *d);
    if (!(d->build_id = strdup(m->build_id)))
        return NULL;
    g.n++;
    /* 1. the module's own file, if it is still the one that ran */
    int fd = m->path && m->path[0] == '/' ? open(m->path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        if (bundle_elf_build_id(fd, found, sizeof found) != 0 || strcmp(found, m->build_id) != 0)
            why = "the file on disk is not the one that ran";
        else if (open_dwarf(d, fd, m->path, "file"))
            fd = -1;
        else
            why = "the file on disk has no DWARF";
        if (fd >= 0)
            close(fd);
    } else {
        why = m->path && m->path[0] == '/' ? "the file is gone" : "not a file";
    }
    /* 2. the distribution's debug file, by build-id */
    if (!d->usable && strlen(m->build_id) > 2) {
        char path[512];
        snprintf(path, sizeof path, "/usr/lib/debug/.build-id/%.2s/%s.debug", m->build_id, m->build_id + 2);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && !open_dwarf(d, fd, path, "debug file"))
            close(fd);
    }
    /* 3. debuginfod */
    if (!d->usable) {
        const char *local = why;
        from_debuginfod(d, &why);
        if (!d->usable && local) {
            char buf[300];
            snprintf(buf, sizeof buf, "%s; %s", local, why);
            why = strdup(buf);
        }
    }
    if (!d->usable) {
        d->from = "none";
        d->note = why;
    }
found:
    m->debug_from = d->from;
    m->debug_path = d->path;
    m->debug_url = d->url;
    m->debug_note = d->note;
    return d->usable ? d : NULL;
}

/* ---- one pc ---- */

static int cu_cmp(const void *a, const void *b)
{
    const struct dbg_cu *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Files without .debug_aranges (Go writes none): an index of every unit's address ranges, built once. */
static void build_cu_index(struct dbg_mod *d)
{
    Dwarf_CU *cu = NULL;
    Dwarf_Die cudie;
    size_t cap = 0;

    d->cus_built = 1;
    while (dwarf_get_units(d->dw, cu, &cu, NULL, NULL, &cudie, NULL) == 0) {
        Dwarf_Addr base, lo, hi;
        ptrdiff_t off = 0;
        while ((off = dwarf_ranges(&cudie, off, &base, &lo, &hi)) > 0) {
            if (mdr_grow((void **)&d->cus, &cap, d->ncus + 1, sizeof *d->cus, 64) < 0)
                return;
            d->cus[d->ncus++] = (struct dbg_cu){lo, hi, dwarf_dieoffset(&cudie)};
        }
    }
    if (d->ncus)
        qsort(d->cus, d->ncus, sizeof *d->cus, cu_cmp);
}

static int cu_at(struct dbg_mod *d, uint64_t addr, Dwarf_Die *cudie)
{
    if (dwarf_addrdie(d->dw, addr, cudie))
        return 1;
    if (!d->cus_built)
        build_cu_index(d);
    size_t lo = 0, hi = d->ncus;
    while (lo < hi) { /* the last range starting at or before addr, then back over overlapping ones */
        size_t mid = lo + (hi - lo) / 2;
        if (d->cus[mid].lo <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i > 0 && lo - i < 64; i--)
        if (addr >= d->cus[i - 1].lo && addr < d->cus[i - 1].hi)
            return dwarf_offdie(d->dw, d->cus[i - 1].off, cudie) != NULL;
    return 0;
}

static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute a;
    return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
}

/* Source frames at file address addr, innermost first: each inlined function, then the function the code
 * physically belongs to. Returns how many (0: no line information). */
static size_t lookup(struct dbg_mod *d, uint64_t addr, struct dbg_src *out, size_t max)
{
    Dwarf_Die cu, *scopes = NULL;
    Dwarf_Files *files = NULL;
    size_t nfiles = 0, n = 0;
    int line = 0;

    if (!cu_at(d, addr, &cu))
        return 0;
    Dwarf_Line *ln = dwarf_getsrc_die(&cu, addr);
    const char *file = ln ? dwarf_linesrc(ln, NULL, NULL) : NULL;
    if (ln)
        dwarf_lineno(ln, &line);
    if (dwarf_getsrcfiles(&cu, &files, &nfiles) != 0)
        files = NULL;
    /* dwarf_getscopes follows an inlined instance up its abstract origin; the chain of callers is the chain
     * of DIEs holding the innermost scope (dwarf_getscopes_die), as eu-addr2line -i walks it. */
    int ns = dwarf_getscopes(&cu, addr, &scopes);
    if (ns > 0) {
        Dwarf_Die inner = scopes[0], *chain = NULL;
        free(scopes);
        scopes = NULL;
        ns = dwarf_getscopes_die(&inner, &chain);
        scopes = chain;
    }
    for (int i = 0; i < ns && n < max; i++) {
        int tag = dwarf_tag(&scopes[i]);
        Dwarf_Attribute a;
        Dwarf_Word w;
        Dwarf_Addr entry;

        if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
            continue;
        out[n] = (struct dbg_src){.function = die_name(&scopes[i]), .file = file, .line = line,
                                  .inlined = tag == DW_TAG_inlined_subroutine};
        if (tag == DW_TAG_subprogram && dwarf_entrypc(&scopes[i], &entry) == 0) {
            out[n].has_entry = 1;
            out[n].entry = entry;
        }
        n++;
        if (tag == DW_TAG_subprogram)
            break;
        /* the caller's line is where this instance was inlined */
        file = NULL;
        line = 0;
        if (files && dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &a), &w) == 0 && w < nfiles)
            file = dwarf_filesrc(files, w, NULL, NULL);
        if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &a), &w) == 0)
            line = (int)w;
    }
    free(scopes);
    if (n == 0 && file) {
        out[0] = (struct dbg_src){.file = file, .line = line};
        n = 1;
    }
    if (n && !out[n - 1].inlined)
        return n;
    /* A chain cut at max, or without its subprogram: the last one is still the physical frame. */
    if (n)
        out[n - 1].inlined = 0;
    return n;
}

/* lookup(), memoized per module: a dump repeats pcs (every parked thread sits in the same futex call). */
static size_t lookup_memo(struct dbg_mod *d, uint64_t addr, const struct dbg_src **out)
{
    if (d->memo_n * 2 >= d->memo_cap) {
        size_t cap = d->memo_cap ? 2 * d->memo_cap : 256;
        struct dbg_memo *m = calloc(cap, sizeof *m);
        if (!m)
            return 0;
        for (size_t i = 0; i < d->memo_cap; i++) {
            if (!d->memo[i].addr)
                continue;
            size_t h = (size_t)(d->memo[i].addr * 0x9e3779b97f4a7c15ull) & (cap - 1);
            while (m[h].addr)
                h = (h + 1) & (cap - 1);
            m[h] = d->memo[i];
        }
        free(d->memo);
        d->memo = m;
        d->memo_cap = cap;
    }
    size_t h = (size_t)((addr + 1) * 0x9e3779b97f4a7c15ull) & (d->memo_cap - 1);
    while (d->memo[h].addr && d->memo[h].addr != addr + 1)
        h = (h + 1) & (d->memo_cap - 1);
    if (!d->memo[h].addr) {
        struct dbg_src tmp[DBG_MAX_INLINE];
        size_t n = lookup(d, addr, tmp, DBG_MAX_INLINE);
        if (mdr_grow((void **)&d->srcs, &d->srcs_cap, d->nsrcs + n, sizeof *d->srcs, 256) < 0)
            return 0;
        memcpy(d->srcs + d->nsrcs, tmp, n * sizeof *tmp);
        d->memo[h] = (struct dbg_memo){addr + 1, (uint32_t)d->nsrcs, (uint32_t)n};
        d->nsrcs += n;
        d->memo_n++;
    }
    *out = d->srcs + d->memo[h].first;
    return d->memo[h].n;
}

/* Source frames for pc in module m. exact: pc is where execution stopped (innermost frame, or a signal
 * frame), else a return address, whose call is the instruction before. */
static size_t frame_sources(struct mdr_module *m, uint64_t pc, int exact, const struct dbg_src **out,
                            uint64_t *addr)
{
    struct dbg_mod *d = m ? module_dwarf(m) : NULL;

    if (!d || pc < m->base)
        return 0;
    *addr = pc - m->base + d->vaddr_minus_off - (exact ? 0 : 1);
    return lookup_memo(d, *addr, out);
}

/* ---- the model ---- */

static struct mdr_module *module_of(struct mdr_dump *md, uint32_t index, uint64_t pc)
{
    if (index < md->nmodules)
        return &md->modules[index];
    const struct mdr_module *m = mdr_module_at(md, pc);
    return m ? &md->modules[m - md->modules] : NULL;
}

static int apply_threads(struct mdr_dump *md)
{
    struct mdr_lg_info *lg = &md->lg;
    struct mdr_lg_frame *out = NULL;
    size_t n = 0, cap = 0;
    uint32_t *first = calloc(lg->nthreads + 1, sizeof *first), *count = calloc(lg->nthreads + 1, sizeof *count);

    if (!first || !count)
        goto nomem;
    for (size_t t = 0; t < lg->nthreads; t++) {
        const struct mdr_lg_thread *lt = &lg->threads[t];
        first[t] = (uint32_t)n;
        for (uint32_t i = 0; i < lt->frame_count && (uint64_t)lt->first_frame + i < lg->nframes; i++) {
            const struct mdr_lg_frame *lf = &lg->frames[lt->first_frame + i];
            uint64_t where = i > 0 && lf->pc > 0 ? lf->pc - 1 : lf->pc, addr = 0;
            const struct dbg_src *s = NULL;
            size_t ns = frame_sources(module_of(md, lf->module_index, where), lf->pc,
                                      i == 0 || lf->trust == LG_TRUST_CONTEXT, &s, &addr);

            if (mdr_grow((void **)&out, &cap, n + (ns ? ns : 1), sizeof *out, 64) != 0)
                goto nomem;
            for (size_t k = 0; k + 1 < ns; k++) {
                out[n] = *lf;
                out[n].symbol = s[k].function;
                out[n].symbol_delta = 0;
                out[n].file = s[k].file;
                out[n].line = s[k].line;
                out[n].inlined = 1;
                n++;
            }
            out[n] = *lf;
            if (ns) {
                const struct dbg_src *p = &s[ns - 1];
                out[n].file = p->file;
                out[n].line = p->line;
                if (!lf->symbol && p->function && p->has_entry) { /* DWARF names what the dump could not */
                    out[n].symbol = p->function;
                    out[n].symbol_delta = (uint32_t)(addr + (i == 0 || lf->trust == LG_TRUST_CONTEXT ? 0 : 1) -
                                                     p->entry);
                }
            }
            n++;
        }
        count[t] = (uint32_t)n - first[t];
    }
    for (size_t t = 0; t < lg->nthreads; t++) {
        lg->threads[t].first_frame = first[t];
        lg->threads[t].frame_count = count[t];
    }
    free(lg->frames);
    lg->frames = out;
    lg->nframes = n;
    free(first);
    free(count);
    return 0;
nomem:
    free(out);
    free(first);
    free(count);
    return -1;
}

/* The C frames of goroutines (a cgo call). Goroutines share frame records, so the new array is built once in
 * the old order and every goroutine's range is mapped through where each old frame went. */
static int apply_goroutines(struct mdr_dump *md)
{
    struct mdr_go_info *go = &md->go;
    struct mdr_go_frame *out = NULL;
    size_t n = 0, cap = 0;
    size_t *at = calloc(go->nframes + 1, sizeof *at);
    unsigned char *innermost = calloc(go->nframes + 1, 1);

    if (!at || !innermost)
        goto nomem;
    for (size_t i = 0; i < go->ngoroutines; i++)
        if (go->goroutines[i].nframes)
            innermost[go->goroutines[i].frames - go->frames] = 1;
    for (size_t j = 0; j < go->nframes; j++) {
        const struct mdr_go_frame *f = &go->frames[j];
        const struct dbg_src *s = NULL;
        size_t ns = 0;
        uint64_t addr = 0;

        at[j] = n;
        if (f->native && !f->file && !f->elided)
            ns = frame_sources(module_of(md, UINT32_MAX, innermost[j] ? f->pc : f->pc - 1), f->pc, innermost[j],
                               &s, &addr);
        if (mdr_grow((void **)&out, &cap, n + (ns ? ns : 1), sizeof *out, 64) != 0)
            goto nomem;
        for (size_t k = 0; k + 1 < ns; k++) {
            out[n] = *f;
            out[n].function = s[k].function;
            out[n].file = s[k].file;
            out[n].line = s[k].line;
            out[n].inlined = 1;
            n++;
        }
        out[n] = *f;
        if (ns) {
            out[n].file = s[ns - 1].file;
            out[n].line = s[ns - 1].line;
            if (!f->function)
                out[n].function = s[ns - 1].function;
        }
        n++;
    }
    at[go->nframes] = n;
    for (size_t i = 0; i < go->ngoroutines; i++) {
        struct mdr_go_goroutine *gr = &go->goroutines[i];
        if (!gr->nframes)
            continue;
        size_t s0 = (size_t)(gr->frames - go->frames), e0 = s0 + gr->nframes;
        size_t len = at[e0] - at[s0];
        gr->frames = out + at[s0];
        gr->nframes = len < MDR_GO_MAX_GOROUTINE_FRAMES ? len : MDR_GO_MAX_GOROUTINE_FRAMES;
    }
    free(go->frames);
    go->frames = out;
    go->nframes = n;
    free(at);
    free(innermost);
    return 0;
nomem:
    free(out);
    free(at);
    free(innermost);
    return -1;
}

int dbg_check_env(const char **why)
{
    (void)why;
    return 0;
}

int dbg_apply(struct mdr_dump *md)
{
    static int elf_ready;

    if (env_off("LASTGASP_DEBUGINFO"))
        return 0;
    if (!elf_ready) {
        if (elf_version(EV_CURRENT) == EV_NONE)
            return 0;
        elf_ready = 1;
    }
    if (md->lg.present && apply_threads(md) != 0)
        return -1;
    if (md->go.present && md->go.nframes && apply_goroutines(md) != 0)
        return -1;
    return 0;
}
