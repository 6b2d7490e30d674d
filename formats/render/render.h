/* render.h — turning a parsed dump (formats/read/mdread.h) into reports: `lastgasp show` text and `lastgasp json`.
 *
 * Normal context. Both renderers work from one merged view (struct render_report): the lastgasp stream when the
 * dump has one, else the standard streams (Exception, ThreadList contexts), so any Linux minidump renders.
 * Nothing is invented: a value the dump does not hold is absent (NULL / has_* = 0) and prints as null.
 */
#ifndef LASTGASP_RENDER_H
#define LASTGASP_RENDER_H

#include <stdint.h>
#include <stdio.h>

#include "../minidump/minidump.h"
#include "../read/mdread.h"

struct render_frame {
    uint64_t pc;
    const char *function;         /* symbol from the lastgasp stream, or NULL */
    int has_offset;
    uint32_t offset;              /* pc - function start, when has_offset */
    const char *module;           /* basename of the module's path, or NULL */
    uint64_t module_base;         /* when module != NULL */
    const struct mdr_module *module_entry; /* the ModuleList entry, when module != NULL */
    const char *trust;            /* "context", "cfi", "fp", or NULL */
    const char *file;             /* source, from debug info found by the tool; NULL when unknown */
    int32_t line;                 /* 0 when unknown */
    int inlined;                  /* inlined into the next frame, same pc */
};

struct render_thread {
    uint32_t tid;
    const char *name;             /* NULL when unknown */
    int crashed;
    const char *status;           /* "ok", "no_answer", "gone", or NULL when unknown */
    const struct mdr_context *ctx; /* registers, or NULL */
    const char *no_frames_why;    /* why frames is empty, or NULL */
    struct render_frame *frames;    /* innermost first; points into the report's frame pool */
    size_t nframes;
};

struct render_report {
    int has_signal;
    uint32_t signo;
    int32_t code;
    uint64_t address;
    int has_pid;
    uint32_t pid;
    int has_crashing_tid;
    uint32_t crashing_tid;
    int has_sender;               /* the signal was sent by a process (si_code <= 0) and the dump says which */
    uint32_t sender_pid, sender_uid;
    int has_time;
    uint64_t time_ns;
    const char *notes;
    struct render_thread *threads;  /* the crashing thread first */
    size_t nthreads;
    struct render_frame *frame_pool;
};

/* Build the merged view; 0, or -1 when memory ran out. Release with render_report_free(). */
int render_report_build(struct render_report *r, const struct mdr_dump *md);
void render_report_free(struct render_report *r);

/* Render the human report / the one JSON object. 0 on success, -1 on a write error or lack of memory. */
int render_show(FILE *out, const struct mdr_dump *md);
int render_json(FILE *out, const struct mdr_dump *md);

/* Pieces of `lastgasp json`, shared with the bundle manifest and the crash server's event so that they say the
 * same thing the same way: the "signal" object, the "time" string, the "container" object, each a value
 * (null when unknown) written where w stands (formats/json/json.h). */
struct json_w;
void render_json_signal(struct json_w *w, const struct render_report *r);
void render_json_time(struct json_w *w, const struct render_report *r);
void render_json_container(struct json_w *w, const struct mdr_dump *md);
/* The crash time as "time" says it, "2026-11-22T02:16:38.123456789Z", into buf; 0, or -1 when the report has
 * no time, it cannot be represented, or it does not fit. */
int render_time_rfc3339(const struct render_report *r, char *buf, size_t n);

/* "2026-11-22 02:16:38.123 UTC" of a CLOCK_REALTIME time in nanoseconds into buf; 0, or -1 when it does not
 * fit or the time cannot be represented. */
int render_time_utc(uint64_t ns, char *buf, size_t n);

/* The module path of a Go program ("example.com/svc/cmd/svc") from its build info's "path" line, n bytes long
 * (not NUL-terminated); NULL when the build info is NULL or has no such line. */
const char *render_go_program_path(const char *build_info, size_t *n);

/* "SIGSEGV (SEGV_MAPERR) at 0x0": the signal, its code (named, or "si_code N"), and the fault address when
 * the kernel raised it (si_code > 0). Plain ASCII from our own tables and numbers, so safe in HTML too. The
 * first line of `show` and the heading of `html`. r->has_signal must be set. */
void render_put_signal_line(FILE *out, const struct render_report *r);

/* The last component of a path (the whole path when it ends in '/'); NULL for NULL. */
const char *render_path_basename(const char *path);

/* ---- Go (render_go.c): goroutines from the lastgasp Go stream (md->go) ---- */

/* The runtime's word for a goroutine status, runtime2.go's _G* names ("waiting"); NULL past _Gdeadextra. */
const char *render_go_status_name(uint32_t status);

/* 1 for the crashing goroutine: flagged by the writer, or named by the header's crashing_goid. */
int render_go_crashed(const struct mdr_go_info *go, const struct mdr_go_goroutine *g);

/* 1 with the whole minutes g has been waiting in *minutes (now_ns - wait_since_ns), or 0 when that is not
 * known: wait_since_ns is 0, or later than now_ns. */
int render_go_wait_minutes(const struct mdr_go_info *go, const struct mdr_go_goroutine *g, uint64_t *minutes);

/* The ModuleList entry holding frame k of g (k < g->nframes), or NULL; render_go_frame_module(): its basename. */
const struct mdr_module *render_go_frame_module_at(const struct mdr_dump *md, const struct mdr_go_goroutine *g,
                                                   size_t k);
const char *render_go_frame_module(const struct mdr_dump *md, const struct mdr_go_goroutine *g, size_t k);

/* The word a traceback puts in brackets: the wait reason of a waiting goroutine, else the status name; NULL for
 * a status without a name (print its number). render_go_shows_wait(): 1 with *minutes when the runtime would add
 * ", N minutes" (a waiting or syscall goroutine, waiting for one minute or more). */
const char *render_go_state(const struct mdr_go_goroutine *g);
int render_go_shows_wait(const struct mdr_go_info *go, const struct mdr_go_goroutine *g, uint64_t *minutes);

/* Goroutines other than the crashing one, grouped: those with the same state, creator and stack print once.
 * Groups come in the dump order of their first member; members in dump order. */
struct render_go_group {
    const struct mdr_go_goroutine *const *members;
    size_t count;
    uint64_t parent_goid;         /* the creating goroutine when all members share it, else 0 */
};

struct render_go_groups {
    struct render_go_group *groups;
    size_t ngroups;
    const struct mdr_go_goroutine **members; /* storage the groups point into */
};

/* 0 (no groups for a dump without goroutines), or -1 when memory ran out. Release with render_go_groups_free(). */
int render_go_group(struct render_go_groups *gs, const struct mdr_go_info *go);
void render_go_groups_free(struct render_go_groups *gs);

/* `show`'s goroutines, when the dump has a Go stream: the crashing goroutine first, in the runtime's own
 * traceback format, then the others grouped by identical stack. 0, or -1 when memory ran out. */
int render_show_go(FILE *out, const struct mdr_dump *md);

/* ---- HTML (render_html.c, render_html_go.c): `lastgasp html`, one self-contained page ---- */

/* The whole page of one dump. 0, or -1 on a write error or lack of memory. */
int render_html(FILE *out, const struct mdr_dump *md);

/* Pieces of a page, for a page of several dumps (a bundle): the document head (title escaped here), one dump's
 * section (its element ids start with id, which must be a plain token such as "d3"; heading, escaped, leads
 * the section when not NULL), and the end of the document. render_html_dump returns 0, or -1 when memory ran out. */
void render_html_begin(FILE *out, const char *title);
int render_html_dump(FILE *out, const struct mdr_dump *md, const char *id, const char *heading);
void render_html_end(FILE *out);

/* Text from a dump as HTML: & < > " ' escaped, invalid UTF-8 as U+FFFD, control and bidirectional-override
 * characters as '?' (newlines and tabs kept when keep_newlines, for <pre>). NULL prints fallback (escaped too). */
void render_html_text_n(FILE *out, const char *s, size_t n, int keep_newlines);
void render_html_text(FILE *out, const char *s, const char *fallback);

/* The function a crash summary names: for a Go crash the crashing goroutine's first frame outside the runtime
 * (where the program was), else the crashing thread's innermost frame; NULL when the dump names none. For a Go
 * frame, *file and *line give its source (else NULL and 0). */
const char *render_crash_site(const struct render_report *r, const struct mdr_dump *md, const char **file, int32_t *line);

/* A frame table of one stack (render_html.c), rows from either kind of frame. */
struct render_html_frame {
    const char *function;         /* NULL prints "??" */
    int has_offset;
    uint32_t offset;              /* pc - function start */
    const char *file;             /* NULL: no source cell */
    int32_t line;                 /* 0 when unknown */
    const struct mdr_module *module; /* NULL when the pc is in no module */
    uint64_t pc;
    const char *note;             /* "inlined", "C", "cfi"...; NULL for none */
};
void render_html_frames_begin(FILE *out);
void render_html_frame_row(FILE *out, size_t index, const struct render_html_frame *f);
void render_html_frames_note(FILE *out, const char *text); /* a full-width row of our own text (not escaped) */
void render_html_frames_end(FILE *out);

/* Stacks are cut at this many rows on the page (`json` has them all): a hostile dump must not make a page
 * that no browser can open. */
#define RENDER_HTML_MAX_FRAMES 300

/* The crash summary box (render_html_summary.c). */
void render_html_summary(FILE *out, const struct render_report *r, const struct mdr_dump *md);

/* The goroutines (render_html_go.c): the crashing goroutine expanded, the others grouped and collapsed.
 * Prints nothing for a dump without a Go stream. 0, or -1 when memory ran out. */
int render_html_go(FILE *out, const struct mdr_dump *md, const char *id);

/* Decode one UTF-8 character at s[0..n) (n >= 1). Returns the bytes it spans (>= 1); *cp is U+FFFD for an
 * invalid or truncated sequence, which then spans its longest valid prefix (at least one byte). */
size_t render_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/* Write s for a terminal: valid UTF-8 kept, invalid bytes as U+FFFD, control characters as '?' (a newline
 * too unless keep_newlines). NULL prints as fallback. */
void render_put_text(FILE *out, const char *s, const char *fallback, int keep_newlines);
/* The same for n bytes; nul_as_space: NUL-separated text such as a command line, NULs as spaces. */
void render_put_text_n(FILE *out, const char *s, size_t n, int keep_newlines, int nul_as_space);

#endif
