/* annotate_read.c — the handler's copy of the annotation table (the writer side is annotate.c).
 *
 * RULES (compromised context): async-signal-safe; no locks, no libc, no allocation (the caller's arena
 * buffers); every loop bounded: LASTGASP_ANNOTATIONS_MAX slots, REP_ANNOTATION_TRIES tries a slot, fixed
 * field sizes. The writers' mutex is never touched: a writer may be the thread that crashed, or be stopped
 * for ever while holding it. A slot whose seq is odd, or changes across the copy, through every try is
 * skipped and counted, never waited for. Stack: under 100 bytes.
 */
#include "rep.h"

/* Relaxed atomic loads: the writer may be storing these bytes at this moment (see annotate.c). */
static void load_bytes(char *dst, const char *src, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* One consistent copy of slot a into c, or 0 when a writer was inside it. */
static int copy_slot(const struct rep_annotation *a, struct rep_annotation *c)
{
    uint32_t before = __atomic_load_n(&a->seq, __ATOMIC_ACQUIRE);

    if (before & 1)
        return 0;
    /* The lengths may be torn mid-change: bound them before they size a copy; the seq check below then
     * throws such a copy away. */
    c->key_len = __atomic_load_n(&a->key_len, __ATOMIC_RELAXED);
    c->value_len = __atomic_load_n(&a->value_len, __ATOMIC_RELAXED);
    if (c->key_len > LASTGASP_ANNOTATION_KEY_MAX)
        c->key_len = LASTGASP_ANNOTATION_KEY_MAX;
    if (c->value_len > LASTGASP_ANNOTATION_VALUE_MAX)
        c->value_len = LASTGASP_ANNOTATION_VALUE_MAX;
    load_bytes(c->key, a->key, c->key_len);
    load_bytes(c->value, a->value, c->value_len);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return __atomic_load_n(&a->seq, __ATOMIC_RELAXED) == before;
}

/* Handler path, reporting thread (rep_report), before the other threads are stopped; also the unit test. */
uint32_t rep_annotations_snapshot(struct rep_annotation *copies, struct mdw_annotation *out, uint32_t *skipped)
{
    uint32_t n = 0;

    *skipped = 0;
    for (int i = 0; i < LASTGASP_ANNOTATIONS_MAX; i++) {
        struct rep_annotation *c = &copies[n];
        int tries = 0, ok = 0;

        while (!ok && tries++ < REP_ANNOTATION_TRIES) {
            ok = copy_slot(&rep_annotations[i], c);
            /* A writer holds a slot odd for a microsecond; a short pause lets one that was preempted
             * finish. Sixteen tries cost at most about a millisecond a slot. */
            if (!ok && tries >= 4)
                ss_nanosleep_ns(50000);
        }
        if (!ok) {
            (*skipped)++;
            continue;
        }
        if (c->key_len == 0 || c->value_len == 0)
            continue; /* a free slot */
        c->key[c->key_len] = 0;
        c->value[c->value_len] = 0;
        out[n].key = c->key;
        out[n].key_len = c->key_len;
        out[n].value = c->value;
        out[n].value_len = c->value_len;
        n++;
    }
    return n;
}
