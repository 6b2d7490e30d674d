/* test_render.c — unit tests for the renderers (formats/render/, formats/minidump/signames.c).
 *
 * The parsed model (struct mdr_dump) is plain C, so these tests fill it in directly instead of building bytes:
 * what is checked here is the text the tools print — the exact `show` lines, JSON escaping and nulls, and the
 * signal and si_code names.
 */
#include "../../formats/read/mdread.h"
#include "../../formats/minidump/minidump.h"
#include "../../formats/render/render.h"
#include "check.h"
#include "render_fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int starts_with(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Render into a heap string; the caller frees it. */
static char *render(int json, const struct mdr_dump *md)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    if ((json ? render_json(f, md) : render_show(f, md)) != 0)
        printf("render returned an error\n");
    fclose(f);
    return buf;
}

static void test_names(void)
{
    CHECK(strcmp(md_signal_name(11), "SIGSEGV") == 0);
    CHECK(strcmp(md_signal_name(1), "SIGHUP") == 0);
    CHECK(strcmp(md_signal_name(16), "SIGSTKFLT") == 0);
    CHECK(strcmp(md_signal_name(31), "SIGSYS") == 0);
    CHECK(md_signal_name(0) == NULL && md_signal_name(32) == NULL && md_signal_name(0xffffffffu) == NULL);
    for (uint32_t s = 1; s < 32; s++)
        CHECK(md_signal_name(s) != NULL && strncmp(md_signal_name(s), "SIG", 3) == 0);

    CHECK(strcmp(md_si_code_name(11, 1), "SEGV_MAPERR") == 0);
    CHECK(strcmp(md_si_code_name(11, 2), "SEGV_ACCERR") == 0);
    CHECK(strcmp(md_si_code_name(11, 3), "SEGV_BNDERR") == 0);
    CHECK(strcmp(md_si_code_name(11, 4), "SEGV_PKUERR") == 0);
    CHECK(strcmp(md_si_code_name(7, 1), "BUS_ADRALN") == 0);
    CHECK(strcmp(md_si_code_name(7, 2), "BUS_ADRERR") == 0);
    CHECK(strcmp(md_si_code_name(7, 3), "BUS_OBJERR") == 0);
    CHECK(strcmp(md_si_code_name(8, 1), "FPE_INTDIV") == 0);
    CHECK(strcmp(md_si_code_name(8, 7), "FPE_FLTINV") == 0);
    CHECK(strcmp(md_si_code_name(4, 1), "ILL_ILLOPC") == 0);
    CHECK(strcmp(md_si_code_name(4, 2), "ILL_ILLOPN") == 0);
    CHECK(strcmp(md_si_code_name(5, 1), "TRAP_BRKPT") == 0);
    CHECK(strcmp(md_si_code_name(5, 2), "TRAP_TRACE") == 0);
    CHECK(strcmp(md_si_code_name(31, 1), "SYS_SECCOMP") == 0);
    CHECK(strcmp(md_si_code_name(6, 0), "SI_USER") == 0);
    CHECK(strcmp(md_si_code_name(11, 0x80), "SI_KERNEL") == 0);
    CHECK(strcmp(md_si_code_name(10, -1), "SI_QUEUE") == 0);
    CHECK(strcmp(md_si_code_name(6, -6), "SI_TKILL") == 0);
    CHECK(md_si_code_name(11, 99) == NULL);
    CHECK(md_si_code_name(8, 9) == NULL);     /* a hole in the FPE table */
    CHECK(md_si_code_name(10, 1) == NULL);    /* SIGUSR1 has no fault codes */
    CHECK(md_si_code_name(11, -99) == NULL);
}

static void test_utf8(void)
{
    uint32_t cp;

    CHECK(render_utf8_next((const unsigned char *)"A", 1, &cp) == 1 && cp == 'A');
    CHECK(render_utf8_next((const unsigned char *)"\xc3\xa9", 2, &cp) == 2 && cp == 0xe9);
    CHECK(render_utf8_next((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp) == 4 && cp == 0x1f600);
    CHECK(render_utf8_next((const unsigned char *)"\xef\xbf\xbd", 3, &cp) == 3 && cp == 0xfffd);
    /* invalid: lone continuation, overlong, surrogate, past U+10FFFF, truncated */
    CHECK(render_utf8_next((const unsigned char *)"\x80", 1, &cp) == 1 && cp == 0xfffd);
    CHECK(render_utf8_next((const unsigned char *)"\xc0\xaf", 2, &cp) == 1 && cp == 0xfffd);
    CHECK(render_utf8_next((const unsigned char *)"\xe0\x80\xaf", 3, &cp) == 1 && cp == 0xfffd);
    CHECK(render_utf8_next((const unsigned char *)"\xed\xa0\x80", 3, &cp) == 1 && cp == 0xfffd);
    CHECK(render_utf8_next((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp) == 1 && cp == 0xfffd);
    CHECK(render_utf8_next((const unsigned char *)"\xe2\x82", 2, &cp) == 2 && cp == 0xfffd);
    CHECK(render_utf8_next((const unsigned char *)"\xe2\x82x", 3, &cp) == 2 && cp == 0xfffd);
}

static void test_show(void)
{
    struct model m;
    char *out;

    fill(&m);
    out = render(0, &m.md);
    CHECK(out != NULL);
    if (!out)
        return;
    CHECK(starts_with(out, "SIGSEGV (SEGV_MAPERR) at 0x0 in thread 1234 (crasher), pid 1233\n"));
    /* the crashing thread first, although the dump lists it second */
    CHECK(strstr(out, "\nThread 1234 (crasher) crashed:\n"
                      "#0  0x000055d0c0de1234 in crash_null_write+0x14 (crasher)\n"
                      "#1  0x000055d0c0de1300 in main+0x20 (crasher)\n") != NULL);
    CHECK(strstr(out, "\nThread 1235 (worker) [exited]:\n"
                      "#0  0x00007f0000029d90 in ?? (libc.so.6+0x29d90)\n") != NULL);
    CHECK(strstr(out, "Thread 1234") < strstr(out, "Thread 1235"));
    CHECK(strstr(out, "\nModules:\n  0x000055d0c0de0000 0x00005000  (no build-id)") != NULL);
    CHECK(strstr(out, "\nNotes:\n  maps cut\n  no environ\n") != NULL);
    free(out);

    /* Hostile names cannot reach the terminal as control sequences. */
    m.threads[1].name = "evil\033]0;pwned\007\xff";
    out = render(0, &m.md);
    CHECK(out && strstr(out, "in thread 1234 (evil?]0;pwned?\xef\xbf\xbd), pid 1233") != NULL);
    free(out);

    /* A user-sent signal says who sent it, not a fault address. */
    fill(&m);
    m.md.lg.signal = 6;
    m.md.lg.si_code = -6;
    m.md.lg.sender_pid = 1233;
    m.md.lg.sender_uid = 1000;
    out = render(0, &m.md);
    CHECK(starts_with(out, "SIGABRT (SI_TKILL) from pid 1233 (uid 1000) in thread 1234 (crasher), pid 1233\n"));
    free(out);
}

static void test_json(void)
{
    struct model m;
    char *out;

    fill(&m);
    m.threads[1].name = "q\"b\\n\n\x01\x7f\xff\xc3\xa9";
    out = render(1, &m.md);
    CHECK(out != NULL);
    if (!out)
        return;
    CHECK(starts_with(out, "{\"format\":{\"name\":\"lastgasp-json\",\"version\":1},\"signal\":{\"number\":11,\"name\":\"SIGSEGV\",\"code\":1,\"code_name\":\"SEGV_MAPERR\","
                           "\"address\":\"0x0\"},\"pid\":1233,\"crashing_tid\":1234,"));
    CHECK(strstr(out, "\"name\":\"q\\\"b\\\\n\\n\\u0001\\u007f\\ufffd\xc3\xa9\"") != NULL);
    CHECK(strstr(out, "{\"pc\":\"0x55d0c0de1234\",\"function\":\"crash_null_write\",\"offset\":20,\"file\":null,"
                      "\"line\":null,\"module\":\"crasher\",\"inlined\":false,\"trust\":\"context\"}") != NULL);
    CHECK(strstr(out, "{\"pc\":\"0x7f0000029d90\",\"function\":null,\"offset\":null,\"file\":null,\"line\":null,"
                      "\"module\":\"libc.so.6\",\"inlined\":false,\"trust\":\"fp\"}") != NULL);
    CHECK(strstr(out, "\"crashed\":true,\"status\":\"ok\"") != NULL);
    CHECK(strstr(out, "\"tid\":1235,\"name\":\"worker\",\"crashed\":false,\"status\":\"gone\"") != NULL);
    CHECK(strstr(out, "{\"base\":\"0x55d0c0de0000\",\"size\":20480,\"path\":\"/usr/bin/crasher\",\"build_id\":null,"
                      "\"debug_info\":null}"));
    CHECK(strstr(out, "\"notes\":\"maps cut\\nno environ\"") != NULL);
    CHECK(strstr(out, "\"warnings\":[],\"go\":null}\n") != NULL);
    CHECK(strchr(out, '\n') == out + strlen(out) - 1); /* one line, one object */
    CHECK(strstr(out, "\"process_name\":null,\"container\":null,") != NULL);
    free(out);

    /* What the tool's debug-info pass adds (formats/debuginfo/debuginfo.c): file:line, an inlined frame without an
     * offset, and where the lines came from. */
    struct mdr_lg_frame dbg_frames[4] = { m.frames[0], m.frames[0], m.frames[1], m.frames[2] };
    dbg_frames[0].symbol = "store";
    dbg_frames[0].inlined = 1;
    dbg_frames[0].file = "/src/c.c";
    dbg_frames[0].line = 7;
    dbg_frames[1].file = "/src/c.c";
    dbg_frames[1].line = 12;
    m.threads[1].frame_count = 3;
    m.threads[0].first_frame = 3;
    m.md.lg.frames = dbg_frames;
    m.md.lg.nframes = 4;
    m.mods[0].debug_from = "debuginfod";
    m.mods[0].debug_url = "http://127.0.0.1:1";
    m.mods[0].debug_path = "/cache/x/debuginfo";
    out = render(1, &m.md);
    CHECK(out && strstr(out, "{\"pc\":\"0x55d0c0de1234\",\"function\":\"store\",\"offset\":null,\"file\":\"/src/c.c\","
                             "\"line\":7,\"module\":\"crasher\",\"inlined\":true,\"trust\":\"context\"},"
                             "{\"pc\":\"0x55d0c0de1234\",\"function\":\"crash_null_write\",\"offset\":20,"
                             "\"file\":\"/src/c.c\",\"line\":12,\"module\":\"crasher\",\"inlined\":false,"));
    CHECK(out && strstr(out, "\"debug_info\":{\"from\":\"debuginfod\",\"path\":\"/cache/x/debuginfo\","
                             "\"url\":\"http://127.0.0.1:1\",\"note\":null}"));
    free(out);
    out = render(0, &m.md);
    CHECK(out && strstr(out, "in store [inlined] at /src/c.c:7 (crasher)\n"));
    CHECK(out && strstr(out, "in crash_null_write+0x14 at /src/c.c:12 (crasher)\n"));
    CHECK(out && strstr(out, "      lines: debuginfod http://127.0.0.1:1, /cache/x/debuginfo\n"));
    free(out);
    fill(&m);

    /* Container identity: the hostname, and /proc/self/cgroup line by line; a missing half is null. */
    m.md.process_name = "crasher";
    m.md.hostname = (struct mdr_bytes){ (const uint8_t *)"pod-7\"x", 7 };
    m.md.cgroup = (struct mdr_bytes){ (const uint8_t *)"1:cpu:/a\n0::/kubepods/p1/c2\n", 28 };
    out = render(1, &m.md);
    CHECK(out && strstr(out, "\"process_name\":\"crasher\",\"container\":{\"hostname\":\"pod-7\\\"x\","
                             "\"cgroup\":[\"1:cpu:/a\",\"0::/kubepods/p1/c2\"]},") != NULL);
    free(out);
    out = render(0, &m.md);
    CHECK(out && strstr(out, "\nHost: pod-7\"x, cgroup 1:cpu:/a; 0::/kubepods/p1/c2\n") != NULL);
    free(out);
    m.md.hostname = (struct mdr_bytes){ NULL, 0 };
    out = render(1, &m.md);
    CHECK(out && strstr(out, "\"container\":{\"hostname\":null,\"cgroup\":[") != NULL);
    free(out);

    /* Nothing known: nulls, never guesses. */
    memset(&m, 0, sizeof m);
    out = render(1, &m.md);
    CHECK(out && strcmp(out, "{\"format\":{\"name\":\"lastgasp-json\",\"version\":1},\"signal\":null,\"pid\":null,\"crashing_tid\":null,\"sender\":null,\"time\":null,"
                             "\"threads\":[],\"modules\":[],\"notes\":null,\"system\":null,\"cmdline\":null,"
                             "\"process_name\":null,\"container\":null,\"annotations\":null,\"truncated\":null,"
                             "\"streams\":[],\"warnings\":[],\"go\":null}\n") == 0);
    free(out);
}

static void test_go_show(void)
{
    struct gomodel g;
    char *out;

    fill_go(&g);
    out = render(0, &g.m.md);
    CHECK(out != NULL);
    if (!out)
        return;
    CHECK(starts_with(out, "SIGSEGV (SEGV_MAPERR) at 0x0 in thread 1234 (crasher), pid 1233\n"
                           "Go: go1.26.8, 5 goroutines\n"
                           "\n"
                           "goroutine 1 [running, locked to thread]:\n"
                           "main.crash(...)\n"
                           "\t/src/app/main.go:12\n"
                           "main.main()\n"
                           "\t/src/app/main.go:20 pc=0x55d0c0de2100\n"
                           "\n"
                           "3 goroutines [chan receive]: 7, 8, 9\n"
                           "runtime.gopark()\n"
                           "\t/usr/local/go/src/runtime/proc.go:435 pc=0x55d0c0de1800\n"
                           "main.worker()\n"
                           "\t/src/app/main.go:30 pc=0x55d0c0de2200\n"
                           "created by main.main in goroutine 1\n"
                           "\t/src/app/main.go:25\n"
                           "\n"
                           "goroutine 10 [syscall]:\n"
                           "?\?\n"
                           "\t(C) pc=0x7f0000029d90\n"
                           "\n"
                           "Thread 1234 (crasher) crashed:\n"));
    CHECK(strstr(out, "\nThread 1235 (worker) [exited]:\n") != NULL);
    CHECK(strstr(out, "\nModules:\n") != NULL && strstr(out, "\nNotes:\n  maps cut\n  no environ\n") != NULL);
    free(out);

    /* Apart, goroutine 7 prints as the runtime prints it, its wait in whole minutes; 8 and 9 still group,
     * and a group created from different goroutines does not name one. Past _Gdeadextra, a number. */
    fill_go(&g);
    g.gs[2].wait_reason = g.gs[3].wait_reason = "select";
    g.gs[3].parent_goid = 2;
    g.gs[4].status = 12;
    g.gs[4].flags = LG_GOROUTINE_TRUNCATED;
    g.m.md.go.flags = LG_GO_FRAMES_TRUNCATED | LG_GO_NO_GOROUTINE_LIST;
    g.m.md.go.notes = "allgs not found";
    out = render(0, &g.m.md);
    CHECK(out && strstr(out, "\nGo: go1.26.8, 5 goroutines\n"
                             "Note: some goroutine stacks were cut at the writer's frame bound\n"
                             "Note: the runtime's goroutine list was not found; only goroutines running on "
                             "threads were captured\n") != NULL);
    CHECK(out && strstr(out, "\n\ngoroutine 7 [chan receive, 3 minutes]:\n"
                             "runtime.gopark()\n"
                             "\t/usr/local/go/src/runtime/proc.go:435 pc=0x55d0c0de1800\n"
                             "main.worker()\n"
                             "\t/src/app/main.go:30 pc=0x55d0c0de2200\n"
                             "created by main.main in goroutine 1\n"
                             "\t/src/app/main.go:25\n"
                             "\n"
                             "2 goroutines [select]: 8, 9\n"
                             "runtime.gopark()\n") != NULL);
    CHECK(out && strstr(out, "\ncreated by main.main\n\t/src/app/main.go:25\n\ngoroutine 10 [status 12]:\n"
                             "?\?\n\t(C) pc=0x7f0000029d90\n...additional frames elided...\n\n") != NULL);
    CHECK(out && strstr(out, "\nNotes:\n  maps cut\n  no environ\n  allgs not found\n") != NULL);
    free(out);

    /* Twelve goroutines in one place: ten ids, then "...". No goroutine ran on the crashing thread. */
    {
        struct mdr_go_goroutine many[12];

        fill_go(&g);
        for (int i = 0; i < 12; i++) {
            many[i] = g.gs[0];
            many[i].goid = 100 + (uint64_t)i;
        }
        g.m.md.go.goroutines = many;
        g.m.md.go.ngoroutines = 12;
        g.m.md.go.crashing_goid = 0;
        out = render(0, &g.m.md);
        CHECK(out && strstr(out, "\n\nNo goroutine was running on the crashing thread (a C thread, or the Go "
                                 "scheduler).\n\n12 goroutines [chan receive]: 100, 101, 102, 103, 104, 105, 106, "
                                 "107, 108, 109, ...\nruntime.gopark()\n") != NULL);
        free(out);
    }

    /* Hostile strings cannot reach the terminal. */
    fill_go(&g);
    g.frames[3].function = "main.\033[2Jworker";
    g.gs[0].wait_reason = "chan\nreceive";
    out = render(0, &g.m.md);
    CHECK(out && strstr(out, "\nmain.?[2Jworker()\n") != NULL && strstr(out, "[chan?receive, 3 minutes]") != NULL);
    free(out);
}

/* The reason (Go stream v2): in show right after the summary lines and before the goroutines, as the runtime
 * prints it (tabs and newlines kept, other controls not); in json a string at go.reason. */
static void test_go_reason(void)
{
    struct gomodel g;
    char *out;

    fill_go(&g);
    g.m.md.go.version = 2;
    g.m.md.go.reason = "panic: boom [recovered]\n\tpanic: main.label(\"a\n\tb\x1b\")\n"
                       "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x55d0c0de2100]\n";
    out = render(0, &g.m.md);
    CHECK(out != NULL);
    if (!out)
        return;
    CHECK(strstr(out, "Go: go1.26.8, 5 goroutines\n"
                      "\n"
                      "panic: boom [recovered]\n"
                      "\tpanic: main.label(\"a\n\tb?\")\n"
                      "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x55d0c0de2100]\n"
                      "\n"
                      "goroutine 1 [running, locked to thread]:\n") != NULL);
    free(out);

    g.m.md.go.reason = "fatal error: no newline at the end";
    out = render(0, &g.m.md);
    CHECK(out && strstr(out, "\nfatal error: no newline at the end\n\ngoroutine 1 [") != NULL);
    free(out);

    g.m.md.go.reason = "panic: boom\n\tpanic: \"q\"\n";
    out = render(1, &g.m.md);
    CHECK(out && strstr(out, "\"build_info\":null,\"reason\":\"panic: boom\\n\\tpanic: \\\"q\\\"\\n\","
                             "\"crashing_goroutine\":1,") != NULL);
    free(out);
}

static void test_go_json(void)
{
    struct gomodel g;
    char *out;

    fill_go(&g);
    out = render(1, &g.m.md);
    CHECK(out != NULL);
    if (!out)
        return;
    CHECK(strstr(out, "\"warnings\":[],\"go\":{\"version\":\"go1.26.8\",\"build_info\":null,\"reason\":null,"
                      "\"crashing_goroutine\":1,"
                      "\"truncated\":{\"goroutines\":false,\"frames\":false},\"goroutine_list\":true,"
                      "\"goroutines\":["
                      "{\"id\":7,\"status\":\"waiting\",\"wait_reason\":\"chan receive\",\"wait_minutes\":3,"
                      "\"crashed\":false,\"locked_to_thread\":false,\"thread\":null,\"frames\":["
                      "{\"pc\":\"0x55d0c0de1800\",\"function\":\"runtime.gopark\","
                      "\"file\":\"/usr/local/go/src/runtime/proc.go\",\"line\":435,\"module\":\"crasher\","
                      "\"inlined\":false,\"native\":false},"
                      "{\"pc\":\"0x55d0c0de2200\",\"function\":\"main.worker\",\"file\":\"/src/app/main.go\","
                      "\"line\":30,\"module\":\"crasher\",\"inlined\":false,\"native\":false}],\"elided_frames\":null,"
                      "\"created_by\":{\"function\":\"main.main\",\"file\":\"/src/app/main.go\",\"line\":25,"
                      "\"goroutine\":1}},"
                      "{\"id\":1,\"status\":\"running\",\"wait_reason\":null,\"wait_minutes\":null,"
                      "\"crashed\":true,\"locked_to_thread\":true,\"thread\":1234,\"frames\":["
                      "{\"pc\":\"0x55d0c0de2100\",\"function\":\"main.crash\",\"file\":\"/src/app/main.go\","
                      "\"line\":12,\"module\":\"crasher\",\"inlined\":true,\"native\":false},"
                      "{\"pc\":\"0x55d0c0de2100\",\"function\":\"main.main\",\"file\":\"/src/app/main.go\","
                      "\"line\":20,\"module\":\"crasher\",\"inlined\":false,\"native\":false}],\"elided_frames\":null,\"created_by\":null},"
                      "{\"id\":8,\"status\":\"waiting\",\"wait_reason\":\"chan receive\","
                      "\"wait_minutes\":0,") != NULL);
    CHECK(strstr(out, "{\"id\":9,\"status\":\"waiting\",\"wait_reason\":\"chan receive\","
                      "\"wait_minutes\":3,") != NULL);
    CHECK(strstr(out, ",{\"id\":10,\"status\":\"syscall\",\"wait_reason\":null,\"wait_minutes\":null,"
                      "\"crashed\":false,\"locked_to_thread\":false,\"thread\":1235,\"frames\":["
                      "{\"pc\":\"0x7f0000029d90\",\"function\":null,\"file\":null,\"line\":null,"
                      "\"module\":\"libc.so.6\",\"inlined\":false,\"native\":true}],\"elided_frames\":null,"
                      "\"created_by\":null}],"
                      "\"crash_text\":null}}\n") != NULL);
    /* The document's name and version first (issue 13), then the keys before "go", those of any dump. */
    CHECK(starts_with(out, "{\"format\":{\"name\":\"lastgasp-json\",\"version\":1},\"signal\":{\"number\":11,\"name\":\"SIGSEGV\","));
    CHECK(strchr(out, '\n') == out + strlen(out) - 1);
    free(out);

    /* Unknown values are null: a status past _Gdeadextra, a wait that starts after now, no crashing
     * goroutine, no version; the flags as the writer set them (a goroutine's cut stack counts). */
    fill_go(&g);
    g.gs[0].status = 12;
    g.gs[0].wait_since_ns = GO_NOW + 1;
    g.gs[0].parent_goid = 0;
    g.gs[0].created_by_function = NULL;
    g.gs[4].flags = LG_GOROUTINE_TRUNCATED;
    g.m.md.go.crashing_goid = 0;
    g.gs[1].flags = 0;
    g.m.md.go.go_version = NULL;
    g.m.md.go.flags = LG_GO_GOROUTINES_TRUNCATED | LG_GO_NO_GOROUTINE_LIST;
    out = render(1, &g.m.md);
    CHECK(out && strstr(out, "\"go\":{\"version\":null,\"build_info\":null,\"reason\":null,\"crashing_goroutine\":null,"
                             "\"truncated\":{\"goroutines\":true,\"frames\":true},\"goroutine_list\":false,"
                             "\"goroutines\":[{\"id\":7,\"status\":null,\"wait_reason\":\"chan receive\","
                             "\"wait_minutes\":null,") != NULL);
    CHECK(out && strstr(out, "\"created_by\":{\"function\":null,\"file\":\"/src/app/main.go\",\"line\":25,"
                             "\"goroutine\":null}},{\"id\":1,") != NULL);
    CHECK(out && strstr(out, "{\"id\":1,\"status\":\"running\",\"wait_reason\":null,\"wait_minutes\":null,"
                             "\"crashed\":false,") != NULL);
    free(out);

    /* Module information as `go version -m` prints it: path, main module, build settings (deps left out). */
    fill_go(&g);
    g.m.md.go.build_info = "path\texample.com/svc/cmd/svc\nmod\texample.com/svc\tv1.2.3\th1:abc=\n"
                           "dep\tgolang.org/x/sys\tv0.1.0\th1:def=\nbuild\t-ldflags=-s -w\nbuild\tCGO_ENABLED=1\n";
    out = render(1, &g.m.md);
    CHECK(out && strstr(out, "\"build_info\":{\"path\":\"example.com/svc/cmd/svc\",\"main\":{\"path\":"
                             "\"example.com/svc\",\"version\":\"v1.2.3\",\"sum\":\"h1:abc=\"},\"settings\":"
                             "{\"-ldflags\":\"-s -w\",\"CGO_ENABLED\":\"1\"}}") != NULL);
    free(out);
    out = render(0, &g.m.md);
    CHECK(out && strstr(out, "\nProgram: example.com/svc/cmd/svc\n") != NULL);
    free(out);

    /* An empty Go stream is still an object. */
    fill_go(&g);
    g.m.md.go.ngoroutines = 0;
    out = render(1, &g.m.md);
    CHECK(out && strstr(out, ",\"goroutines\":[],\"crash_text\":null}}\n") != NULL);
    free(out);
    out = render(0, &g.m.md);
    CHECK(out && strstr(out, "Go: go1.26.8, 0 goroutines\n\nNo goroutines in the Go stream.\n\nThread 1234") != NULL);
    free(out);
}

/* Without the lastgasp stream, a dump renders from the Exception stream and the thread contexts. */
static void test_fallback(void)
{
    struct mdr_dump md;
    struct mdr_thread th[2];
    char *out;

    memset(&md, 0, sizeof md);
    memset(th, 0, sizeof th);
    th[0].tid = 7;
    th[0].ctx.arch = MDR_ARCH_AMD64;
    th[0].ctx.nregs = MDR_NREGS;
    th[0].ctx.reg_names = mdr_reg_names;
    th[0].ctx.reg[MDR_RIP] = 0x1000;
    th[1].tid = 8;
    th[1].ctx.arch = MDR_ARCH_UNSUPPORTED;
    md.threads = th;
    md.nthreads = 2;
    md.exception = (struct mdr_exception){ .present = 1, .tid = 8, .code = 7, .flags = 2, .address = 0x10 };
    md.exception.ctx.arch = MDR_ARCH_AMD64;
    md.exception.ctx.nregs = MDR_NREGS;
    md.exception.ctx.reg_names = mdr_reg_names;
    md.exception.ctx.reg[MDR_RIP] = 0x2000;
    md.has_pid = 1;
    md.pid = 7;
    out = render(0, &md);
    CHECK(starts_with(out, "SIGBUS (BUS_ADRERR) at 0x10 in thread 8, pid 7\n"));
    /* The crashing thread's pc comes from the Exception context, not its own (unsupported) one. */
    CHECK(out && strstr(out, "\nThread 8 crashed:\n#0  0x0000000000002000 in ??\n") != NULL);
    CHECK(out && strstr(out, "\nThread 7:\n#0  0x0000000000001000 in ??\n") != NULL);
    free(out);
    out = render(1, &md);
    CHECK(out && strstr(out, "\"threads\":[{\"tid\":8,\"name\":null,\"crashed\":true,\"status\":null,\"frames\":"
                             "[{\"pc\":\"0x2000\",\"function\":null,\"offset\":null,\"file\":null,\"line\":null,"
                             "\"module\":null,\"inlined\":false,\"trust\":\"context\"}]") != NULL);
    free(out);
}

/* An arm64 context (reader: Breakpad's layout) gives the frame's pc and prints its own registers by name. */
static void test_arm64_registers(void)
{
    struct mdr_dump md;
    struct mdr_thread th[1];
    char *out;

    memset(&md, 0, sizeof md);
    memset(th, 0, sizeof th);
    th[0].tid = 9;
    md.threads = th;
    md.nthreads = 1;
    md.exception = (struct mdr_exception){ .present = 1, .tid = 9, .code = 11, .flags = 1, .address = 0 };
    md.exception.ctx.arch = MDR_ARCH_ARM64;
    md.exception.ctx.nregs = MDR_ARM64_NREGS;
    md.exception.ctx.reg_names = mdr_reg_names_arm64;
    md.exception.ctx.reg[MDR_ARM64_PC] = 0x5500001d8c;
    md.exception.ctx.reg[MDR_ARM64_LR] = 0x5500001d7c;
    md.exception.ctx.reg[MDR_ARM64_X0 + 28] = 0x28;
    md.exception.ctx.reg[MDR_ARM64_CPSR] = 0x20000000;
    th[0].ctx = md.exception.ctx;
    out = render(0, &md);
    CHECK(out && strstr(out, "\nThread 9 crashed:\n#0  0x0000005500001d8c in ??\n") != NULL);
    CHECK(out && strstr(out, "      pc 0x0000005500001d8c      sp 0x0000000000000000      fp 0x0000000000000000\n"
                             "      lr 0x0000005500001d7c") != NULL);
    CHECK(out && strstr(out, "     x28 0x0000000000000028\n    cpsr 0x0000000020000000\n") != NULL); /* 3 a line */
    CHECK(out && strstr(out, "rip") == NULL);
    free(out);
    out = render(1, &md);
    CHECK(out && strstr(out, "\"registers\":{\"pc\":\"0x5500001d8c\",\"sp\":\"0x0\",\"fp\":\"0x0\",\"lr\":"
                             "\"0x5500001d7c\",\"x0\":\"0x0\"") != NULL);
    CHECK(out && strstr(out, "\"x28\":\"0x28\",\"cpsr\":\"0x20000000\"}") != NULL);
    free(out);
}

/* The Go runtime's output right after the summary (its head in `show`, whole in json, under "go" even without
 * the Go stream); the annotations as their own section and as one JSON object. */
static void test_crash_text_and_annotations(void)
{
    struct gomodel g;
    struct mdr_annotation ann[3] = {
        { "build", 5, "1234", 4 },
        { "msg", 3, "two\nlines \"quoted\" \x1b[31m", 24 },
        { "k\0y", 3, "caf\xc3\xa9\xff", 6 },
    };
    char text[4096], *out;
    size_t n = 0;

    fill_go(&g);
    n += (size_t)snprintf(text + n, sizeof text - n, "panic: boom\n\ngoroutine 1 [running]:\n");
    for (int i = 0; i < 50; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "main.f%d()\n\t/src/app/main.go:%d +0x1d\n", i, i + 1);
    g.m.md.go_crash_text = (struct mdr_bytes){ (const uint8_t *)text, n };
    g.m.md.crashpad = (struct mdr_crashpad){ 1, 1, ann, 3 };
    out = render(0, &g.m.md);
    CHECK(out != NULL);
    if (!out)
        return;
    /* 103 lines; with the Go stream present only the head before the first goroutine is shown (the
     * goroutines are rendered from the stream), and the count of the lines left out. */
    CHECK(strstr(out, "\nGo runtime output:\n  panic: boom\n"
                      "  ... 102 more lines: the goroutines, shown below (lastgasp json has them all)\n") != NULL);
    CHECK(strstr(out, "main.f0()") == NULL);
    /* Right after the summary, before the annotations, the goroutines and the threads. */
    const char *text_at = strstr(out, "\nGo runtime output:"), *ann_at = strstr(out, "\nAnnotations:\n");
    CHECK(text_at && ann_at && text_at < ann_at && ann_at < strstr(out, "\ngoroutine 1 [running") &&
          ann_at < strstr(out, "\nThread 1234"));
    CHECK(strstr(out, "\nAnnotations:\n  build: 1234\n  msg: two?lines \"quoted\" ?[31m\n"
                      "  k?y: caf\xc3\xa9\xef\xbf\xbd\n") != NULL);
    free(out);
    /* A head the reason read from memory already holds is not repeated. */
    g.m.md.go.reason = "panic: boom\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1]\n";
    out = render(0, &g.m.md);
    CHECK(out && strstr(out, "Go runtime output") == NULL && strstr(out, "\npanic: boom\n[signal SIGSEGV") != NULL);
    free(out);
    g.m.md.go.reason = NULL;

    out = render(1, &g.m.md);
    CHECK(out && strstr(out, ",\"annotations\":{\"build\":\"1234\",\"msg\":\"two\\nlines \\\"quoted\\\" "
                             "\\u001b[31m\",\"k\\u0000y\":\"caf\xc3\xa9\\ufffd\"},") != NULL);
    CHECK(out && strstr(out, ",\"crash_text\":\"panic: boom\\n\\ngoroutine 1 [running]:\\nmain.f0()\\n\\t/src/"
                             "app/main.go:1 +0x1d\\n") != NULL);
    CHECK(out && strstr(out, "main.f49()\\n\\t/src/app/main.go:50 +0x1d\\n\"}}\n") != NULL);
    free(out);

    /* The runtime's text without the Go stream: "go" holds it, and nulls for what the stream would say. */
    g.m.md.go.present = 0;
    g.m.md.go_crash_text = (struct mdr_bytes){ (const uint8_t *)"fatal error: x\n", 15 };
    g.m.md.crashpad = (struct mdr_crashpad){ 1, 1, NULL, 0 };
    out = render(1, &g.m.md);
    CHECK(out && strstr(out, ",\"go\":{\"version\":null,\"build_info\":null,\"crashing_goroutine\":null,"
                             "\"truncated\":null,\"goroutine_list\":null,\"goroutines\":null,"
                             "\"crash_text\":\"fatal error: x\\n\"}}\n") != NULL);
    CHECK(out && strstr(out, ",\"annotations\":{},") != NULL); /* a stream with an empty dictionary */
    free(out);
    out = render(0, &g.m.md);
    CHECK(out && strstr(out, "\nGo runtime output:\n  fatal error: x\n\nThread 1234") != NULL);
    CHECK(out && strstr(out, "Annotations") == NULL && strstr(out, "more line") == NULL);
    free(out);
}

int main(void)
{
    test_names();
    test_utf8();
    test_show();
    test_json();
    test_fallback();
    test_arm64_registers();
    test_go_show();
    test_go_reason();
    test_go_json();
    test_crash_text_and_annotations();
    return check_summary();
}
