/* go_install.c — at install, learn what the handler needs about the executable's Go runtime.
 *
 * Normal context (libc allowed). Runs from the LD_PRELOAD constructor, before the Go runtime
 * starts: the executable is mapped (pclntab, symbols) but no goroutine exists yet, so everything
 * here is an address or an offset, checked again at crash time.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../go/go_capture.h"

int go_pcln_find_nasync(struct go_pcln *t, char *version, size_t version_len, char *why, size_t why_len);
const char *go_modinfo_nasync(void);

/* The executable's load bias (rep_exe_bias_nasync, go_traceback.c), TLS block size and first writable
 * segment. */
static uint64_t load_bias_nasync(struct rep_go *go)
{
    const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
    unsigned long n = getauxval(AT_PHNUM);
    uint64_t bias = rep_exe_bias_nasync();
    for (unsigned long i = 0; ph && i < n; i++) {
        if (ph[i].p_type == PT_TLS) {
            uint64_t a = ph[i].p_align ? ph[i].p_align : 1;
            go->tls_block = (ph[i].p_memsz + a - 1) / a * a;
        }
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_W) && !go->data_lo) {
            go->data_lo = bias + ph[i].p_vaddr;
            go->data_hi = go->data_lo + ph[i].p_memsz;
        }
    }
    return bias;
}

/* Look up data symbols in the executable's .symtab (absent in stripped binaries). tb[0], tb[1]: the
 * traceback word's runtime.traceback_cache and runtime.traceback_env. */
static void find_symbols_nasync(struct rep_go *go, uint64_t bias, uint64_t tb[2])
{
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
        if (fd >= 0)
            close(fd);
        return;
    }
    const uint8_t *f = mmap(0, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f == MAP_FAILED)
        return;
    size_t size = (size_t)st.st_size;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f;
    if (eh->e_shoff && eh->e_shentsize == sizeof(Elf64_Shdr) && eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) <= size) {
        const Elf64_Shdr *sh = (const Elf64_Shdr *)(f + eh->e_shoff);
        for (unsigned i = 0; i < eh->e_shnum; i++) {
            if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
                continue;
            const Elf64_Shdr *strs = &sh[sh[i].sh_link];
            if (sh[i].sh_offset + sh[i].sh_size > size || strs->sh_offset + strs->sh_size > size)
                continue;
            const Elf64_Sym *sym = (const Elf64_Sym *)(f + sh[i].sh_offset);
            for (size_t k = 0; k < sh[i].sh_size / sizeof *sym; k++) {
                if (sym[k].st_name >= strs->sh_size)
                    continue;
                const char *name = (const char *)f + strs->sh_offset + sym[k].st_name;
                if (!strcmp(name, "runtime.allgs"))
                    go->allgs = bias + sym[k].st_value;
                else if (!strcmp(name, "runtime.allglen"))
                    go->allglen = bias + sym[k].st_value;
                else if (!strcmp(name, "runtime.traceback_cache"))
                    tb[0] = bias + sym[k].st_value;
                else if (!strcmp(name, "runtime.traceback_env"))
                    tb[1] = bias + sym[k].st_value;
            }
        }
    }
    munmap((void *)f, size);
}

/* Entry pcs of functions, by name, from the pclntab (works on stripped binaries): one pass over
 * every function for all the names, since install time is a measured figure. entries[k] stays 0
 * for a name not found; ends[k] is where the next function starts. */
static void func_entries_nasync(const struct go_pcln *t, const char *const *names, uint64_t *entries,
                                uint64_t *ends, size_t n)
{
    size_t left = n;
    for (size_t k = 0; k < n; k++)
        entries[k] = ends[k] = 0;
    for (uint32_t i = 0; i < t->nfunc && left > 0; i++) {
        const uint32_t *e = (const uint32_t *)(uintptr_t)(t->ftab + (uint64_t)i * 8);
        struct go_func f;
        if (go_findfunc(t, t->text + e[0], &f) != 0)
            continue;
        const char *name = go_funcname(t, f.name_off);
        for (size_t k = 0; name && k < n; k++) {
            if (!entries[k] && !strcmp(name, names[k])) {
                entries[k] = f.entry;
                ends[k] = t->text + e[2]; /* ftab has nfunc + 1 entries: the last one is the end of text */
                left--;
                break;
            }
        }
    }
}

/* moduledata.types and etypes, where the type descriptors' names are (go_reason.c). The moduledata
 * was validated by go_pcln_find_nasync and lies in the executable's writable data. */
static void find_types_nasync(struct rep_go *go)
{
    uint64_t m = go->pcln.moduledata, types, etypes;
    if (!m)
        return;
    memcpy(&types, (const void *)(uintptr_t)(m + go->off.md_types), 8);
    memcpy(&etypes, (const void *)(uintptr_t)(m + go->off.md_etypes), 8);
    if (types && etypes > types && etypes - types < (1ull << 32)) {
        go->types = types;
        go->etypes = etypes;
    }
}

void rep_go_install_nasync(struct rep_go *go)
{
    memset(go, 0, sizeof *go);
    if (go_pcln_find_nasync(&go->pcln, go->version, sizeof go->version, go->why, sizeof go->why) < 0)
        return; /* why says "not a Go executable" or what is missing */
    uint64_t bias = load_bias_nasync(go);
    uint64_t tb[2] = {0, 0};
    find_symbols_nasync(go, bias, tb);
    static const char *const names[] = {"runtime.goexit", "runtime.sigpanic", "runtime.asmcgocall",
                                         "runtime.throw.func1", "runtime.fatal.func1", "runtime.parsedebugvars",
                                         "runtime.finishDebugVarsSetup", "runtime.asyncPreempt",
                                         "runtime.debugCallV2"};
    uint64_t entries[sizeof names / sizeof names[0]], ends[sizeof names / sizeof names[0]];
    func_entries_nasync(&go->pcln, names, entries, ends, sizeof names / sizeof names[0]);
    /* `traceback_env = traceback_cache` is in parsedebugvars up to Go 1.24, in finishDebugVarsSetup since 1.25.
     * Found for any Go version with this pclntab layout: the crash stays Go's even where the goroutine
     * walk is not supported. */
    int k = entries[6] ? 6 : 5;
    rep_go_traceback_find_nasync(go, tb[0], tb[1], entries[k], ends[k]);
    if (go_parse_version(go->version, &go->major, &go->minor, &go->patch) < 0 ||
        go_offsets_for_version(go->major, go->minor, go->patch, &go->off) < 0) {
        snprintf(go->why, sizeof go->why, "Go version %s is not supported (1.22 to 1.27 are): native dump only",
                 go->version);
        return;
    }
    go->fn_goexit = entries[0];
    go->fn_sigpanic = entries[1];
    go->fn_asmcgocall = entries[2];
    go->fn_asyncpreempt = entries[7];
    go->fn_debugcall = entries[8];
    go->fn_throw_closure = entries[3];
    go->fn_fatal_closure = entries[4];
    find_types_nasync(go);
    go->build_info = go_modinfo_nasync();
    go->present = 1;
}
