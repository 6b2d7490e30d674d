/* json_utf8.c — the tool's one UTF-8 decoder: the JSON writer's, and through render_utf8_next() the text and
 * HTML renderers' and the pprof string cleaner's, so that every output replaces the same bad bytes the same way.
 *
 * Normal context. Invalid input becomes U+FFFD one maximal subpart at a time (Unicode's "best practice" in
 * chapter 3, "U+FFFD Substitution of Maximal Subparts"): an overlong form, a surrogate, a code point past
 * U+10FFFF or a cut sequence costs one U+FFFD per byte that could not start a sequence.
 */
#include "json.h"

size_t json_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char b0 = s[0];
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    size_t need;
    uint32_t c;

    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        need = 1, c = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        need = 2, c = b0 & 0x0f;
        if (b0 == 0xe0)
            lo = 0xa0; /* overlong */
        if (b0 == 0xed)
            hi = 0x9f; /* UTF-16 surrogates */
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        need = 3, c = b0 & 0x07;
        if (b0 == 0xf0)
            lo = 0x90; /* overlong */
        if (b0 == 0xf4)
            hi = 0x8f; /* past U+10FFFF */
    } else {
        *cp = 0xfffd;
        return 1;
    }
    for (size_t k = 1; k <= need; k++) {
        unsigned char b = k < n ? s[k] : 0;

        if (k >= n || b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) {
            *cp = 0xfffd;
            return k;
        }
        c = c << 6 | (b & 0x3f);
    }
    *cp = c;
    return need + 1;
}
