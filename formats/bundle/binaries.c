/* binaries.c — `collect --with-binaries`: the executables and libraries the dumps name, so that the
 * bundle can be symbolized elsewhere. A file goes in only when its GNU build-id on disk is the one the dump
 * recorded (a deploy may have replaced it since the crash); otherwise the manifest says why it is missing.
 *
 * Normal context. The build-id is read from the same descriptor the file is then copied from.
 */
#include "bundle_int.h"
#include "../json/json.h"
#include "../render/render.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PHDRS 256
#define MAX_NOTES (64u << 10)

static int read_at(int fd, void *p, size_t n, uint64_t off)
{
    ssize_t got = pread(fd, p, n, (off_t)off);
    return got == (ssize_t)n ? 0 : -1;
}

static void to_hex(const uint8_t *p, size_t n, char *hex);

/* The build-id of one note area as hex (md_build_id_note: the walk the reporter does in memory). */
static int build_id_in_notes(const uint8_t *notes, size_t size, char *hex, size_t hexcap)
{
    const uint8_t *id;
    uint32_t n;
    if (!md_build_id_note(notes, size, &id, &n) || 2 * (size_t)n >= hexcap)
        return -1;
    to_hex(id, n, hex);
    return 0;
}

static void to_hex(const uint8_t *p, size_t n, char *hex)
{
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", p[i]);
}

/* No build-id in a PT_NOTE: a SHT_NOTE section (Go's internal linker writes .note.gnu.build-id outside any
 * PT_NOTE), else Breakpad's fallback, the first 4096 bytes of .text XORed into 16 bytes (HashElfTextSection
 * in breakpad/src/common/linux/file_id.cc). The reporter computes the same from memory (reporter/modules.c). */
static int id_from_sections(int fd, const Elf64_Ehdr *eh, uint8_t *notes, char *hex, size_t hexcap)
{
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum == 0 || eh->e_shstrndx >= eh->e_shnum)
        return -1;
    Elf64_Shdr *sh = calloc(eh->e_shnum, sizeof *sh);
    int rc = -1;
    if (!sh || read_at(fd, sh, eh->e_shnum * sizeof *sh, eh->e_shoff) != 0)
        goto out;
    for (uint32_t i = 0; i < eh->e_shnum && rc != 0; i++) {
        if (sh[i].sh_type != SHT_NOTE)
            continue;
        size_t n = sh[i].sh_size < MAX_NOTES ? (size_t)sh[i].sh_size : MAX_NOTES;
        if (read_at(fd, notes, n, sh[i].sh_offset) == 0)
            rc = build_id_in_notes(notes, n, hex, hexcap);
    }
    const Elf64_Shdr *strs = &sh[eh->e_shstrndx];
    for (uint32_t i = 0; i < eh->e_shnum && rc != 0; i++) {
        char name[6];
        if (sh[i].sh_type != SHT_PROGBITS || sh[i].sh_size == 0 || sh[i].sh_name >= strs->sh_size ||
            strs->sh_size - sh[i].sh_name < sizeof name ||
            read_at(fd, name, sizeof name, strs->sh_offset + sh[i].sh_name) != 0 || memcmp(name, ".text", 6) != 0)
            continue;
        uint8_t id[16] = {0}, text[4096 + 16];
        size_t n = sh[i].sh_size < 4096 ? (size_t)sh[i].sh_size : 4096;
        n = (n + 15) & ~(size_t)15; /* Breakpad reads whole 16-byte rows, past a short .text too */
        if (hexcap <= 32 || read_at(fd, text, n, sh[i].sh_offset) != 0)
            break;
        for (size_t off = 0; off < n; off += 16)
            for (int k = 0; k < 16; k++)
                id[k] ^= text[off + k];
        to_hex(id, sizeof id, hex);
        rc = 0;
    }
out:
    free(sh);
    return rc;
}

int bundle_elf_build_id(int fd, char *hex, size_t hexcap)
{
    Elf64_Ehdr eh;
    uint8_t *notes = malloc(MAX_NOTES);
    int rc = -1;

    if (!notes)
        return -1;
    if (read_at(fd, &eh, sizeof eh, 0) != 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr))
        goto out;
    for (uint32_t i = 0; i < eh.e_phnum && i < MAX_PHDRS && rc != 0; i++) {
        Elf64_Phdr ph;
        if (read_at(fd, &ph, sizeof ph, eh.e_phoff + (uint64_t)i * sizeof ph) != 0)
            break;
        if (ph.p_type != PT_NOTE)
            continue;
        size_t n = ph.p_filesz < MAX_NOTES ? (size_t)ph.p_filesz : MAX_NOTES;
        if (read_at(fd, notes, n, ph.p_offset) == 0)
            rc = build_id_in_notes(notes, n, hex, hexcap);
    }
    if (rc != 0)
        rc = id_from_sections(fd, &eh, notes, hex, hexcap);
out:
    free(notes);
    return rc;
}

/* By build-id (modules without one last), then path: equal pairs, from many dumps, end up adjacent. */
static int by_build_id(const void *a, const void *b)
{
    const struct bundle_modref *x = a, *y = b;
    int c = (x->build_id == NULL) - (y->build_id == NULL);

    if (c == 0 && x->build_id)
        c = strcmp(x->build_id, y->build_id);
    return c ? c : strcmp(x->path, y->path);
}

static int same_id(const struct bundle_modref *a, const struct bundle_modref *b)
{
    return a->build_id && b->build_id ? strcmp(a->build_id, b->build_id) == 0
                                      : !a->build_id && !b->build_id && strcmp(a->path, b->path) == 0;
}

static void missing_entry(struct json_w *missing, const struct bundle_modref *m, const char *why)
{
    json_obj(missing);
    json_key(missing, "build_id");
    json_str(missing, m->build_id);
    json_key(missing, "path");
    json_str(missing, m->path);
    json_key(missing, "reason");
    json_str(missing, why);
    json_obj_end(missing);
}

/* Open path and check that it is a regular file with the expected build-id: the fd, or -1 with why. */
static int open_matching(const struct bundle_modref *m, struct stat *st, char *why, size_t whylen)
{
    char found[160];
    int fd = open(m->path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        return -1;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        snprintf(why, whylen, "not a regular file");
    } else if (bundle_elf_build_id(fd, found, sizeof found) != 0) {
        snprintf(why, whylen, "the file on disk has no build-id");
    } else if (strcmp(found, m->build_id) != 0) {
        snprintf(why, whylen, "the file on disk has another build-id (%s): replaced since the crash", found);
    } else {
        return fd;
    }
    close(fd);
    return -1;
}

int bundle_collect_binaries(struct bundle_zout *zo, struct bundle_modref *refs, size_t n, struct json_w *bins,
                            struct json_w *missing, size_t *nmissing, char *err, size_t errlen)
{
    *nmissing = 0;
    qsort(refs, n, sizeof *refs, by_build_id);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && same_id(&refs[i], &refs[j]))
            j++;
        if (!refs[i].build_id) { /* nothing to check a file against: never guess */
            missing_entry(missing, &refs[i], "the dump has no build-id for this module");
            (*nmissing)++;
            fprintf(stderr, "lastgasp: collect: binary %s not included: the dump has no build-id for it\n",
                    refs[i].path);
            i = j;
            continue;
        }
        /* One build-id, maybe under several paths (a symlink, a bind mount): the first that matches. */
        char why[256] = "";
        size_t k;
        for (k = i; k < j; k++) {
            struct stat st;
            char w[256], name[512], sha[65];
            uint64_t size;
            if (k > i && strcmp(refs[k].path, refs[k - 1].path) == 0)
                continue; /* the same file, named by another dump */
            int fd = open_matching(&refs[k], &st, w, sizeof w);

            if (fd < 0) {
                if (!why[0])
                    snprintf(why, sizeof why, "%s", w);
                continue;
            }
            const char *base = render_path_basename(refs[k].path);
            snprintf(name, sizeof name, "%s%s/%s", BUNDLE_BINARIES, refs[k].build_id, base);
            int r = bundle_zout_add_fd(zo, name, fd, st.st_mtime, st.st_mode, &size, sha, err, errlen);
            close(fd);
            if (r != 0)
                return -1;
            json_obj(bins);
            json_key(bins, "name");
            json_str(bins, name);
            json_key(bins, "build_id");
            json_str(bins, refs[k].build_id);
            json_key(bins, "path");
            json_str(bins, refs[k].path);
            json_key(bins, "size");
            json_u64(bins, size);
            json_key(bins, "sha256");
            json_str(bins, sha);
            json_obj_end(bins);
            break;
        }
        if (k == j) {
            missing_entry(missing, &refs[i], why);
            (*nmissing)++;
            fprintf(stderr, "lastgasp: collect: binary %s (%s) not included: %s\n", refs[i].path, refs[i].build_id, why);
        }
        i = j;
    }
    return 0;
}
