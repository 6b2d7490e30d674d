/* test_buildid.c — md_build_id_note (formats/minidump/buildid.c, the object as shipped in the handler) on note
 * areas laid out here: the id found after other notes, a note from another vendor skipped, an area that ends
 * inside a note, a size field that would wrap. */
#include "../../formats/minidump/minidump.h"
#include "check.h"

#include <string.h>

/* Append one note (namesz, descsz, type, name padded to 4, desc padded to 4) at *at. */
static void note(uint8_t *buf, size_t *at, uint32_t type, const char *name, uint32_t namesz, const uint8_t *desc,
                 uint32_t descsz)
{
    uint32_t h[3] = {namesz, descsz, type};
    memcpy(buf + *at, h, sizeof h);
    *at += sizeof h;
    memcpy(buf + *at, name, namesz);
    *at += (namesz + 3) & ~3u;
    memcpy(buf + *at, desc, descsz);
    *at += (descsz + 3) & ~3u;
}

int main(void)
{
    uint8_t buf[256] = {0}, id[20], abi[16] = {0};
    const uint8_t *got = NULL;
    uint32_t len = 0;
    size_t n = 0;
    for (int i = 0; i < 20; i++)
        id[i] = (uint8_t)(0xa0 + i);

    note(buf, &n, 1 /* NT_GNU_ABI_TAG */, "GNU", 4, abi, sizeof abi);
    note(buf, &n, 3, "Go\0", 4, id, 8); /* type 3 from another vendor: not a build-id */
    size_t id_at = n;
    note(buf, &n, 3, "GNU", 4, id, sizeof id);
    CHECK(md_build_id_note(buf, n, &got, &len) == 1);
    CHECK(len == sizeof id && got == buf + id_at + 16 && memcmp(got, id, sizeof id) == 0);

    CHECK(md_build_id_note(buf, n - 4, &got, &len) == 0); /* the area ends inside the id's note */
    CHECK(md_build_id_note(buf, id_at, &got, &len) == 0); /* no build-id before it */
    CHECK(md_build_id_note(buf, 0, &got, &len) == 0);

    uint8_t wrap[16] = {0};
    uint32_t h[3] = {0xfffffffdu, 0xfffffffdu, 3};
    memcpy(wrap, h, sizeof h);
    CHECK(md_build_id_note(wrap, sizeof wrap, &got, &len) == 0);
    return check_summary();
}
