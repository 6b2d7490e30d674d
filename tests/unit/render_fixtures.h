/* render_fixtures.h — the parsed dumps the renderer tests print (test_render.c, test_render_html.c).
 *
 * The model (struct mdr_dump) is plain C, so a fixture fills it in directly: fill() a C crash from the
 * lastgasp stream, fill_go() a Go crash on top of it. Header-only, static: each test program has its own copy.
 */
#ifndef LASTGASP_TESTS_RENDER_FIXTURES_H
#define LASTGASP_TESTS_RENDER_FIXTURES_H

#include "../../formats/read/mdread.h"
#include "../../formats/minidump/minidump.h"

#include <string.h>

/* A crash as the lastgasp stream describes it: two threads, three frames, two modules. */
struct model {
    struct mdr_dump md;
    struct mdr_module mods[2];
    struct mdr_lg_thread threads[2];
    struct mdr_lg_frame frames[3];
    char path0[32], path1[48];
};

static void fill(struct model *m)
{
    memset(m, 0, sizeof *m);
    strcpy(m->path0, "/usr/bin/crasher");
    strcpy(m->path1, "/lib/x86_64-linux-gnu/libc.so.6");
    m->mods[0] = (struct mdr_module){ .base = 0x55d0c0de0000, .size = 0x5000, .path = m->path0 };
    m->mods[1] = (struct mdr_module){ .base = 0x7f0000000000, .size = 0x200000, .path = m->path1 };
    m->frames[0] = (struct mdr_lg_frame){ .pc = 0x55d0c0de1234, .module_index = 0, .symbol = "crash_null_write",
                                          .symbol_delta = 0x14, .trust = LG_TRUST_CONTEXT };
    m->frames[1] = (struct mdr_lg_frame){ .pc = 0x55d0c0de1300, .module_index = LG_NONE, .symbol = "main",
                                          .symbol_delta = 0x20, .trust = LG_TRUST_CFI };
    m->frames[2] = (struct mdr_lg_frame){ .pc = 0x7f0000029d90, .module_index = LG_NONE, .trust = LG_TRUST_FP };
    m->threads[0] = (struct mdr_lg_thread){ 1235, LG_THREAD_GONE, 2, 1, "worker", 0 };
    m->threads[1] = (struct mdr_lg_thread){ 1234, LG_THREAD_OK, 0, 2, "crasher", 1 };
    m->md.modules = m->mods;
    m->md.nmodules = 2;
    m->md.lg = (struct mdr_lg_info){
        .present = 1, .version = 1, .header_size = 80, .signal = 11, .si_code = 1, .fault_address = 0,
        .pid = 1233, .crashing_tid = 1234, .notes = "maps cut\nno environ",
        .threads = m->threads, .nthreads = 2, .frames = m->frames, .nframes = 3,
    };
}

/* A Go program's crash: goroutine 1 crashed in main.crash (inlined into main.main); 7, 8 and 9 wait in
 * main.worker (7 and 8 on shared frame records, 9 on an identical copy); 10 is in a syscall in libc. */
struct gomodel {
    struct model m;
    struct mdr_go_frame frames[7];
    struct mdr_go_goroutine gs[5];
};

#define GO_NOW 500000000000000ull

static void fill_go(struct gomodel *g)
{
    struct mdr_go_frame *f = g->frames;

    memset(g, 0, sizeof *g);
    fill(&g->m);
    f[0] = (struct mdr_go_frame){ 0x55d0c0de2100, "main.crash", "/src/app/main.go", 12, 1, 0, 0 };
    f[1] = (struct mdr_go_frame){ 0x55d0c0de2100, "main.main", "/src/app/main.go", 20, 0, 0, 0 };
    f[2] = (struct mdr_go_frame){ 0x55d0c0de1800, "runtime.gopark", "/usr/local/go/src/runtime/proc.go", 435, 0, 0, 0 };
    f[3] = (struct mdr_go_frame){ 0x55d0c0de2200, "main.worker", "/src/app/main.go", 30, 0, 0, 0 };
    f[4] = (struct mdr_go_frame){ 0x7f0000029d90, NULL, NULL, 0, 0, 0, 1 };
    f[5] = f[2];
    f[6] = f[3];
    /* Dump order puts the crashing goroutine second here: `show` must still print it first. */
    g->gs[0] = (struct mdr_go_goroutine){ 7, 1, GO_NOW - 210000000000ull, 4, "chan receive", 0, 0, &f[2], 2,
                                          "main.main", "/src/app/main.go", 25 };
    g->gs[1] = (struct mdr_go_goroutine){ 1, 0, 0, 2, NULL, LG_GOROUTINE_CRASHED | LG_GOROUTINE_LOCKED, 1234,
                                          &f[0], 2, NULL, NULL, 0 };
    g->gs[2] = g->gs[0];
    g->gs[2].goid = 8;
    g->gs[2].wait_since_ns = GO_NOW - 10000000000ull;
    g->gs[3] = g->gs[0];
    g->gs[3].goid = 9;
    g->gs[3].frames = &f[5];
    g->gs[4] = (struct mdr_go_goroutine){ 10, 1, 0, 3, NULL, 0, 1235, &f[4], 1, NULL, NULL, 0 };
    g->m.md.go = (struct mdr_go_info){
        .present = 1, .version = 1, .header_size = 56, .go_version = "go1.26.8", .crashing_goid = 1,
        .now_ns = GO_NOW, .goroutines = g->gs, .ngoroutines = 5, .frames = g->frames, .nframes = 7,
    };
}

#endif
