/* test_render_html.c — unit tests for `lastgasp html` (formats/render/render_html*.c).
 *
 * On the same parsed models as test_render.c (render_fixtures.h): the exact escaping of dump strings, the
 * summary rows a dump's values give and the ones a missing value takes away (nothing invented), goroutines
 * grouped as `show` groups them, and the caps that keep a page of a huge or hostile dump bounded. Every page
 * is also checked by html_check.h: only the renderer's own tags, balanced.
 */
#include "../../formats/read/mdread.h"
#include "../../formats/minidump/minidump.h"
#include "../../formats/render/render.h"
#include "check.h"
#include "html_check.h"
#include "render_fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *page(const struct mdr_dump *md)
{
    char *buf = NULL;
    size_t len = 0, where = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    CHECK(render_html(f, md) == 0);
    fclose(f);
    CHECK_MSG(html_check_page(buf, len, &where), "not our markup at %zu: %.60s", where, buf + where);
    return buf;
}

static char *escaped(const char *s, size_t n, int keep_newlines)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    render_html_text_n(f, s, n, keep_newlines);
    fclose(f);
    return buf;
}

static int esc_is(const char *s, size_t n, int keep_newlines, const char *want)
{
    char *got = escaped(s, n, keep_newlines);
    int ok = got && strcmp(got, want) == 0;

    if (!ok)
        printf("    escaped: \"%s\", want \"%s\"\n", got ? got : "(null)", want);
    free(got);
    return ok;
}

/* The literal's length from the literal: embedded NULs count. */
#define ESC(lit, keep, want) esc_is(lit, sizeof(lit) - 1, keep, want)
#define HAS(out, s) CHECK_MSG((out) && strstr((out), (s)) != NULL, "missing: %s", (s))
#define HASNT(out, s) CHECK_MSG((out) && strstr((out), (s)) == NULL, "present: %s", (s))

static void test_escape(void)
{
    char *out;
    FILE *f;
    size_t len;

    CHECK(ESC("<a href='x'>&amp;\"</a>", 0, "&lt;a href=&#39;x&#39;&gt;&amp;amp;&quot;&lt;/a&gt;"));
    CHECK(ESC("a\nb\tc\x01\x7f", 0, "a?b?c??"));
    CHECK(ESC("a\nb\tc\x01\x7f", 1, "a\nb\tc??"));
    CHECK(ESC("a\0b", 0, "a?b"));                     /* a NUL inside a length-delimited string */
    CHECK(ESC("\xc2\x85|\xc2\x9b", 0, "?|?"));          /* C1 controls (NEL, CSI) */
    CHECK(ESC("x\xe2\x80\xaey\xe2\x81\xa6z", 0, "x?y?z")); /* RIGHT-TO-LEFT OVERRIDE, LRI */
    CHECK(ESC("\xe2\x80\x8f", 0, "\xe2\x80\x8f"));      /* a plain RLM mark overrides nothing: kept */
    CHECK(ESC("\xff\xc3\xa9\xe2\x82", 0, "\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd"));
    CHECK(ESC("", 0, ""));

    f = open_memstream(&out, &len);
    if (f) {
        render_html_text(f, NULL, "<?\?>");
        render_html_text(f, NULL, NULL);
        render_html_text(f, "&", NULL);
        fclose(f);
        CHECK(strcmp(out, "&lt;?\?&gt;&amp;") == 0);
        free(out);
    }
}

static void test_c_page(void)
{
    struct model m;
    char *out;

    fill(&m);
    out = page(&m.md);
    CHECK(out != NULL);
    if (!out)
        return;
    CHECK(strncmp(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", 62) == 0);
    HAS(out, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline';");
    HAS(out, "<title>SIGSEGV in crash_null_write — lastgasp</title>");
    HASNT(out, "<script");
    CHECK(strlen(out) > 8 && strcmp(out + strlen(out) - 8, "</html>\n") == 0);
    HAS(out, "<h1>SIGSEGV (SEGV_MAPERR) at 0x0 in <code>crash_null_write</code></h1>\n");
    HAS(out, "<tr><th>Signal</th><td>SIGSEGV (11)</td></tr>\n<tr><th>Code</th><td>SEGV_MAPERR (1)</td></tr>\n"
             "<tr><th>Address</th><td><code>0x0</code></td></tr>\n<tr><th>PID</th><td>1233</td></tr>\n"
             "<tr><th>Thread</th><td>1234 (crasher)</td></tr>\n</table>");
    /* what the dump does not hold has no row: no time, process name, host, container, system, Go */
    for (const char *row = "Time\0Process\0Host\0Container\0Command line\0System\0Go\0Program\0Sent by\0"
                           "Crashed in\0";
         *row; row += strlen(row) + 1) {
        char th[40];

        snprintf(th, sizeof th, "<th>%s</th>", row);
        HASNT(out, th);
    }
    /* the crashing thread first and expanded, although the dump lists it second */
    HAS(out, "<h2 id=\"d-thread\">Crashing thread 1234 (crasher)</h2>");
    HAS(out, "<tr><td class=\"n\">0</td><td class=\"m fn\">crash_null_write<span class=\"off\">+0x14</span></td>"
             "<td class=\"m\"></td><td class=\"m\">crasher+0x1234</td><td class=\"m\">0x55d0c0de1234</td>"
             "<td class=\"note\">context</td></tr>");
    HAS(out, "<h2 id=\"d-threads\">Other threads (1)</h2>\n<details><summary>Thread 1235 (worker) [exited] "
             "<span class=\"dim\">in</span> <code>?? (libc.so.6)</code></summary>");
    /* an unknown function is ??, with no offset; its module and the offset in it are known */
    HAS(out, "<td class=\"m fn\">?\?</td><td class=\"m\"></td><td class=\"m\">libc.so.6+0x29d90</td>");
    CHECK(strstr(out, "Crashing thread") < strstr(out, "Other threads"));
    HASNT(out, "Registers"); /* the model holds no CPU context */
    HAS(out, "<h2 id=\"d-modules\">Modules (2)</h2>\n<details open>");
    HAS(out, "<tr><td class=\"m\">crasher</td><td class=\"m\">0x55d0c0de0000</td><td class=\"m\">0x5000</td>"
             "<td class=\"m\"></td><td class=\"m\">/usr/bin/crasher</td></tr>");
    HAS(out, "<ul>\n<li>maps cut</li>\n<li>no environ</li>\n</ul>");
    HASNT(out, "Reader warnings");
    HASNT(out, "goroutine");
    free(out);

    /* A sent signal names its sender, not an address; the time; the reader's warnings, dropped ones counted. */
    char *warns[1] = { "stream 7 <bad>" };
    fill(&m);
    m.md.lg.signal = 6;
    m.md.lg.si_code = -6;
    m.md.lg.sender_pid = 1;
    m.md.lg.sender_uid = 0;
    m.md.lg.time_ns = 1700000000123456789ull;
    m.md.warnings = warns;
    m.md.nwarnings = 1;
    m.md.warnings_dropped = 2;
    m.md.process_name = "crasher";
    out = page(&m.md);
    HAS(out, "<h1>SIGABRT (SI_TKILL) in <code>crash_null_write</code></h1>");
    HAS(out, "<tr><th>Sent by</th><td>pid 1 (uid 0)</td></tr>");
    HASNT(out, "<th>Address</th>");
    HAS(out, "<tr><th>Time</th><td>2023-11-14 22:13:20.123 UTC</td></tr>");
    HAS(out, "<tr><th>Process</th><td>crasher</td></tr>");
    HAS(out, "<title>SIGABRT in crash_null_write, crasher — lastgasp</title>");
    HAS(out, "<h2 id=\"d-warnings\">Reader warnings (3)</h2>\n<ul class=\"warn\">\n<li>stream 7 &lt;bad&gt;</li>\n"
             "<li>2 more warnings not kept</li>\n</ul>");
    free(out);
}

/* A dump with nothing in it: the page says so and invents nothing. */
static void test_empty(void)
{
    struct mdr_dump md;
    char *out;

    memset(&md, 0, sizeof md);
    out = page(&md);
    HAS(out, "<title>no signal — lastgasp</title>");
    HAS(out, "<h1>No crash signal recorded (the dump has neither an Exception nor a lastgasp stream)</h1>\n"
             "<table class=\"kv\">\n</table>\n</div>");
    HAS(out, "<p>No threads in the dump.</p>");
    HASNT(out, "<tr><th>");
    HASNT(out, "Modules");
    HASNT(out, "goroutine");
    free(out);
}

static void test_hostile(void)
{
    struct gomodel g;
    char evil_path[] = "/x/<img src=x onerror=alert(1)>.so";
    char *out;

    fill_go(&g);
    g.m.threads[1].name = "<script>alert(1)</script>";
    g.m.mods[1].path = evil_path;
    g.frames[3].function = "main.<b>evil</b>";
    g.frames[3].file = "/src/\"quoted\".go";
    g.gs[0].wait_reason = g.gs[2].wait_reason = g.gs[3].wait_reason = "chan <i>";
    g.gs[0].created_by_function = g.gs[2].created_by_function = g.gs[3].created_by_function = "main.<go>";
    g.m.md.hostname = (struct mdr_bytes){ (const uint8_t *)"h</td><script>", 14 };
    g.m.md.cgroup = (struct mdr_bytes){ (const uint8_t *)"0::/<x>\n", 8 };
    g.m.md.cmdline = (struct mdr_bytes){ (const uint8_t *)"a\0<script>\0", 11 };
    g.m.md.process_name = "<p>proc";
    g.m.md.go.build_info = "path\t<mod>\n";
    g.m.md.lg.notes = "<note>";
    out = page(&g.m.md);
    HASNT(out, "<script");
    HASNT(out, "<img");
    HASNT(out, "<b>evil");
    HASNT(out, "<i>");
    HAS(out, "Crashing thread 1234 (&lt;script&gt;alert(1)&lt;/script&gt;)");
    HAS(out, "<td class=\"m\">/x/&lt;img src=x onerror=alert(1)&gt;.so</td>");
    HAS(out, "main.&lt;b&gt;evil&lt;/b&gt;");
    HAS(out, "/src/&quot;quoted&quot;.go:30");
    HAS(out, "[chan &lt;i&gt;]");
    HAS(out, "created by <code>main.&lt;go&gt;</code>");
    HAS(out, "<tr><th>Host</th><td>h&lt;/td&gt;&lt;script&gt;</td></tr>");
    HAS(out, "cgroup <span class=\"m\">0::/&lt;x&gt;</span>");
    HAS(out, "<code>a &lt;script&gt;</code>");
    HAS(out, "<tr><th>Process</th><td>&lt;p&gt;proc</td></tr>");
    HAS(out, "<tr><th>Program</th><td>&lt;mod&gt;</td></tr>");
    HAS(out, "<li>&lt;note&gt;</li>");
    HAS(out, "<title>SIGSEGV in main.crash, &lt;p&gt;proc — lastgasp</title>");
    free(out);
}

static void test_go_page(void)
{
    struct gomodel g;
    char *out;

    fill_go(&g);
    out = page(&g.m.md);
    CHECK(out != NULL);
    if (!out)
        return;
    /* the crash site is the crashing goroutine's first frame outside the runtime, with its source */
    HAS(out, "<h1>SIGSEGV (SEGV_MAPERR) at 0x0 in <code>main.crash</code></h1>");
    HAS(out, "<tr><th>Crashed in</th><td><code>main.crash</code> <span class=\"dim\">/src/app/main.go:12</span>"
             "</td></tr>");
    HAS(out, "<tr><th>Go</th><td>go1.26.8, 5 goroutines</td></tr>");
    HASNT(out, "<th>Program</th>");
    HAS(out, "<h2 id=\"d-goroutine\">Crashing goroutine 1 [running, locked to thread]</h2>\n"
             "<table class=\"grid frames\">");
    HAS(out, "<tr><td class=\"n\">0</td><td class=\"m fn\">main.crash</td><td class=\"m\">/src/app/main.go:12</td>"
             "<td class=\"m\">crasher+0x2100</td><td class=\"m\">0x55d0c0de2100</td><td class=\"note\">inlined</td>");
    HAS(out, "<tr><td class=\"n\">1</td><td class=\"m fn\">main.main</td><td class=\"m\">/src/app/main.go:20</td>"
             "<td class=\"m\">crasher+0x2100</td><td class=\"m\">0x55d0c0de2100</td><td class=\"note\"></td>");
    /* 7, 8 and 9 (shared and copied records alike) are one group, as in show; 10 is alone */
    HAS(out, "<h2 id=\"d-goroutines\">Other goroutines (4, in 2 groups of identical stacks)</h2>\n"
             "<details><summary><b>3 goroutines</b> [chan receive] <span class=\"dim\">in</span> "
             "<code>main.worker</code></summary>\n<p class=\"m\">7, 8, 9</p>\n");
    HAS(out, "<p>created by <code>main.main</code> in goroutine 1 <span class=\"dim m\">/src/app/main.go:25</span>"
             "</p>\n</details>\n<details><summary>goroutine 10 [syscall]</summary>\n");
    /* a C frame of a cgo call: no source, its module, marked C */
    HAS(out, "<td class=\"m fn\">?\?</td><td class=\"m\"></td><td class=\"m\">libc.so.6+0x29d90</td>"
             "<td class=\"m\">0x7f0000029d90</td><td class=\"note\">C</td>");
    CHECK(strstr(out, "Crashing goroutine") < strstr(out, "Other goroutines") &&
          strstr(out, "Other goroutines") < strstr(out, "Crashing thread"));
    free(out);

    /* Apart, a goroutine says how long it waited; a cut stack says so; no crashing goroutine says why. */
    fill_go(&g);
    g.gs[2].wait_reason = g.gs[3].wait_reason = "select";
    g.gs[4].flags = LG_GOROUTINE_TRUNCATED;
    g.gs[1].flags = 0;
    g.m.md.go.crashing_goid = 0;
    g.m.md.go.flags = LG_GO_NO_GOROUTINE_LIST;
    g.m.md.go.build_info = "path\texample.com/svc\n";
    out = page(&g.m.md);
    HAS(out, "<details><summary>goroutine 7 [chan receive, 3 minutes] <span class=\"dim\">in</span> "
             "<code>main.worker</code></summary>");
    HAS(out, "<h2>Crashing goroutine</h2>\n<p>No goroutine was running on the crashing thread (a C thread, or the "
             "Go scheduler).</p>");
    HAS(out, "<tr><th>Program</th><td>example.com/svc</td></tr>");
    HAS(out, "...additional frames elided (the writer's bound)...");
    HAS(out, "<p class=\"note\">Note: the runtime's goroutine list was not found; only goroutines running on threads "
             "were captured.</p>");
    /* the crash site falls back to the crashing thread's innermost frame */
    HAS(out, "<h1>SIGSEGV (SEGV_MAPERR) at 0x0 in <code>crash_null_write</code></h1>");
    free(out);
}

/* The Go reason, the runtime's own output and the annotations, escaped like every dump string. */
static void test_reason_text_annotations(void)
{
    struct gomodel g;
    struct mdr_annotation ann[2] = { { "tenant", 6, "a<b>", 4 }, { "k\0y", 3, "v", 1 } };
    static const char text[] = "panic: <boom>\n\ngoroutine 1 [running]:\n";
    char *out;

    fill_go(&g);
    g.m.md.go.reason = "panic: <boom>\n\tpanic: again\n";
    g.m.md.go_crash_text = (struct mdr_bytes){ (const uint8_t *)text, sizeof text - 1 };
    g.m.md.crashpad = (struct mdr_crashpad){ 1, 1, ann, 2 };
    out = page(&g.m.md);
    CHECK(out != NULL);
    if (!out)
        return;
    HAS(out, "<tr><th>Reason</th><td><pre>panic: &lt;boom&gt;\n\tpanic: again\n</pre></td></tr>");
    HAS(out, "<tr><th>Go runtime output</th><td><details><summary>38 bytes, as the runtime printed them</summary>"
             "<pre>panic: &lt;boom&gt;\n\ngoroutine 1 [running]:\n</pre></details></td></tr>");
    HAS(out, "<h2 id=\"d-annotations\">Annotations</h2>\n<table>\n<tr><th>tenant</th><td>a&lt;b&gt;</td></tr>\n");
    HASNT(out, "a<b>");
    free(out);
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;

    for (const char *p = s; p && (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

/* Big dumps stay small pages: ids, groups and frames are cut, and each cut is said. */
static void test_caps(void)
{
    enum { NG = 650, NF = 400 };
    static struct mdr_go_goroutine many[NG];
    static struct mdr_go_frame deep[NF];
    struct gomodel g;
    char *out;

    /* 150 goroutines in one place: one group, 100 ids, then the count of the rest. */
    fill_go(&g);
    for (int i = 0; i < 150; i++) {
        many[i] = g.gs[0];
        many[i].goid = 100 + (uint64_t)i;
    }
    g.m.md.go.goroutines = many;
    g.m.md.go.ngoroutines = 150;
    out = page(&g.m.md);
    HAS(out, "<b>150 goroutines</b> [chan receive]");
    HAS(out, "<p class=\"m\">100, 101, 102, ");
    HAS(out, ", 198, 199 and 50 more</p>");
    CHECK(count(out, "<details>") == 2); /* the group and the other thread (modules are <details open>) */
    free(out);

    /* 650 goroutines, each created on another line: 650 groups, 500 shown. */
    for (int i = 0; i < NG; i++) {
        many[i] = g.gs[0];
        many[i].goid = 1000 + (uint64_t)i;
        many[i].created_by_line = 1000 + i;
    }
    g.m.md.go.goroutines = many;
    g.m.md.go.ngoroutines = NG;
    out = page(&g.m.md);
    HAS(out, "Other goroutines (650, in 650 groups of identical stacks)");
    CHECK(count(out, "<details><summary>goroutine ") == 500);
    HAS(out, "<p class=\"note\">150 more groups (150 goroutines) not shown (lastgasp show and json have them).</p>");
    free(out);

    /* A stack of 400 frames (a hostile file: the writer cuts at 100 physical frames) shows 300; an elided run
     * is one line. */
    for (int i = 0; i < NF; i++)
        deep[i] = (struct mdr_go_frame){ 0x55d0c0de2200, "main.rec", "/src/app/main.go", 40, 0, 0, 0 };
    deep[5] = (struct mdr_go_frame){ 0, NULL, NULL, 0, 0, 7, 0 };
    fill_go(&g);
    g.gs[1].frames = deep;
    g.gs[1].nframes = NF;
    out = page(&g.m.md);
    HAS(out, "<tr><td></td><td colspan=\"5\" class=\"note\">...7 frames elided...</td></tr>\n"
             "<tr><td class=\"n\">5</td><td class=\"m fn\">main.rec</td>");
    HAS(out, "<tr><td class=\"n\">298</td>");
    HASNT(out, "<tr><td class=\"n\">299</td>");
    HAS(out, "<td colspan=\"5\" class=\"note\">100 more frames not shown (lastgasp json has them)</td>");
    free(out);
}

int main(void)
{
    test_escape();
    test_c_page();
    test_empty();
    test_hostile();
    test_go_page();
    test_reason_text_annotations();
    test_caps();
    return check_summary();
}
