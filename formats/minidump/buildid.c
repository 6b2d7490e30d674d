/* buildid.c — find the GNU build-id in an ELF note area: the id a minidump's CodeView record carries and symbol
 * servers match modules by. One walk for the handler (notes read from memory: reporter/modules.c; a symbol
 * file's notes: reporter/symbols.c) and the tool (a binary on disk: formats/bundle/binaries.c).
 *
 * Any context, the handler's included: no call at all (byte loads, so neither alignment nor the compiler's
 * memcpy matters), and the loop ends at the area's end because each note moves it forward.
 */
#include "minidump.h"

static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

int md_build_id_note(const uint8_t *notes, uint64_t size, const uint8_t **id, uint32_t *len)
{
    for (uint64_t off = 0; off + 12 <= size;) {
        uint32_t namesz = le32(notes + off), descsz = le32(notes + off + 4), type = le32(notes + off + 8);
        uint64_t name_at = off + 12, desc_at = name_at + ((namesz + 3ull) & ~3ull);
        uint64_t next = desc_at + ((descsz + 3ull) & ~3ull);
        if (next > size || next <= off)
            return 0;
        const uint8_t *name = notes + name_at;
        if (type == 3 /* NT_GNU_BUILD_ID */ && namesz == 4 && name[0] == 'G' && name[1] == 'N' && name[2] == 'U' &&
            name[3] == 0 && descsz > 0) {
            *id = notes + desc_at;
            *len = descsz;
            return 1;
        }
        off = next;
    }
    return 0;
}
