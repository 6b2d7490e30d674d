/* strtab.c — the dump's string table: NUL-terminated strings, each stored once.
 *
 * RULES (compromised context): async-signal-safe, no allocation (buffers come from the arena),
 * bounded probing. 500 threads with the same stack share one copy of each function name.
 */
#include "rep.h"

static uint32_t hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

void rep_strtab_init(struct rep_strtab *st, char *buf, uint32_t cap, uint32_t *slots, uint32_t nslots)
{
    st->buf = buf;
    st->len = 0;
    st->cap = cap;
    st->slots = slots;
    st->nslots = nslots;
    st->full = 0;
}

uint32_t rep_strtab_add(struct rep_strtab *st, const char *s, size_t n)
{
    uint32_t h = hash(s, n);
    for (uint32_t probe = 0; probe < st->nslots; probe++) {
        uint32_t *slot = &st->slots[(h + probe) % st->nslots];
        if (*slot == 0) {
            if (st->len + n + 1 > st->cap) {
                st->full = 1;
                return LG_NONE;
            }
            uint32_t off = st->len;
            ss_memcpy(st->buf + off, s, n);
            st->buf[off + n] = 0;
            st->len += (uint32_t)n + 1;
            *slot = off + 1;
            return off;
        }
        const char *have = st->buf + *slot - 1;
        if (ss_strnlen(have, n + 1) == n && ss_memcmp(have, s, n) == 0)
            return *slot - 1;
    }
    st->full = 1;
    return LG_NONE;
}
