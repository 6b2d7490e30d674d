/* symbols.c — name a native pc from the module's ELF symbol table, in-process.
 *
 * RULES (compromised context): async-signal-safe; raw syscalls only (open, fstat, mmap, munmap).
 * Runs inside rep_guard_run: the file is mapped from disk, and a file truncated under us raises
 * SIGBUS on access, which the guard turns into "no name". Every offset read from the file is
 * checked against its size; loops are bounded by section and symbol counts.
 *
 * Why not libunwind's unw_get_proc_name: it allocates (libunwind 1.6 _Ux86_64_get_elf_image calls
 * malloc; the malloc tripwire in tests/crash caught it). We map the file ourselves and read
 * .symtab (or .dynsym when stripped). A file on disk whose build-id differs from the loaded one
 * (replaced by a deploy after the process started) is not used: its names would be wrong.
 */
#include "rep.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

struct rep_symfile {
    int state;            /* 0 not tried, 1 ready, -1 unusable */
    const uint8_t *map;
    uint64_t size;
    const Elf64_Sym *syms;
    uint64_t nsyms;
    const char *strs;
    uint64_t strsz;
    uint64_t bias;        /* runtime address = st_value + bias */
};

static struct rep_symfile g_files[REP_MAX_MODULES]; /* reporting thread only; reset per report */
static int g_files_used; /* entries [0, g_files_used) may hold a file: the reset touches no page beyond */

/* Answers already found, by address: a scan reads every symbol of the module (3000 in libc, far
 * more in a big executable), and the threads of a pool are parked at the same few pcs, so without
 * this a report spent most of its time rescanning one table for the same answer. Direct-mapped;
 * a collision only costs a scan. Names point into the mapped files, which stay mapped until
 * rep_symbols_reset. Reporting thread only. An entry counts only if it holds this report's
 * generation: the reset bumps g_sym_gen instead of clearing 24 KiB, whose pages a report that never
 * used them would otherwise fault in just to zero them. */
#define NAME_CACHE 1024
static uint32_t g_sym_gen = 1;
static struct {
    uint32_t gen;
    uint64_t look;
    uint64_t start;
    const char *name;    /* 0: no name (also worth remembering) */
} g_names[NAME_CACHE];

static int in_file(const struct rep_symfile *f, uint64_t off, uint64_t len)
{
    return off <= f->size && len <= f->size - off;
}

static int build_id_matches(const struct rep_symfile *f, const Elf64_Ehdr *eh, const struct mdw_module *m)
{
    if (!m->build_id_len)
        return 1; /* nothing to compare with */
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(f->map + eh->e_shoff);
    for (uint32_t i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_NOTE || !in_file(f, sh[i].sh_offset, sh[i].sh_size))
            continue;
        const uint8_t *id;
        uint32_t n;
        if (md_build_id_note(f->map + sh[i].sh_offset, sh[i].sh_size, &id, &n))
            return n == m->build_id_len && ss_memcmp(id, m->build_id, m->build_id_len) == 0;
    }
    return 0;
}

static void open_symfile(struct rep_symfile *f, const struct mdw_module *m)
{
    char path[1024];
    f->state = -1;
    if (m->path_len == 0 || m->path[0] != '/' || m->path_len >= sizeof path)
        return;
    ss_memcpy(path, m->path, m->path_len);
    path[m->path_len] = 0;
    int fd = ss_openat(AT_FDCWD, path, O_RDONLY, 0);
    if (fd < 0)
        return;
    struct stat st;
    long r = ss_sys(SYS_fstat, fd, (long)&st, 0, 0, 0, 0);
    void *map = r == 0 && st.st_size >= (off_t)sizeof(Elf64_Ehdr)
                    ? ss_mmap(0, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)
                    : (void *)-1;
    ss_close(fd);
    if ((uintptr_t)map > (uintptr_t)-4096)
        return;
    f->map = map;
    f->size = (uint64_t)st.st_size;
    const Elf64_Ehdr *eh = map;
    if (ss_memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shentsize != sizeof(Elf64_Shdr) || !in_file(f, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)) ||
        !in_file(f, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)) || !build_id_matches(f, eh, m))
        goto fail;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)(f->map + eh->e_phoff);
    int have_bias = 0;
    for (uint32_t i = 0; i < eh->e_phnum && !have_bias; i++) {
        if (ph[i].p_type == PT_LOAD) {
            f->bias = m->base - (ph[i].p_vaddr - ph[i].p_offset);
            have_bias = 1;
        }
    }
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(f->map + eh->e_shoff);
    const Elf64_Shdr *best = 0;
    for (uint32_t i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type == SHT_SYMTAB || (sh[i].sh_type == SHT_DYNSYM && !best))
            best = &sh[i];
    }
    if (!have_bias || !best || best->sh_link >= eh->e_shnum || best->sh_entsize != sizeof(Elf64_Sym) ||
        !in_file(f, best->sh_offset, best->sh_size))
        goto fail;
    const Elf64_Shdr *strsh = &sh[best->sh_link];
    if (!in_file(f, strsh->sh_offset, strsh->sh_size))
        goto fail;
    f->syms = (const Elf64_Sym *)(f->map + best->sh_offset);
    f->nsyms = best->sh_size / sizeof(Elf64_Sym);
    f->strs = (const char *)(f->map + strsh->sh_offset);
    f->strsz = strsh->sh_size;
    f->state = 1;
    return;
fail:
    ss_munmap((void *)f->map, f->size);
    f->map = 0;
}

/* Of two symbols at one address prefer the one with a size, then the global one, then the name without
 * a compiler suffix ("f.localalias", "f.cold"): that is the name in the source. */
static int better_alias(const struct rep_symfile *f, const Elf64_Sym *a, const Elf64_Sym *b)
{
    if (!!a->st_size != !!b->st_size)
        return a->st_size != 0;
    int ga = ELF64_ST_BIND(a->st_info) != STB_LOCAL, gb = ELF64_ST_BIND(b->st_info) != STB_LOCAL;
    if (ga != gb)
        return ga;
    int da = a->st_name < f->strsz && ss_memchr(f->strs + a->st_name, '.', ss_strnlen(f->strs + a->st_name, f->strsz - a->st_name)) != 0;
    int db = b->st_name < f->strsz && ss_memchr(f->strs + b->st_name, '.', ss_strnlen(f->strs + b->st_name, f->strsz - b->st_name)) != 0;
    return db && !da;
}

static const char *symbolize_scan(const struct mdw_module *mods, int mi, uint64_t pc, uint64_t *start);

/* Handler path, reporting thread, inside a guard. Finds the function containing pc in module
 * mods[mi]; returns its name (NUL-terminated inside the mapped file) and sets *start, or 0. */
const char *rep_symbolize(const struct mdw_module *mods, int mi, uint64_t pc, uint64_t *start)
{
    if (mi < 0 || mi >= REP_MAX_MODULES)
        return 0;
    uint32_t slot = (uint32_t)((pc * 0x9e3779b97f4a7c15ull) >> 54) % NAME_CACHE;
    if (g_names[slot].gen == g_sym_gen && g_names[slot].look == pc) {
        *start = g_names[slot].start;
        return g_names[slot].name;
    }
    const char *name = symbolize_scan(mods, mi, pc, start);
    g_names[slot].gen = g_sym_gen;
    g_names[slot].look = pc;
    g_names[slot].start = name ? *start : 0;
    g_names[slot].name = name;
    return name;
}

/* The lookup itself: one pass over the module's function symbols. */
static const char *symbolize_scan(const struct mdw_module *mods, int mi, uint64_t pc, uint64_t *start)
{
    struct rep_symfile *f = &g_files[mi];
    if (mi >= g_files_used)
        g_files_used = mi + 1;
    if (f->state == 0)
        open_symfile(f, &mods[mi]);
    if (f->state != 1)
        return 0;
    uint64_t addr = pc - f->bias;
    const Elf64_Sym *best = 0;
    for (uint64_t i = 0; i < f->nsyms; i++) {
        const Elf64_Sym *s = &f->syms[i];
        if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF || s->st_value > addr)
            continue;
        if (s->st_size ? addr - s->st_value >= s->st_size : 0)
            continue;
        if (!best || s->st_value > best->st_value || (s->st_value == best->st_value && better_alias(f, s, best)))
            best = s;
    }
    if (!best || best->st_name >= f->strsz || !ss_memchr(f->strs + best->st_name, 0, f->strsz - best->st_name))
        return 0;
    *start = best->st_value + f->bias;
    return f->strs + best->st_name;
}

/* Handler path, reporting thread: forget the files mapped by this report. */
void rep_symbols_reset(void)
{
    for (int i = 0; i < g_files_used && i < REP_MAX_MODULES; i++) {
        if (g_files[i].map)
            ss_munmap((void *)g_files[i].map, g_files[i].size);
        ss_memset(&g_files[i], 0, sizeof g_files[i]);
    }
    g_files_used = 0;
    g_sym_gen++;
}
