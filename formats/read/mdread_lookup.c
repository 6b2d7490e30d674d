/* mdread_lookup.c — the reader's lookup indexes.
 *
 * Normal context. The indexes keep thread and module lookups O(log n), so that rendering a hostile dump with
 * very many threads, modules or frames stays proportional to its size.
 */
#include "mdread_int.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- lookup indexes ---- */

struct order_key {
    uint64_t key;
    size_t idx;
};

static int order_cmp(const void *a, const void *b)
{
    const struct order_key *x = a, *y = b;

    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

size_t *mdr_sorted_order(struct mdr_reader *rd, size_t n, uint64_t (*key)(const struct mdr_dump *, size_t))
{
    struct order_key *tmp = mdr_calloc(rd, n, sizeof *tmp);
    size_t *order = tmp ? mdr_calloc(rd, n, sizeof *order) : NULL;

    if (order) {
        for (size_t i = 0; i < n; i++)
            tmp[i] = (struct order_key){ key(rd->md, i), i };
        qsort(tmp, n, sizeof *tmp, order_cmp);
        for (size_t i = 0; i < n; i++)
            order[i] = tmp[i].idx;
    }
    free(tmp);
    return order;
}

static uint64_t thread_key(const struct mdr_dump *md, size_t i) { return md->threads[i].tid; }
static uint64_t module_key(const struct mdr_dump *md, size_t i) { return md->modules[i].base; }

void mdr_index_threads(struct mdr_reader *rd)
{
    rd->md->thread_order = mdr_sorted_order(rd, rd->md->nthreads, thread_key);
}

void mdr_index_modules(struct mdr_reader *rd)
{
    struct mdr_dump *md = rd->md;

    md->module_order = mdr_sorted_order(rd, md->nmodules, module_key);
    for (size_t i = 0; md->module_order && i + 1 < md->nmodules; i++) {
        const struct mdr_module *a = &md->modules[md->module_order[i]];
        const struct mdr_module *b = &md->modules[md->module_order[i + 1]];

        if (b->base - a->base < a->size)
            md->modules_overlap = 1;
    }
}

long mdr_find_thread(const struct mdr_dump *md, uint32_t tid)
{
    size_t lo = 0, hi = md->nthreads;

    if (!md->thread_order) { /* a model filled in by hand (tests) has no index */
        for (size_t i = 0; i < md->nthreads; i++)
            if (md->threads[i].tid == tid)
                return (long)i;
        return -1;
    }
    while (lo < hi) { /* first position whose tid >= tid */
        size_t mid = lo + (hi - lo) / 2;

        if (md->threads[md->thread_order[mid]].tid < tid)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < md->nthreads && md->threads[md->thread_order[lo]].tid == tid)
        return (long)md->thread_order[lo];
    return -1;
}

const struct mdr_thread *mdr_thread_by_tid(const struct mdr_dump *md, uint32_t tid)
{
    long i = mdr_find_thread(md, tid);

    return i < 0 ? NULL : &md->threads[i];
}

const struct mdr_module *mdr_module_at(const struct mdr_dump *md, uint64_t addr)
{
    size_t lo = 0, hi = md->nmodules;

    if (!md->module_order || md->modules_overlap) {
        for (size_t i = 0; i < md->nmodules; i++) {
            const struct mdr_module *m = &md->modules[i];

            if (addr >= m->base && addr - m->base < m->size)
                return m;
        }
        return NULL;
    }
    while (lo < hi) { /* first position whose base > addr */
        size_t mid = lo + (hi - lo) / 2;

        if (md->modules[md->module_order[mid]].base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0) {
        const struct mdr_module *m = &md->modules[md->module_order[lo - 1]];

        if (addr - m->base < m->size)
            return m;
    }
    return NULL;
}
