/* go_inspect.c — at install, find the running executable's Go module: its version and the runtime's
 * moduledata, from which the handler symbolizes Go pcs (go_pcln.c).
 *
 * Normal context only (install): libc is allowed here, and every function is named *_nasync. It maps
 * /proc/self/exe to read the ELF headers, sections and symbols, and reads the loaded image in memory
 * only inside the PT_LOAD ranges of that same image (checked against AT_PHDR), so it cannot fault.
 *
 * Where things are (Go 1.22–1.27 on linux, checked by building each mode; tests/go/pcln and tests/go/offsets):
 *   version      .go.buildinfo (writable data): magic "\xff Go buildinf:", ptrSize u8, flags u8 at
 *                14/15. flags & 2 (Go 1.18+): the version follows the 32-byte header as a varint
 *                length and bytes. Otherwise (older Go): two pointers at 16 to Go string headers.
 *   moduledata   1.26+: section .go.module. Otherwise runtime.firstmoduledata in .symtab, absent
 *                from -ldflags=-s binaries. Last resort: the pcHeader (section .gopclntab, which
 *                external PIE links fold into .data.rel.ro, or a scan for its magic), then a scan
 *                of the writable segments for a word pointing at it, validated field by field the
 *                way runtime.moduledataverify1 checks it.
 *   moduledata   (runtime/symtab.go, identical prefix 1.20–1.26): 0 pcHeader, 8 funcnametab,
 *   offsets      32 cutab, 56 filetab, 80 pctab, 104 pclntable, 128 ftab (slices: ptr, len, cap),
 *                152 findfunctab, 160 minpc, 168 maxpc, 176 text, 184 etext, ..., 320 gofunc;
 *                1.26 added epclntab at 328, which moves textsectmap from 328 to 336; 1.27 added
 *                typedesclen, itaboffset and itabsize around etypes, which moves gofunc to 344,
 *                epclntab to 352 and textsectmap to 360.
 *   pcHeader     0 magic u32 (0xfffffff1 since 1.20), 4 pad1, 5 pad2, 6 minLC, 7 ptrSize,
 *                8 nfunc, 16 nfiles, 24 textStart (0 from 1.26: use moduledata.text),
 *                32/40/48/56/64 offsets of funcnametab, cutab, filetab, pctab, pclntable.
 */
#include "../go/go.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Ways to find the moduledata, tried in this order; tests force each one alone. */
#define GO_FIND_MODULE_SECTION 1u  /* .go.module (Go 1.26+) */
#define GO_FIND_SYMTAB 2u          /* runtime.firstmoduledata in .symtab */
#define GO_FIND_PCLNTAB_SECTION 4u /* pcHeader at .gopclntab, then a scan for the moduledata */
#define GO_FIND_SCAN 8u            /* pcHeader by its magic, then a scan for the moduledata */
#define GO_FIND_ALL 15u

/* Declared here until go.h declares it (it runs at install; see the end of this file). */
int go_pcln_find_nasync(struct go_pcln *t, char *version, size_t version_len, char *why, size_t why_len);
/* Also used by tests/go/pcln (which declares it itself): go_pcln_find_nasync restricted to the
 * methods named in `methods` (GO_FIND_* bits). */
int go_pcln_find_methods_nasync(struct go_pcln *t, char *version, size_t version_len, char *why, size_t why_len,
                                unsigned methods);

#define GO_MIN_MINOR 20            /* pclntab magic 0xfffffff1 and the _func layout of go1.20 */
#define GO_PCLN_MAGIC 0xfffffff1u
#define GO_PCHEADER_SIZE 72u
#define GO_BUILDINFO_MAGIC "\xff Go buildinf:"
#define GO_BUILDINFO_HDR 32u

#define GO_MAX_FUNCS (1u << 24)    /* sanity bound on nfunc */

enum {
    MD_PCHEADER = 0, MD_FUNCNAMETAB = 8, MD_CUTAB = 32, MD_FILETAB = 56, MD_PCTAB = 80,
    MD_PCLNTABLE = 104, MD_FTAB = 128, MD_MINPC = 160, MD_MAXPC = 168, MD_TEXT = 176,
    MD_GOFUNC = 320, MD_EPCLNTAB_126 = 328, MD_TEXTSECTMAP_120 = 328, MD_TEXTSECTMAP_126 = 336,
    MD_GOFUNC_127 = 344, MD_EPCLNTAB_127 = 352, MD_TEXTSECTMAP_127 = 360,
    MD_READ = 384 /* bytes of the moduledata we read */
};

enum { PH_MAGIC = 0, PH_PAD1 = 4, PH_PAD2 = 5, PH_MINLC = 6, PH_PTRSIZE = 7, PH_NFUNC = 8, PH_TEXTSTART = 24,
       PH_FUNCNAME = 32, PH_CU = 40, PH_FILETAB = 48, PH_PCTAB = 56, PH_PCLN = 64 };

/* The running executable: its file mapped read-only, and where its segments are in memory. */
struct exe {
    const uint8_t *map;
    size_t size;
    const Elf64_Ehdr *eh;
    const Elf64_Phdr *ph;
    const Elf64_Shdr *sh;    /* 0 when the file has no usable section headers */
    const char *shstr;
    uint64_t shstr_size;
    uint64_t bias;           /* runtime address = link-time address + bias */
    /* Segment flags the read-only Go tables (pcHeader, pclntab, go:func.*) may not have: PF_X when the file has
     * a read-only data segment of its own (Go's linker; GNU ld with -z separate-code, its x86 default), 0 when
     * .rodata shares the R+X text segment (GNU ld on aarch64, or -z noseparate-code anywhere). The
     * field-by-field checks of the moduledata still hold the tables to one segment. */
    uint32_t rodata_refuse;
    int minor;               /* the Go version's minor number: 22 for go1.22.12 */
};

static void say(char *why, size_t why_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t why_len, const char *fmt, ...)
{
    if (!why || why_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

static uint64_t rd64(uint64_t addr)
{
    uint64_t v;
    memcpy(&v, (const void *)(uintptr_t)addr, 8);
    return v;
}

static uint32_t rd32(uint64_t addr)
{
    uint32_t v;
    memcpy(&v, (const void *)(uintptr_t)addr, 4);
    return v;
}

static int in_file(const struct exe *x, uint64_t off, uint64_t len)
{
    return off <= x->size && len <= x->size - off;
}

/* The PT_LOAD whose memory image holds [addr, addr + len) entirely, or -1. want/refuse are PF_* bits
 * the segment must have / must not have. Only the file-backed part counts when file_only. */
static int segment_of(const struct exe *x, uint64_t addr, uint64_t len, uint32_t want, uint32_t refuse, int file_only)
{
    for (int i = 0; i < x->eh->e_phnum; i++) {
        const Elf64_Phdr *p = &x->ph[i];
        if (p->p_type != PT_LOAD || !(p->p_flags & PF_R) || (p->p_flags & want) != want || (p->p_flags & refuse))
            continue;
        uint64_t start = p->p_vaddr + x->bias, size = file_only ? p->p_filesz : p->p_memsz;
        if (addr >= start && addr - start <= size && len <= size - (addr - start))
            return i;
    }
    return -1;
}

static int readable(const struct exe *x, uint64_t addr, uint64_t len)
{
    return segment_of(x, addr, len, 0, 0, 0) >= 0;
}

/* The section named name (of any type but NOBITS), or 0. */
static const Elf64_Shdr *section(const struct exe *x, const char *name)
{
    if (!x->sh)
        return 0;
    for (int i = 0; i < x->eh->e_shnum; i++) {
        const Elf64_Shdr *s = &x->sh[i];
        if (s->sh_name >= x->shstr_size || s->sh_type == SHT_NOBITS)
            continue;
        const char *n = x->shstr + s->sh_name;
        if (strnlen(n, x->shstr_size - s->sh_name) < x->shstr_size - s->sh_name && strcmp(n, name) == 0)
            return s;
    }
    return 0;
}

/* Map /proc/self/exe and tie it to the image in memory: the program headers the kernel reported
 * (AT_PHDR) must be the file's. */
static int open_exe(struct exe *x, char *why, size_t why_len)
{
    memset(x, 0, sizeof *x);
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        say(why, why_len, "cannot open /proc/self/exe: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
        say(why, why_len, "/proc/self/exe: cannot stat, or too small for an ELF file");
        close(fd);
        return -1;
    }
    void *m = mmap(0, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        say(why, why_len, "cannot map /proc/self/exe: %s", strerror(errno));
        return -1;
    }
    x->map = m;
    x->size = (size_t)st.st_size;
    x->eh = m;
    const Elf64_Ehdr *eh = x->eh;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_phentsize != sizeof(Elf64_Phdr) ||
        !in_file(x, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr))) {
        say(why, why_len, "/proc/self/exe is not a 64-bit little-endian ELF file");
        return -1;
    }
    x->ph = (const Elf64_Phdr *)(x->map + eh->e_phoff);

    /* Load bias from where the kernel put the program headers. */
    uint64_t at_phdr = getauxval(AT_PHDR), phdr_vaddr = 0;
    int have = 0;
    for (int i = 0; i < eh->e_phnum && !have; i++) {
        if (x->ph[i].p_type == PT_PHDR) {
            phdr_vaddr = x->ph[i].p_vaddr;
            have = 1;
        }
    }
    for (int i = 0; i < eh->e_phnum && !have; i++) {
        const Elf64_Phdr *p = &x->ph[i];
        if (p->p_type == PT_LOAD && eh->e_phoff >= p->p_offset && eh->e_phoff - p->p_offset < p->p_filesz) {
            phdr_vaddr = p->p_vaddr + (eh->e_phoff - p->p_offset);
            have = 1;
        }
    }
    if (!have || at_phdr == 0) {
        say(why, why_len, "cannot place the executable in memory (no AT_PHDR or no PT_PHDR/PT_LOAD for it)");
        return -1;
    }
    x->bias = at_phdr - phdr_vaddr;
    x->rodata_refuse = 0;
    for (int i = 0; i < eh->e_phnum; i++)
        if (x->ph[i].p_type == PT_LOAD && (x->ph[i].p_flags & (PF_R | PF_W | PF_X)) == PF_R)
            x->rodata_refuse = PF_X;
    size_t phsize = (size_t)eh->e_phnum * sizeof(Elf64_Phdr);
    if (!readable(x, at_phdr, phsize) || memcmp((const void *)(uintptr_t)at_phdr, x->ph, phsize) != 0) {
        say(why, why_len, "/proc/self/exe is not the running image (started through the dynamic loader?)");
        return -1;
    }

    if (eh->e_shentsize == sizeof(Elf64_Shdr) && eh->e_shnum > 0 && eh->e_shstrndx < eh->e_shnum &&
        in_file(x, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr))) {
        const Elf64_Shdr *sh = (const Elf64_Shdr *)(x->map + eh->e_shoff);
        const Elf64_Shdr *ss = &sh[eh->e_shstrndx];
        if (in_file(x, ss->sh_offset, ss->sh_size)) {
            x->sh = sh;
            x->shstr = (const char *)(x->map + ss->sh_offset);
            x->shstr_size = ss->sh_size;
        }
    }
    return 0;
}

static void close_exe(struct exe *x)
{
    if (x->map)
        munmap((void *)x->map, x->size);
    x->map = 0;
}

/* ---- the Go version ---- */

/* The build-info blob: from .go.buildinfo, or (no section headers) found in writable data at a
 * 16-byte boundary as debug/buildinfo searches for it. Returns its runtime address, or 0. */
static uint64_t find_buildinfo(const struct exe *x, uint64_t *room)
{
    const Elf64_Shdr *s = section(x, ".go.buildinfo");
    size_t mlen = sizeof GO_BUILDINFO_MAGIC - 1;
    if (s && s->sh_size >= GO_BUILDINFO_HDR) {
        uint64_t a = s->sh_addr + x->bias;
        if (readable(x, a, s->sh_size) && memcmp((const void *)(uintptr_t)a, GO_BUILDINFO_MAGIC, mlen) == 0) {
            *room = s->sh_size;
            return a;
        }
    }
    for (int i = 0; i < x->eh->e_phnum; i++) {
        const Elf64_Phdr *p = &x->ph[i];
        if (p->p_type != PT_LOAD || !(p->p_flags & PF_W) || !(p->p_flags & PF_R))
            continue;
        uint64_t start = p->p_vaddr + x->bias, end = start + p->p_filesz;
        for (uint64_t a = (start + 15) & ~15ull; a + GO_BUILDINFO_HDR <= end; a += 16) {
            if (memcmp((const void *)(uintptr_t)a, GO_BUILDINFO_MAGIC, mlen) == 0) {
                *room = end - a;
                return a;
            }
        }
    }
    return 0;
}

/* Copy the Go string (data, len) into version, if it lies inside the image. */
static int copy_string(const struct exe *x, uint64_t data, uint64_t len, char *version, size_t version_len)
{
    if (len == 0 || len > 4096 || !readable(x, data, len))
        return -1;
    size_t n = len < version_len - 1 ? (size_t)len : version_len - 1;
    memcpy(version, (const void *)(uintptr_t)data, n);
    version[n] = 0;
    return 0;
}

/* The module information that follows the version (Go 1.18+ inline format): "path\t...\nmod\t...\n
 * dep\t...\nbuild\t-key=value\n...", as `go version -m` prints it. Kept for the dump. */
static char g_modinfo[4096];

const char *go_modinfo_nasync(void) { return g_modinfo[0] ? g_modinfo : NULL; }

static void read_modinfo(const struct exe *x, uint64_t bi, uint64_t pos, uint64_t room)
{
    const uint8_t *h = (const uint8_t *)(uintptr_t)bi;
    uint64_t len = 0;
    for (int shift = 0; shift < 64 && pos < room; shift += 7) {
        uint8_t b = h[pos++];
        len |= (uint64_t)(b & 0x7f) << shift;
        if (b & 0x80)
            continue;
        /* debug/buildinfo: the text sits between two 16-byte sentinels, the first ending in '\n'. */
        if (len > room - pos || len < 33 || h[pos + len - 17] != '\n' || !readable(x, bi + pos, len))
            return;
        size_t n = (size_t)len - 32 < sizeof g_modinfo - 1 ? (size_t)len - 32 : sizeof g_modinfo - 1;
        memcpy(g_modinfo, h + pos + 16, n);
        g_modinfo[n] = 0;
        return;
    }
}

static int read_version(struct exe *x, char *version, size_t version_len, char *why, size_t why_len)
{
    uint64_t room = 0;
    uint64_t bi = find_buildinfo(x, &room);
    if (!bi) {
        say(why, why_len, "not a Go executable (no Go build info in /proc/self/exe)");
        return -1;
    }
    const uint8_t *h = (const uint8_t *)(uintptr_t)bi;
    int ok = -1;
    if (h[15] & 2) { /* Go 1.18+: varint length and bytes right after the header */
        uint64_t len = 0, pos = GO_BUILDINFO_HDR;
        for (int shift = 0; shift < 64 && pos < room; shift += 7) {
            uint8_t b = h[pos++];
            len |= (uint64_t)(b & 0x7f) << shift;
            if (!(b & 0x80)) {
                if (len <= room - pos)
                    ok = copy_string(x, bi + pos, len, version, version_len);
                if (ok == 0)
                    read_modinfo(x, bi, pos + len, room);
                break;
            }
        }
    } else if (h[14] == 8 && !(h[15] & 1)) { /* before 1.18: pointer to a Go string header */
        uint64_t vp = rd64(bi + 16);
        if (readable(x, vp, 16))
            ok = copy_string(x, rd64(vp), rd64(vp + 8), version, version_len);
    }
    if (ok != 0) {
        say(why, why_len, "not a Go executable we can read (Go build info without a readable version)");
        return -1;
    }
    const char *g = strstr(version, "go1.");
    int minor = -1;
    if (g) {
        minor = 0;
        const char *d = g + 4;
        for (int i = 0; i < 4 && *d >= '0' && *d <= '9'; i++, d++)
            minor = minor * 10 + (*d - '0');
        if (d == g + 4)
            minor = -1;
    }
    if (minor < 0) {
        say(why, why_len, "Go version \"%s\" not understood", version);
        return -1;
    }
    if (minor < GO_MIN_MINOR) {
        say(why, why_len, "Go version %s is not supported (the pclntab reader needs go1.%d or later)", version,
            GO_MIN_MINOR);
        return -1;
    }
    x->minor = minor;
    return 0;
}

/* ---- pcHeader and moduledata ---- */

/* A plausible pcHeader at h (runtime address), inside one read-only-data segment with the five
 * tables it names. 0 or -1. */
static int check_pcheader(const struct exe *x, uint64_t h)
{
    int seg = segment_of(x, h, GO_PCHEADER_SIZE, 0, x->rodata_refuse, 1);
    if (seg < 0)
        return -1;
    const uint8_t *p = (const uint8_t *)(uintptr_t)h;
    if (rd32(h + PH_MAGIC) != GO_PCLN_MAGIC || p[PH_PAD1] || p[PH_PAD2] ||
        !(p[PH_MINLC] == 1 || p[PH_MINLC] == 2 || p[PH_MINLC] == 4) || p[PH_PTRSIZE] != 8)
        return -1;
    uint64_t nfunc = rd64(h + PH_NFUNC);
    if (nfunc == 0 || nfunc > GO_MAX_FUNCS)
        return -1;
    uint64_t prev = GO_PCHEADER_SIZE - 1;
    static const int offs[] = {PH_FUNCNAME, PH_CU, PH_FILETAB, PH_PCTAB, PH_PCLN};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        uint64_t o = rd64(h + (uint64_t)offs[i]);
        if (o <= prev || segment_of(x, h + o, 1, 0, x->rodata_refuse, 1) != seg)
            return -1;
        prev = o;
    }
    return 0;
}

/* A Go slice at addr: its data must be where the pcHeader says and lie inside segment seg. */
static int check_slice(const struct exe *x, uint64_t addr, uint64_t want_ptr, uint64_t elem, int seg,
                       uint64_t *ptr, uint64_t *bytes)
{
    uint64_t p = rd64(addr), len = rd64(addr + 8), cap = rd64(addr + 16);
    if ((want_ptr && p != want_ptr) || len > cap || len > (1ull << 40) / elem)
        return -1;
    if (len && segment_of(x, p, len * elem, 0, x->rodata_refuse, 1) != seg)
        return -1;
    *ptr = p;
    *bytes = len * elem;
    return 0;
}

/* Validate a moduledata candidate at m and fill t from it. Returns 0, or -1 with the reason. */
static int check_moduledata(const struct exe *x, uint64_t m, struct go_pcln *t, const char **bad)
{
    struct go_pcln c;
    memset(&c, 0, sizeof c);
    if (segment_of(x, m, MD_READ, PF_W, 0, 0) < 0)
        return *bad = "not inside the writable data of the executable", -1;
    uint64_t h = rd64(m + MD_PCHEADER);
    if (check_pcheader(x, h) != 0)
        return *bad = "its pcHeader is not a valid go1.20+ pcHeader", -1;
    int seg = segment_of(x, h, GO_PCHEADER_SIZE, 0, x->rodata_refuse, 1);
    uint64_t ftab_ptr, ftab_bytes;
    if (check_slice(x, m + MD_FUNCNAMETAB, h + rd64(h + PH_FUNCNAME), 1, seg, &c.funcnametab, &c.funcnametab_len) ||
        check_slice(x, m + MD_CUTAB, h + rd64(h + PH_CU), 4, seg, &c.cutab, &c.cutab_len) ||
        check_slice(x, m + MD_FILETAB, h + rd64(h + PH_FILETAB), 1, seg, &c.filetab, &c.filetab_len) ||
        check_slice(x, m + MD_PCTAB, h + rd64(h + PH_PCTAB), 1, seg, &c.pctab, &c.pctab_len) ||
        check_slice(x, m + MD_PCLNTABLE, h + rd64(h + PH_PCLN), 1, seg, &c.pclntable, &c.pclntable_len) ||
        check_slice(x, m + MD_FTAB, 0, 8, seg, &ftab_ptr, &ftab_bytes))
        return *bad = "a table slice does not match the pcHeader", -1;
    uint64_t nfunc = rd64(h + PH_NFUNC);
    if (ftab_bytes != (nfunc + 1) * 8 || ftab_ptr < c.pclntable || ftab_ptr - c.pclntable > c.pclntable_len ||
        ftab_bytes > c.pclntable_len - (ftab_ptr - c.pclntable))
        return *bad = "ftab is not nfunc + 1 entries inside pclntable", -1;
    c.ftab = ftab_ptr;
    c.ftab_len = ftab_bytes;
    c.nfunc = (uint32_t)nfunc;
    c.minlc = ((const uint8_t *)(uintptr_t)h)[PH_MINLC];
    c.text = rd64(m + MD_TEXT);
    c.minpc = rd64(m + MD_MINPC);
    c.maxpc = rd64(m + MD_MAXPC);
    int tseg = segment_of(x, c.text, 1, PF_X, 0, 1);
    if (tseg < 0 || c.minpc < c.text || c.maxpc <= c.minpc || segment_of(x, c.maxpc - 1, 1, PF_X, 0, 1) != tseg)
        return *bad = "text, minpc and maxpc are not in one executable segment", -1;
    if (x->minor < 26 && rd64(h + PH_TEXTSTART) != c.text)
        return *bad = "pcHeader.textStart differs from moduledata.text", -1;
    uint64_t tsm = rd64(m + (x->minor >= 27   ? MD_TEXTSECTMAP_127
                             : x->minor >= 26 ? MD_TEXTSECTMAP_126
                                              : MD_TEXTSECTMAP_120) + 8);
    if (tsm > 1)
        return *bad = "the module has several text sections (not supported)", -1;
    /* What runtime.moduledataverify1 checks: ftab sorted, minpc/maxpc its first and last entries. */
    uint32_t prev = 0;
    for (uint64_t i = 0; i <= nfunc; i++) {
        uint32_t e = rd32(ftab_ptr + i * 8), fo = rd32(ftab_ptr + i * 8 + 4);
        if (e < prev || (i < nfunc && (fo >= c.pclntable_len || c.pclntable_len - fo < 44)))
            return *bad = "ftab is not sorted, or points outside pclntable", -1;
        prev = e;
    }
    if (c.minpc != c.text + rd32(ftab_ptr) || c.maxpc != c.text + rd32(ftab_ptr + nfunc * 8))
        return *bad = "minpc/maxpc do not match ftab", -1;

    /* go:func.*, where funcdata (the inline trees) live: bounded by its section, else (1.26+) by
     * epclntab, else by its segment. */
    c.gofunc = rd64(m + (x->minor >= 27 ? MD_GOFUNC_127 : MD_GOFUNC));
    int gseg = segment_of(x, c.gofunc, 1, 0, x->rodata_refuse, 1);
    if (gseg < 0)
        return *bad = "gofunc is not in a read-only-data segment", -1;
    const Elf64_Phdr *gp = &x->ph[gseg];
    c.gofunc_len = gp->p_vaddr + x->bias + gp->p_filesz - c.gofunc;
    uint64_t link = c.gofunc - x->bias;
    int sized = 0;
    for (int i = 0; x->sh && i < x->eh->e_shnum && !sized; i++) {
        const Elf64_Shdr *s = &x->sh[i];
        if ((s->sh_flags & SHF_ALLOC) && s->sh_type != SHT_NOBITS && link >= s->sh_addr &&
            link - s->sh_addr < s->sh_size && s->sh_addr + s->sh_size - link <= c.gofunc_len) {
            c.gofunc_len = s->sh_addr + s->sh_size - link;
            sized = 1;
        }
    }
    uint64_t epcln = x->minor >= 27 ? rd64(m + MD_EPCLNTAB_127) : x->minor >= 26 ? rd64(m + MD_EPCLNTAB_126) : 0;
    if (!sized && epcln > c.gofunc && epcln - c.gofunc <= c.gofunc_len)
        c.gofunc_len = epcln - c.gofunc;

    c.pcheader = h;
    c.moduledata = m;
    *t = c;
    return 0;
}

/* Every 8-byte word of the writable segments that equals h, tried as the moduledata's first field. */
static uint64_t scan_for_moduledata(const struct exe *x, uint64_t h, struct go_pcln *t, const char **bad)
{
    for (int i = 0; i < x->eh->e_phnum; i++) {
        const Elf64_Phdr *p = &x->ph[i];
        if (p->p_type != PT_LOAD || !(p->p_flags & PF_W) || !(p->p_flags & PF_R))
            continue;
        uint64_t start = (p->p_vaddr + x->bias + 7) & ~7ull, end = p->p_vaddr + x->bias + p->p_memsz;
        for (uint64_t a = start; a + 8 <= end; a += 8) {
            if (rd64(a) == h && check_moduledata(x, a, t, bad) == 0)
                return a;
        }
    }
    return 0;
}

/* pcHeader candidates by their magic in the read-only-data segments (.rodata, .gopclntab, or the
 * .data.rel.ro of an external PIE link), each followed by a search for its moduledata. */
static uint64_t scan_for_pcheader(const struct exe *x, struct go_pcln *t, const char **bad, int *headers)
{
    for (int i = 0; i < x->eh->e_phnum; i++) {
        const Elf64_Phdr *p = &x->ph[i];
        if (p->p_type != PT_LOAD || (p->p_flags & x->rodata_refuse) || !(p->p_flags & PF_R))
            continue;
        uint64_t start = (p->p_vaddr + x->bias + 7) & ~7ull, end = p->p_vaddr + x->bias + p->p_filesz;
        for (uint64_t a = start; a + GO_PCHEADER_SIZE <= end; a += 8) {
            if (rd32(a) != GO_PCLN_MAGIC || check_pcheader(x, a) != 0)
                continue;
            (*headers)++;
            uint64_t m = scan_for_moduledata(x, a, t, bad);
            if (m)
                return m;
        }
    }
    return 0;
}

/* Install (normal context), once, from lastgasp's Go support and from tests. See go.h. On success
 * why (if any) tells how the module was found. */
int go_pcln_find_methods_nasync(struct go_pcln *t, char *version, size_t version_len, char *why, size_t why_len,
                                unsigned methods)
{
    char vbuf[128];
    if (!version || version_len == 0) {
        version = vbuf;
        version_len = sizeof vbuf;
    }
    version[0] = 0;
    if (why && why_len)
        why[0] = 0;
    if (!t) {
        say(why, why_len, "no output given");
        return -1;
    }
    memset(t, 0, sizeof *t);
    struct exe x;
    if (open_exe(&x, why, why_len) != 0 || read_version(&x, version, version_len, why, why_len) != 0) {
        close_exe(&x);
        return -1;
    }

    const char *bad = "no candidate";
    const char *how = 0;
    uint64_t m = 0;
    const Elf64_Shdr *s = 0;
    if (!m && (methods & GO_FIND_MODULE_SECTION) && (s = section(&x, ".go.module")) == 0)
        say(why, why_len, "no section .go.module (Go before 1.26, or no section headers)");
    if (!m && (methods & GO_FIND_MODULE_SECTION) && s != 0) {
        m = s->sh_addr + x.bias;
        how = "section .go.module";
        if (check_moduledata(&x, m, t, &bad) != 0) {
            say(why, why_len, "moduledata at .go.module (0x%llx) is not valid: %s", (unsigned long long)m, bad);
            m = 0;
        }
    }
    if (!m && (methods & GO_FIND_SYMTAB))
        say(why, why_len, "no runtime.firstmoduledata in .symtab (a stripped executable?)");
    if (!m && (methods & GO_FIND_SYMTAB) && (s = section(&x, ".symtab")) != 0 && s->sh_type == SHT_SYMTAB &&
        s->sh_entsize == sizeof(Elf64_Sym) && s->sh_link < x.eh->e_shnum && in_file(&x, s->sh_offset, s->sh_size)) {
        const Elf64_Shdr *str = &x.sh[s->sh_link];
        const Elf64_Sym *sym = (const Elf64_Sym *)(x.map + s->sh_offset);
        const char *names = (const char *)(x.map + str->sh_offset);
        uint64_t nsym = s->sh_size / sizeof(Elf64_Sym);
        static const char want[] = "runtime.firstmoduledata";
        for (uint64_t i = 0; in_file(&x, str->sh_offset, str->sh_size) && i < nsym && !m; i++) {
            if (sym[i].st_name >= str->sh_size || str->sh_size - sym[i].st_name < sizeof want ||
                memcmp(names + sym[i].st_name, want, sizeof want) != 0)
                continue;
            m = sym[i].st_value + x.bias;
            how = "symbol runtime.firstmoduledata";
            if (check_moduledata(&x, m, t, &bad) != 0) {
                say(why, why_len, "runtime.firstmoduledata (0x%llx) is not valid: %s", (unsigned long long)m, bad);
                m = 0;
            }
        }
    }
    if (!m && (methods & GO_FIND_PCLNTAB_SECTION) && (s = section(&x, ".gopclntab")) == 0)
        say(why, why_len, "no section .gopclntab (an external PIE link before Go 1.26 puts it in .data.rel.ro)");
    if (!m && (methods & GO_FIND_PCLNTAB_SECTION) && s != 0) {
        uint64_t h = s->sh_addr + x.bias;
        if (check_pcheader(&x, h) == 0) {
            m = scan_for_moduledata(&x, h, t, &bad);
            how = "a scan for the pcHeader of section .gopclntab";
        } else {
            bad = "section .gopclntab does not start with a go1.20+ pcHeader";
        }
        if (!m)
            say(why, why_len, "no valid moduledata refers to the pcHeader at .gopclntab (0x%llx): %s",
                (unsigned long long)h, bad);
    }
    if (!m && (methods & GO_FIND_SCAN)) {
        int headers = 0;
        m = scan_for_pcheader(&x, t, &bad, &headers);
        how = "a scan for the pcHeader magic, then for the moduledata";
        if (!m && headers == 0)
            say(why, why_len, "pclntab not found (no go1.20+ pcHeader in the executable's read-only data)");
        else if (!m)
            say(why, why_len, "moduledata not found: %d pcHeader candidate(s), none referred to by a valid moduledata (last: %s)",
                headers, bad);
    }
    close_exe(&x);
    if (!m) {
        memset(t, 0, sizeof *t);
        if (why && why_len && !why[0])
            say(why, why_len, "pclntab not found (no method applies to this executable)");
        return -1;
    }
    say(why, why_len, "%s: moduledata at 0x%llx found by %s", version, (unsigned long long)m, how);
    return 0;
}

/* Install (normal context). Fills t with the runtime addresses of the executable's pclntab tables
 * and copies the Go version into version; 0, or -1 with the reason in why. */
int go_pcln_find_nasync(struct go_pcln *t, char *version, size_t version_len, char *why, size_t why_len)
{
    return go_pcln_find_methods_nasync(t, version, version_len, why, why_len, GO_FIND_ALL);
}
