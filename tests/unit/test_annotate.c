/* test_annotate.c — the annotation table: lastgasp_set_annotation() (reporter/install/annotate.c) and the handler's
 * lock-free copy (reporter/annotate_read.c), the objects as shipped; then through the dump writer and reader.
 *
 * The seqlock is tested against writer threads that never stop changing their slots: every copy the
 * handler's reader keeps must be one that some writer wrote whole. Built a second time with ThreadSanitizer
 * (test_annotate_tsan), which sees every access of writer and reader and reports any data race.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../../formats/read/mdread.h"
#include "../../reporter/rep.h"
#include "check.h"

static struct rep_annotation g_copies[LASTGASP_ANNOTATIONS_MAX];
static struct mdw_annotation g_out[LASTGASP_ANNOTATIONS_MAX];

static uint32_t snapshot(uint32_t *skipped)
{
    uint32_t dummy;
    return rep_annotations_snapshot(g_copies, g_out, skipped ? skipped : &dummy);
}

/* The value of key in the last snapshot, or NULL. */
static const char *find(uint32_t n, const char *key)
{
    for (uint32_t i = 0; i < n; i++)
        if (g_out[i].key_len == strlen(key) && memcmp(g_out[i].key, key, g_out[i].key_len) == 0)
            return g_out[i].value;
    return NULL;
}

static void clear_all(void)
{
    uint32_t n = snapshot(NULL);
    char keys[LASTGASP_ANNOTATIONS_MAX][LASTGASP_ANNOTATION_KEY_MAX + 1];
    for (uint32_t i = 0; i < n; i++)
        memcpy(keys[i], g_out[i].key, g_out[i].key_len + 1);
    for (uint32_t i = 0; i < n; i++)
        CHECK(lastgasp_set_annotation(keys[i], NULL) == LASTGASP_OK);
    CHECK(snapshot(NULL) == 0);
}

static void test_bounds(void)
{
    char key[LASTGASP_ANNOTATION_KEY_MAX + 2], value[LASTGASP_ANNOTATION_VALUE_MAX + 2];

    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = 0;
    memset(value, 'v', sizeof value - 1);
    value[sizeof value - 1] = 0;
    CHECK(lastgasp_set_annotation(NULL, "x") == LASTGASP_ERR_ANNOTATION);
    CHECK(lastgasp_set_annotation("", "x") == LASTGASP_ERR_ANNOTATION);
    CHECK(lastgasp_set_annotation(key, "x") == LASTGASP_ERR_ANNOTATION); /* 64 bytes */
    CHECK(lastgasp_set_annotation("k", value) == LASTGASP_ERR_ANNOTATION); /* 1024 bytes */
    CHECK(snapshot(NULL) == 0); /* nothing stored */
    key[LASTGASP_ANNOTATION_KEY_MAX] = 0;
    value[LASTGASP_ANNOTATION_VALUE_MAX] = 0;
    CHECK(lastgasp_set_annotation(key, value) == LASTGASP_OK);
    uint32_t n = snapshot(NULL);
    CHECK(n == 1 && g_out[0].key_len == 63 && g_out[0].value_len == 1023);
    CHECK(n == 1 && g_out[0].key[63] == 0 && g_out[0].value[1023] == 0 && g_out[0].value[1022] == 'v');
    clear_all();
}

static void test_set_replace_remove(void)
{
    CHECK(lastgasp_set_annotation("a", "1") == LASTGASP_OK);
    CHECK(lastgasp_set_annotation("b", "2") == LASTGASP_OK);
    CHECK(lastgasp_set_annotation("c", "3") == LASTGASP_OK);
    CHECK(lastgasp_set_annotation("a", "one") == LASTGASP_OK);
    CHECK(lastgasp_set_annotation("b", NULL) == LASTGASP_OK);
    CHECK(lastgasp_set_annotation("c", "") == LASTGASP_OK);
    CHECK(lastgasp_set_annotation("never-set", NULL) == LASTGASP_OK);
    uint32_t n = snapshot(NULL);
    CHECK(n == 1 && find(n, "a") && strcmp(find(n, "a"), "one") == 0 && !find(n, "b") && !find(n, "c"));
    /* A freed slot is reused. */
    CHECK(lastgasp_set_annotation("d", "4") == LASTGASP_OK);
    n = snapshot(NULL);
    CHECK(n == 2 && strcmp(find(n, "d"), "4") == 0);
    clear_all();
}

static void test_full(void)
{
    char key[16];
    for (int i = 0; i < LASTGASP_ANNOTATIONS_MAX; i++) {
        snprintf(key, sizeof key, "key%d", i);
        CHECK(lastgasp_set_annotation(key, "v") == LASTGASP_OK);
    }
    CHECK(lastgasp_set_annotation("one-more", "v") == LASTGASP_ERR_ANNOTATION_FULL);
    CHECK(lastgasp_set_annotation("key7", "replaced") == LASTGASP_OK); /* replacing needs no new slot */
    uint32_t n = snapshot(NULL);
    CHECK(n == LASTGASP_ANNOTATIONS_MAX && !find(n, "one-more") && strcmp(find(n, "key7"), "replaced") == 0);
    CHECK(lastgasp_set_annotation("key3", NULL) == LASTGASP_OK);
    CHECK(lastgasp_set_annotation("one-more", "v") == LASTGASP_OK);
    clear_all();
}

/* Bytes that are not valid UTF-8 become '?', one for one; valid sequences stay. */
static void test_utf8(void)
{
    static const struct { const char *in, *out; } cases[] = {
        { "caf\xc3\xa9", "caf\xc3\xa9" },
        { "\xf0\x9f\x92\xa5!", "\xf0\x9f\x92\xa5!" },
        { "bad\xff", "bad?" },
        { "\xc0\xaf", "??" },           /* overlong '/' */
        { "\xed\xa0\x80x", "???x" },    /* a UTF-16 surrogate */
        { "\xf4\x90\x80\x80", "????" }, /* past U+10FFFF */
        { "end\xe2\x82", "end??" },     /* cut short */
        { "\x80lone", "?lone" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(lastgasp_set_annotation("u", cases[i].in) == LASTGASP_OK);
        uint32_t n = snapshot(NULL);
        const char *v = find(n, "u");
        CHECK_MSG(v && strcmp(v, cases[i].out) == 0, "case %zu: got \"%s\"", i, v ? v : "(none)");
    }
    CHECK(lastgasp_set_annotation("k\xff", "v") == LASTGASP_OK);
    CHECK(find(snapshot(NULL), "k?") != NULL);
    clear_all();
}

/* A slot a writer never finishes (it crashed inside it) is skipped and counted, not waited for. */
static void test_stuck_writer(void)
{
    CHECK(lastgasp_set_annotation("ok", "1") == LASTGASP_OK);
    CHECK(lastgasp_set_annotation("stuck", "2") == LASTGASP_OK);
    struct rep_annotation *a = NULL;
    for (int i = 0; i < LASTGASP_ANNOTATIONS_MAX; i++)
        if (rep_annotations[i].key_len == 5)
            a = &rep_annotations[i];
    CHECK(a != NULL);
    if (!a)
        return;
    __atomic_fetch_add(&a->seq, 1, __ATOMIC_SEQ_CST);
    uint32_t skipped = 0, n = snapshot(&skipped);
    CHECK(n == 1 && skipped == 1 && find(n, "ok"));
    __atomic_fetch_add(&a->seq, 1, __ATOMIC_SEQ_CST);
    n = snapshot(&skipped);
    CHECK(n == 2 && skipped == 0);
    clear_all();
}

/* ---- the seqlock against writers that never stop ---- */

#define WRITERS 3
static volatile int g_stop;
static long g_writes; /* the writers' total, so that the reader runs until they have really run */

/* Writer w's values: its letter repeated, the length a function of the letter; so a copy holding bytes of
 * two different writes cannot look whole. */
static size_t len_for(int w, int c) { return (size_t)((c * 37 + w * 101) % LASTGASP_ANNOTATION_VALUE_MAX) + 1; }

static void *writer_main(void *arg)
{
    int w = (int)(intptr_t)arg;
    char key[8], value[LASTGASP_ANNOTATION_VALUE_MAX + 1];
    snprintf(key, sizeof key, "w%d", w);
    for (unsigned i = 0; !__atomic_load_n(&g_stop, __ATOMIC_RELAXED); i++) {
        int c = 'A' + (int)(i % 26);
        size_t n = len_for(w, c);
        memset(value, c, n);
        value[n] = 0;
        /* Now and then the key goes away and comes back, so slots also change from used to free. */
        lastgasp_set_annotation(key, i % 97 == 0 ? NULL : value);
        __atomic_fetch_add(&g_writes, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void test_concurrent_writers(void)
{
    pthread_t t[WRITERS];
    long torn = 0, seen = 0, skipped_total = 0;

    CHECK(lastgasp_set_annotation("steady", "unchanging") == LASTGASP_OK);
    g_stop = 0;
    for (int w = 0; w < WRITERS; w++)
        pthread_create(&t[w], NULL, writer_main, (void *)(intptr_t)w);
    /* Until both sides have done enough, not for a fixed count of rounds: on a loaded machine the writers may not
     * run at all during a fixed count. The round cap only ends a reader the writers starve (then the check below
     * fails). */
    for (long round = 0; round < 20000 || seen <= 2000 || __atomic_load_n(&g_writes, __ATOMIC_RELAXED) < 20000;
         round++) {
        if (round == 20000000)
            break;
        uint32_t skipped, n = snapshot(&skipped);
        skipped_total += skipped;
        for (uint32_t i = 0; i < n; i++) {
            const struct mdw_annotation *a = &g_out[i];
            if (a->key_len == 6 && memcmp(a->key, "steady", 6) == 0) {
                torn += a->value_len != 10 || memcmp(a->value, "unchanging", 10) != 0;
                continue;
            }
            int w = a->key[1] - '0', c = (unsigned char)a->value[0];
            int whole = a->key_len == 2 && w >= 0 && w < WRITERS && c >= 'A' && c <= 'Z' &&
                        a->value_len == len_for(w, c) && a->value[a->value_len] == 0;
            for (uint32_t k = 0; whole && k < a->value_len; k++)
                whole = a->value[k] == c;
            torn += !whole;
            seen++;
        }
    }
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
    for (int w = 0; w < WRITERS; w++)
        pthread_join(t[w], NULL);
    CHECK_MSG(torn == 0, "%ld copies mixed two writes", torn);
    CHECK_MSG(seen > 1000, "only %ld writer values seen", seen);
    printf("concurrent writers: %ld values copied whole, %ld slot copies given up\n", seen, skipped_total);
    clear_all();
}

/* ---- through the dump ---- */

struct membuf {
    uint8_t *p;
    size_t len, cap;
};

static int sink_mem(const void *p, size_t n, void *ctx)
{
    struct membuf *b = ctx;
    if (b->len + n > b->cap)
        return -28;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

/* The table full of the longest keys and values, copied as the handler copies it, written, read back. */
static void test_through_the_dump(void)
{
    char key[LASTGASP_ANNOTATION_KEY_MAX + 1], value[LASTGASP_ANNOTATION_VALUE_MAX + 1];
    for (int i = 0; i < LASTGASP_ANNOTATIONS_MAX; i++) {
        memset(key, 'a' + i % 26, sizeof key - 1);
        key[sizeof key - 1] = 0;
        snprintf(key, 4, "%03d", i);
        key[3] = '-';
        memset(value, '0' + i % 10, sizeof value - 1);
        value[sizeof value - 1] = 0;
        CHECK(lastgasp_set_annotation(key, value) == LASTGASP_OK);
    }
    struct mdw_dump d;
    memset(&d, 0, sizeof d);
    d.signal = 11;
    d.notes_off = LG_NONE;
    d.annotation_count = snapshot(NULL);
    d.annotations = g_out;
    struct membuf b = {malloc(1 << 20), 0, 1 << 20};
    CHECK(mdw_write(&d, sink_mem, &b) > 0);
    struct mdr_dump md;
    char err[256];
    CHECK(mdr_open(&md, b.p, b.len, err, sizeof err) == MDR_OK);
    CHECK_MSG(md.nwarnings == 0, "warning: %s", err);
    CHECK(md.crashpad.present && md.crashpad.nannotations == LASTGASP_ANNOTATIONS_MAX);
    int same = 1;
    for (size_t i = 0; i < md.crashpad.nannotations; i++)
        same &= md.crashpad.annotations[i].key_len == 63 && md.crashpad.annotations[i].value_len == 1023 &&
                memcmp(md.crashpad.annotations[i].key, g_out[i].key, 63) == 0 &&
                memcmp(md.crashpad.annotations[i].value, g_out[i].value, 1023) == 0;
    CHECK(same);
    mdr_close(&md);
    free(b.p);
    clear_all();
}

int main(void)
{
    test_bounds();
    test_set_replace_remove();
    test_full();
    test_utf8();
    test_stuck_writer();
    test_concurrent_writers();
    test_through_the_dump();
    return check_summary();
}
