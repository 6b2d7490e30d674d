/* bundle_read.c — open a bundle for `lastgasp show|json`, refusing one whose entry names could escape an
 * extraction directory, and read an entry whole with its CRC checked.
 *
 * Normal context. A bundle may come from anywhere (a crashed host, an upload): every name is checked before
 * anything is read, and an entry is read into a buffer that grows as bytes arrive, bounded by the largest
 * minidump, so a size field that lies cannot make us allocate more than what is there.
 */
#include "bundle.h"
#include "../read/mdread.h"

#include <minizip/unzip.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_BYTES 4096
#define MAX_ENTRY ((uint64_t)UINT32_MAX + 1)

int bundle_is_zip(const char *path)
{
    unsigned char magic[4];
    FILE *f = fopen(path, "rb");
    int zip = 0;

    if (f) {
        zip = fread(magic, 1, 4, f) == 4 && magic[0] == 'P' && magic[1] == 'K' &&
              ((magic[2] == 3 && magic[3] == 4) || (magic[2] == 5 && magic[3] == 6));
        fclose(f);
    }
    return zip;
}

/* Both separators count: an archive made elsewhere may use '\', and extractors on Windows honour it. */
int bundle_name_escapes(const char *name)
{
    const char *p = name;

    if (!*name || name[0] == '/' || name[0] == '\\')
        return 1;
    if (((name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z') && name[1] == ':')
        return 1; /* a drive letter: absolute on Windows */
    while (*p) {
        size_t n = strcspn(p, "/\\");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return 1;
        p += n;
        if (*p)
            p++;
    }
    return 0;
}

int bundle_open(struct bundle *b, const char *path, char *err, size_t errlen)
{
    char name[NAME_MAX_BYTES];
    int r;

    memset(b, 0, sizeof *b);
    b->z = unzOpen64(path);
    if (!b->z) {
        snprintf(err, errlen, "not a readable zip bundle");
        return -1;
    }
    for (r = unzGoToFirstFile(b->z); r == UNZ_OK; r = unzGoToNextFile(b->z)) {
        unz_file_info64 fi;
        if (unzGetCurrentFileInfo64(b->z, &fi, name, sizeof name, NULL, 0, NULL, 0) != UNZ_OK ||
            fi.size_filename >= sizeof name) {
            snprintf(err, errlen, "entry %zu: name unreadable or longer than %d bytes", b->n, NAME_MAX_BYTES - 1);
            return -1;
        }
        /* A NUL inside the stored name would hide the rest of it from the check below. */
        if (strlen(name) != fi.size_filename || bundle_name_escapes(name)) {
            snprintf(err, errlen, "refusing the bundle: entry name \"%.200s\" would escape an extraction "
                     "directory (absolute, or with a \"..\" component)", name);
            return -1;
        }
        char **names = realloc(b->names, (b->n + 1) * sizeof *names);
        if (!names || !(names[b->n] = strdup(name))) {
            if (names)
                b->names = names;
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        b->names = names;
        b->n++;
    }
    if (r != UNZ_END_OF_LIST_OF_FILE) {
        snprintf(err, errlen, "the zip's central directory is damaged after entry %zu", b->n);
        return -1;
    }
    return 0;
}

int bundle_read(struct bundle *b, const char *name, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    size_t cap = 1 << 16;
    unz_file_info64 fi;
    int got = 0;

    *buf = NULL;
    *len = 0;
    if (unzLocateFile(b->z, name, 1) != UNZ_OK) {
        snprintf(err, errlen, "no entry %s in the bundle", name);
        return -1;
    }
    if (unzGetCurrentFileInfo64(b->z, &fi, NULL, 0, NULL, 0, NULL, 0) != UNZ_OK || unzOpenCurrentFile(b->z) != UNZ_OK) {
        snprintf(err, errlen, "%s: cannot open the entry (encrypted, or an unknown compression)", name);
        return -1;
    }
    *buf = malloc(cap);
    while (*buf) {
        if (*len == cap) {
            uint8_t *nb = cap < MAX_ENTRY ? realloc(*buf, cap * 2) : NULL;
            if (!nb)
                break;
            *buf = nb;
            cap *= 2;
        }
        got = unzReadCurrentFile(b->z, *buf + *len, (unsigned)(cap - *len < (1u << 30) ? cap - *len : 1u << 30));
        if (got <= 0)
            break;
        *len += (size_t)got;
    }
    /* minizip checks the CRC only when the whole declared size was read: a deflate stream that ends early
     * reads as a clean end, so the size is compared too. */
    int closed = unzCloseCurrentFile(b->z); /* UNZ_CRCERROR when the bytes are not the ones zipped */
    if (!*buf || got != 0 || closed != UNZ_OK || *len != fi.uncompressed_size) {
        snprintf(err, errlen, "%s: %s", name,
                 !*buf || got > 0 ? "larger than any dump, or out of memory"
                 : got < 0 ? "damaged (inflate failed)"
                 : closed != UNZ_OK ? "damaged (CRC mismatch)" : "damaged (shorter than its recorded size)");
        free(*buf);
        *buf = NULL;
        return -1;
    }
    return 0;
}

void bundle_close(struct bundle *b)
{
    if (b->z)
        unzClose(b->z);
    for (size_t i = 0; i < b->n; i++)
        free(b->names[i]);
    free(b->names);
    memset(b, 0, sizeof *b);
}

int bundle_is_dump(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, ".dmp") == 0 && strncmp(name, BUNDLE_BINARIES, 9) != 0;
}

int bundle_read_dump(struct bundle *b, const char *name, struct mdr_dump *md, char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;

    memset(md, 0, sizeof *md);
    if (bundle_read(b, name, &buf, &len, err, errlen) != 0)
        return -1;
    int rc = mdr_open(md, buf, len, err, errlen);
    md->owned = buf;
    return rc == MDR_OK ? 0 : -1;
}
