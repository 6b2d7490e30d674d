/* modules.c — loaded modules from /proc/self/maps, with GNU build-ids read from memory.
 *
 * RULES (compromised context): async-signal-safe; ELF headers and notes are read only through
 * ss_memread, since a module may be half unmapped; every loop bounded (phdrs, notes, modules).
 * dl_iterate_phdr is not used: it takes the loader's lock.
 */
#include "rep.h"

#include <elf.h>

#define MAX_PHDRS 64
#define MAX_NOTE_BYTES 4096
#define MAX_NOTES 8 /* note segments looked at per module (binaries have one to three) */

/* Find NT_GNU_BUILD_ID in the module mapped at base. Returns the id's length, 0 if none.
 * One read for all program headers and one per note segment: each read is a syscall, and one per
 * header made this a tenth of a small report. */
static uint32_t read_build_id(uint64_t base, uint8_t *out, uint32_t cap)
{
    Elf64_Ehdr eh;
    if (ss_memread(&eh, base, sizeof eh) < 0 || ss_memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr))
        return 0;
    uint32_t nph = eh.e_phnum < MAX_PHDRS ? eh.e_phnum : MAX_PHDRS;
    /* One buffer, for the headers and then for each note segment: the stack budget is small. */
    _Static_assert(MAX_PHDRS * sizeof(Elf64_Phdr) <= MAX_NOTE_BYTES, "the headers fit the note buffer");
    uint8_t buf[MAX_NOTE_BYTES];
    if (nph == 0 || ss_memread(buf, base + eh.e_phoff, nph * sizeof(Elf64_Phdr)) < 0)
        return 0;
    uint64_t bias = 0, note_at[MAX_NOTES], note_size[MAX_NOTES];
    uint32_t nnotes = 0;
    int have_bias = 0;
    for (uint32_t i = 0; i < nph; i++) {
        Elf64_Phdr ph;
        ss_memcpy(&ph, buf + i * sizeof ph, sizeof ph);
        if (ph.p_type == PT_LOAD && !have_bias) {
            bias = base - (ph.p_vaddr - ph.p_offset); /* the mapping at base has file offset 0 */
            have_bias = 1;
        }
        if (ph.p_type == PT_NOTE && nnotes < MAX_NOTES) {
            note_at[nnotes] = ph.p_vaddr;
            note_size[nnotes++] = ph.p_memsz < sizeof buf ? ph.p_memsz : sizeof buf;
        }
    }
    if (!have_bias)
        return 0;
    for (uint32_t k = 0; k < nnotes; k++) {
        uint64_t size = note_size[k];
        if (ss_memread(buf, bias + note_at[k], size) < 0)
            continue;
        for (uint64_t off = 0; off + sizeof(Elf64_Nhdr) <= size;) {
            Elf64_Nhdr nh;
            ss_memcpy(&nh, buf + off, sizeof nh);
            uint64_t name_at = off + sizeof nh, desc_at = name_at + ((nh.n_namesz + 3u) & ~3u);
            uint64_t next = desc_at + ((nh.n_descsz + 3u) & ~3u);
            if (next > size || next <= off)
                break;
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && ss_memcmp(buf + name_at, "GNU", 4) == 0 &&
                nh.n_descsz > 0) {
                uint32_t n = nh.n_descsz < cap ? nh.n_descsz : cap;
                ss_memcpy(out, buf + desc_at, n);
                return n;
            }
            off = next;
        }
    }
    return 0;
}

static int same_file(const struct ss_mapping *a, const struct ss_mapping *b)
{
    return a->inode == b->inode && a->path_len == b->path_len && ss_memcmp(a->path, b->path, a->path_len) == 0;
}

static int is_module_path(const struct ss_mapping *m)
{
    if (m->path_len > 0 && m->path[0] == '/')
        return 1;
    return m->path_len == 6 && ss_memcmp(m->path, "[vdso]", 6) == 0;
}

/* A module starts at a file's mapping with offset 0 and extends over the following mappings of
 * the same file (and the anonymous .bss right after them). Main executable (holding AT_PHDR)
 * first, as minidump readers expect. */
uint32_t rep_collect_modules(const struct ss_mapping *maps, uint32_t nmaps, struct fmt_module *out, uint32_t max)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < nmaps && n < max; i++) {
        const struct ss_mapping *m = &maps[i];
        if (m->offset != 0 || !is_module_path(m))
            continue;
        struct fmt_module *mod = &out[n];
        mod->base = m->start;
        uint64_t end = m->end;
        for (uint32_t j = i + 1; j < nmaps && j < i + 64; j++) {
            if (same_file(&maps[j], m) && maps[j].offset != 0)
                end = maps[j].end;
            else if (maps[j].offset == 0 && is_module_path(&maps[j]))
                break;
        }
        mod->size = end - m->start;
        mod->path = m->path;
        mod->path_len = m->path_len;
        if (m->path_len == 6 && ss_memcmp(m->path, "[vdso]", 6) == 0) {
            mod->path = "linux-gate.so";
            mod->path_len = 13;
        }
        mod->build_id_len = read_build_id(m->start, mod->build_id, sizeof mod->build_id);
        n++;
    }
    for (uint32_t i = 1; i < n; i++) {
        if (rep_g.at_phdr >= out[i].base && rep_g.at_phdr < out[i].base + out[i].size) {
            struct fmt_module main_mod = out[i];
            for (uint32_t k = i; k > 0; k--)
                out[k] = out[k - 1];
            out[0] = main_mod;
            break;
        }
    }
    return n;
}

int rep_module_index(const struct fmt_module *mods, uint32_t n, uint64_t pc)
{
    for (uint32_t i = 0; i < n; i++)
        if (pc >= mods[i].base && pc - mods[i].base < mods[i].size)
            return (int)i;
    return -1;
}
