/* annotate.c — lastgasp_set_annotation(): the writer side of the annotation table (normal context).
 *
 * The table (rep.h, struct rep_annotation) is static, so it exists before lastgasp_install() and needs no
 * allocation. Writers are serialized by a mutex; the crash handler never takes it: it reads the slots as
 * seqlocks (annotate_read.c). Each change of a slot is bracketed here: seq made odd, fields stored with
 * relaxed atomics (the handler may be copying them at that very moment, and a plain store racing with its
 * loads would be undefined behaviour), seq made even with a release store. The ordering argument is Boehm's,
 * "Can seqlocks get along with programming language memory models?" (MSPC 2012): the release fence after the
 * odd store pairs with the reader's acquire fence before its second load of seq.
 */
#include "../rep.h"

#include <pthread.h>
#include <string.h>

struct rep_annotation rep_annotations[LASTGASP_ANNOTATIONS_MAX];

/* Serializes writers. Held only around a table search and a slot change: a few microseconds. */
static pthread_mutex_t annotations_lock = PTHREAD_MUTEX_INITIALIZER;

static void store_bytes_nasync(char *dst, const char *src, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        __atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
}

/* Change one slot under the seqlock; key NULL frees it. Caller holds annotations_lock. */
static void slot_write_nasync(struct rep_annotation *a, const char *key, uint32_t klen, const char *value,
                              uint32_t vlen)
{
    uint32_t seq = a->seq; /* only writers change seq, and the caller holds their lock */

    __atomic_store_n(&a->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    if (key) {
        store_bytes_nasync(a->key, key, klen);
        store_bytes_nasync(a->value, value, vlen);
    }
    __atomic_store_n(&a->key_len, key ? klen : 0, __ATOMIC_RELAXED);
    __atomic_store_n(&a->value_len, key ? vlen : 0, __ATOMIC_RELAXED);
    __atomic_store_n(&a->seq, seq + 2, __ATOMIC_RELEASE);
}

/* Copy s[0..n) into out, each byte that is not part of a valid UTF-8 sequence (overlong forms, surrogates and
 * code points past U+10FFFF included) replaced by '?': the length stays n, and every reader can decode the
 * result (rust-minidump rejects the whole dictionary on one invalid string). */
static void utf8_clean_nasync(const char *s, uint32_t n, char *out)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t i = 0;

    while (i < n) {
        unsigned char c = p[i];
        uint32_t need = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2
                      : c >= 0xf0 && c <= 0xf4 ? 3 : 9;
        unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80; /* overlong forms */
        unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf; /* surrogates, past U+10FFFF */
        int ok = need != 9 && need < n - i;

        for (uint32_t k = 1; ok && k <= need; k++)
            ok = p[i + k] >= (k == 1 ? lo : 0x80) && p[i + k] <= (k == 1 ? hi : 0xbf);
        if (!ok) {
            out[i++] = '?';
            continue;
        }
        memcpy(out + i, s + i, need + 1);
        i += need + 1;
    }
}

int lastgasp_set_annotation(const char *key, const char *value)
{
    char k[LASTGASP_ANNOTATION_KEY_MAX], v[LASTGASP_ANNOTATION_VALUE_MAX];
    size_t klen = key ? strnlen(key, LASTGASP_ANNOTATION_KEY_MAX + 1) : 0;
    size_t vlen = value ? strnlen(value, LASTGASP_ANNOTATION_VALUE_MAX + 1) : 0;
    struct rep_annotation *slot = NULL, *free_slot = NULL;
    int err = LASTGASP_OK;

    if (klen == 0 || klen > LASTGASP_ANNOTATION_KEY_MAX || vlen > LASTGASP_ANNOTATION_VALUE_MAX)
        return LASTGASP_ERR_ANNOTATION;
    utf8_clean_nasync(key, (uint32_t)klen, k);
    utf8_clean_nasync(value ? value : "", (uint32_t)vlen, v);

    pthread_mutex_lock(&annotations_lock);
    for (int i = 0; i < LASTGASP_ANNOTATIONS_MAX && !slot; i++) {
        struct rep_annotation *a = &rep_annotations[i];

        if (a->key_len == klen && memcmp(a->key, k, klen) == 0)
            slot = a;
        else if (a->key_len == 0 && !free_slot)
            free_slot = a;
    }
    if (vlen == 0) {
        if (slot)
            slot_write_nasync(slot, NULL, 0, NULL, 0);
    } else if (slot || free_slot) {
        slot_write_nasync(slot ? slot : free_slot, k, (uint32_t)klen, v, (uint32_t)vlen);
    } else {
        err = LASTGASP_ERR_ANNOTATION_FULL;
    }
    pthread_mutex_unlock(&annotations_lock);
    return err;
}
