/* modules.c — loaded modules from /proc/self/maps, each with the identity Breakpad, dump_syms and
 * debuginfod use: the GNU build-id, else Breakpad's hash of .text.
 *
 * RULES (compromised context): async-signal-safe; ELF headers, notes and .text are read only through
 * ss_memread, since a module may be half unmapped; every loop bounded (phdrs, section headers, notes,
 * modules); fixed buffers on the stack (under 10 KiB). dl_iterate_phdr is not used: it takes the loader's
 * lock. Section headers are read from the mapped image when a PT_LOAD covers them (Go's internal linker
 * writes them in the first page); otherwise, and only for a module with no build-id in a PT_NOTE, from the
 * file with pread (no mmap: a file truncated under us cannot fault), after checking that its ELF and program
 * headers are the mapped ones. Doing it at install instead would miss every library loaded later, and the
 * handler already opens module files to name frames (symbols.c).
 */
#include "rep.h"

#include <elf.h>
#include <fcntl.h>

#define MAX_PHDRS 64
#define MAX_LOADS 16
#define MAX_NOTE_BYTES 4096
#define MAX_SHDRS 1024      /* section headers looked at per module */
#define SHDR_CHUNK 8        /* read per ss_memread / pread */
#define TEXT_HASH_BYTES 4096 /* Breakpad's fallback id hashes the first page of .text */
#define MD_GUID_SIZE 16

/* One module's ELF image as mapped, and (only when needed) its file. */
struct elf_image {
    Elf64_Ehdr eh;
    uint64_t base, bias;
    struct { uint64_t off, filesz, vaddr; } loads[MAX_LOADS];
    uint32_t nloads, nph;
    const struct mdw_module *mod;
    int fd;                 /* -1 not opened yet, -2 unusable, else open on mod->path */
};

static int parse_notes(const uint8_t *notes, uint64_t size, uint8_t *out, uint32_t cap, uint32_t *len)
{
    const uint8_t *id;
    uint32_t n;
    if (!md_build_id_note(notes, size, &id, &n))
        return 0;
    n = n < cap ? n : cap;
    ss_memcpy(out, id, n);
    *len = n;
    return 1;
}

/* Read the ELF header and program headers of the module mapped at base (its offset-0 mapping). */
static int image_open(struct elf_image *im, uint64_t base, const struct mdw_module *mod)
{
    im->base = base;
    im->mod = mod;
    im->fd = -1;
    im->nloads = 0;
    Elf64_Ehdr *eh = &im->eh;
    if (ss_memread(eh, base, sizeof *eh) < 0 || ss_memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
        eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_phentsize != sizeof(Elf64_Phdr))
        return 0;
    im->nph = eh->e_phnum < MAX_PHDRS ? eh->e_phnum : MAX_PHDRS;
    int have_bias = 0;
    for (uint32_t i = 0; i < im->nph; i++) {
        Elf64_Phdr ph;
        if (ss_memread(&ph, base + eh->e_phoff + i * sizeof ph, sizeof ph) < 0)
            return 0;
        if (ph.p_type != PT_LOAD)
            continue;
        if (!have_bias) {
            im->bias = base - (ph.p_vaddr - ph.p_offset); /* the mapping at base has file offset 0 */
            have_bias = 1;
        }
        if (im->nloads < MAX_LOADS) {
            im->loads[im->nloads].off = ph.p_offset;
            im->loads[im->nloads].filesz = ph.p_filesz;
            im->loads[im->nloads].vaddr = ph.p_vaddr;
            im->nloads++;
        }
    }
    return have_bias;
}

/* GNU build-id from the PT_NOTE segments, read from memory. */
static uint32_t build_id_from_segments(const struct elf_image *im, uint8_t *out, uint32_t cap)
{
    for (uint32_t i = 0; i < im->nph; i++) {
        Elf64_Phdr ph;
        if (ss_memread(&ph, im->base + im->eh.e_phoff + i * sizeof ph, sizeof ph) < 0)
            return 0;
        if (ph.p_type != PT_NOTE)
            continue;
        uint8_t notes[MAX_NOTE_BYTES];
        uint64_t size = ph.p_memsz < sizeof notes ? ph.p_memsz : sizeof notes;
        uint32_t n;
        if (ss_memread(notes, im->bias + ph.p_vaddr, size) >= 0 && parse_notes(notes, size, out, cap, &n))
            return n;
    }
    return 0;
}

/* The file is used only if its ELF header and program headers are the ones mapped: a file replaced
 * since the process loaded it is not read. */
static int file_matches(const struct elf_image *im, int fd)
{
    Elf64_Ehdr eh;
    if (ss_pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || ss_memcmp(&eh, &im->eh, sizeof eh) != 0)
        return 0;
    for (uint32_t i = 0; i < im->nph; i++) {
        Elf64_Phdr a, b;
        uint64_t at = eh.e_phoff + i * sizeof a;
        if (ss_pread(fd, &a, sizeof a, at) != (ssize_t)sizeof a || ss_memread(&b, im->base + at, sizeof b) < 0 ||
            ss_memcmp(&a, &b, sizeof a) != 0)
            return 0;
    }
    return 1;
}

/* Read n bytes at file offset off: from the mapped image when a PT_LOAD maps them (Go's internal linker
 * puts the section headers in the first page), else from the file on disk, opened once per module. */
static int image_read(struct elf_image *im, void *buf, uint64_t n, uint64_t off)
{
    for (uint32_t i = 0; i < im->nloads; i++) {
        if (off >= im->loads[i].off && off - im->loads[i].off <= im->loads[i].filesz &&
            n <= im->loads[i].filesz - (off - im->loads[i].off))
            return ss_memread(buf, im->bias + im->loads[i].vaddr + (off - im->loads[i].off), n) >= 0;
    }
    if (im->fd == -1) {
        char path[1024];
        const struct mdw_module *m = im->mod;
        im->fd = -2;
        if (m->path_len == 0 || m->path[0] != '/' || m->path_len >= sizeof path)
            return 0;
        ss_memcpy(path, m->path, m->path_len);
        path[m->path_len] = 0;
        int fd = ss_openat(AT_FDCWD, path, O_RDONLY, 0);
        if (fd < 0)
            return 0;
        if (!file_matches(im, fd)) {
            ss_close(fd);
            return 0;
        }
        im->fd = fd;
    }
    return im->fd >= 0 && ss_pread(im->fd, buf, n, off) == (ssize_t)n;
}

/* No build-id in a PT_NOTE: look through the section headers, as Breakpad's FileID does. First a GNU
 * build-id note in an allocated SHT_NOTE section (Go's internal linker writes .note.gnu.build-id outside
 * any PT_NOTE); else Breakpad's fallback: the first 4096 bytes of .text XORed into 16 bytes
 * (HashElfTextSection in breakpad/src/common/linux/file_id.cc, which reads 16 bytes at a time and so may
 * read up to 15 bytes past a short .text; we read the same bytes, from memory). */
static uint32_t id_from_sections(struct elf_image *im, uint8_t *out, uint32_t cap)
{
    const Elf64_Ehdr *eh = &im->eh;
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff == 0 || eh->e_shnum == 0 ||
        eh->e_shstrndx >= eh->e_shnum)
        return 0;
    uint32_t nsh = eh->e_shnum < MAX_SHDRS ? eh->e_shnum : MAX_SHDRS;
    Elf64_Shdr shstr;
    int have_shstr = image_read(im, &shstr, sizeof shstr, eh->e_shoff + (uint64_t)eh->e_shstrndx * sizeof shstr);
    uint64_t text_addr = 0, text_size = 0;
    for (uint32_t i = 0; i < nsh; i += SHDR_CHUNK) {
        Elf64_Shdr sh[SHDR_CHUNK];
        uint32_t k = nsh - i < SHDR_CHUNK ? nsh - i : SHDR_CHUNK;
        if (!image_read(im, sh, k * sizeof sh[0], eh->e_shoff + (uint64_t)i * sizeof sh[0]))
            return 0;
        for (uint32_t j = 0; j < k; j++) {
            if (sh[j].sh_type == SHT_NOTE && (sh[j].sh_flags & SHF_ALLOC) && sh[j].sh_addr) {
                uint8_t notes[MAX_NOTE_BYTES];
                uint64_t size = sh[j].sh_size < sizeof notes ? sh[j].sh_size : sizeof notes;
                uint32_t n;
                if (ss_memread(notes, im->bias + sh[j].sh_addr, size) >= 0 && parse_notes(notes, size, out, cap, &n))
                    return n;
            }
            if (!text_size && have_shstr && sh[j].sh_type == SHT_PROGBITS && (sh[j].sh_flags & SHF_EXECINSTR) &&
                sh[j].sh_addr && sh[j].sh_size && sh[j].sh_name < shstr.sh_size) {
                char name[6];
                if (shstr.sh_size - sh[j].sh_name >= sizeof name &&
                    image_read(im, name, sizeof name, shstr.sh_offset + sh[j].sh_name) &&
                    ss_memcmp(name, ".text", sizeof name) == 0) {
                    text_addr = sh[j].sh_addr;
                    text_size = sh[j].sh_size;
                }
            }
        }
    }
    if (!text_size || cap < MD_GUID_SIZE)
        return 0;
    uint8_t text[TEXT_HASH_BYTES + MD_GUID_SIZE];
    uint64_t n = text_size < TEXT_HASH_BYTES ? text_size : TEXT_HASH_BYTES;
    n = (n + MD_GUID_SIZE - 1) & ~(uint64_t)(MD_GUID_SIZE - 1);
    if (ss_memread(text, im->bias + text_addr, n) < 0)
        return 0;
    ss_memset(out, 0, MD_GUID_SIZE);
    for (uint64_t off = 0; off < n; off += MD_GUID_SIZE)
        for (uint32_t i = 0; i < MD_GUID_SIZE; i++)
            out[i] ^= text[off + i];
    return MD_GUID_SIZE;
}

/* The module's identity as the ecosystem computes it (Breakpad's FileID::ElfFileIdentifierFromMappedFile):
 * the GNU build-id from a PT_NOTE, else from a note section, else the hash of .text. Returns its length. */
static uint32_t module_identity(uint64_t base, const struct mdw_module *mod, uint8_t *out, uint32_t cap)
{
    struct elf_image im;
    if (!image_open(&im, base, mod))
        return 0;
    uint32_t n = build_id_from_segments(&im, out, cap);
    if (!n)
        n = id_from_sections(&im, out, cap);
    if (im.fd >= 0)
        ss_close(im.fd);
    return n;
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
uint32_t rep_collect_modules(const struct ss_mapping *maps, uint32_t nmaps, struct mdw_module *out, uint32_t max)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < nmaps && n < max; i++) {
        const struct ss_mapping *m = &maps[i];
        if (m->offset != 0 || !is_module_path(m))
            continue;
        struct mdw_module *mod = &out[n];
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
        mod->build_id_len = module_identity(m->start, mod, mod->build_id, sizeof mod->build_id);
        n++;
    }
    for (uint32_t i = 1; i < n; i++) {
        if (rep_g.at_phdr >= out[i].base && rep_g.at_phdr < out[i].base + out[i].size) {
            struct mdw_module main_mod = out[i];
            for (uint32_t k = i; k > 0; k--)
                out[k] = out[k - 1];
            out[0] = main_mod;
            break;
        }
    }
    return n;
}

int rep_module_index(const struct mdw_module *mods, uint32_t n, uint64_t pc)
{
    for (uint32_t i = 0; i < n; i++)
        if (pc >= mods[i].base && pc - mods[i].base < mods[i].size)
            return (int)i;
    return -1;
}
