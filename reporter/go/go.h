/* go.h — what lastgasp knows about a Go executable (prefix go_).
 *
 * Install (normal context, go_inspect_nasync) recognises a Go executable and finds what the
 * handler needs: the Go version, the pclntab and moduledata, the runtime symbols and the offsets
 * of the runtime's g and m fields. The handler path then symbolizes Go pcs from the in-memory
 * pclntab (go_pcln.c) and walks goroutines (go_capture.c). All of it is validated before use.
 *
 * Facts and sources: reporter/README.md ("Go"), and the tests that check them against each release:
 * tests/go/offsets/ (struct offsets against DWARF), tests/go/pcln/ (the pclntab against the runtime).
 */
#ifndef LASTGASP_GO_H
#define LASTGASP_GO_H

#include <stddef.h>
#include <stdint.h>

/* The in-memory pclntab of the executable's one Go module, found at install. Read-only after. */
struct go_pcln {
    uint64_t pcheader;        /* runtime address of the pcHeader */
    uint64_t funcnametab, cutab, filetab, pctab, pclntable, ftab; /* runtime addresses */
    uint64_t funcnametab_len, cutab_len, filetab_len, pctab_len, pclntable_len, ftab_len; /* bytes */
    uint32_t nfunc;           /* ftab has nfunc + 1 entries */
    uint32_t minlc;           /* pc quantum: 1 on amd64 */
    uint64_t text;            /* moduledata.text: entry offsets are relative to it */
    uint64_t minpc, maxpc;    /* moduledata.minpc / maxpc */
    uint64_t gofunc;          /* moduledata.gofunc (go:func.*): funcdata offsets are relative to it */
    uint64_t gofunc_len;      /* bytes readable from gofunc: to the end of its section (or segment) */
    uint64_t moduledata;      /* runtime address of the moduledata these came from */
};

/* One function of the pclntab, as go_findfunc returns it. */
struct go_func {
    uint64_t entry;           /* absolute entry pc */
    uint64_t funcoff;         /* offset of the _func record in pclntable */
    int32_t name_off;         /* into funcnametab */
    uint32_t pcsp, pcfile, pcln; /* offsets into pctab */
    uint32_t npcdata;
    uint32_t cu_offset;
    int32_t start_line;
    uint8_t func_id;
    uint8_t flag;             /* 1 TOPFRAME, 2 SPWRITE, 4 ASM */
    uint8_t nfuncdata;
};

/* One source-level frame at a pc: the function itself or one it inlined. */
struct go_frame_info {
    const char *function;     /* NUL-terminated, inside the pclntab; NULL if the name is unreadable */
    const char *file;         /* NUL-terminated, inside the pclntab, or NULL */
    int32_t line;             /* 0 when unknown */
    int inlined;              /* 1 for a frame that exists only through inlining */
    uint64_t entry;           /* entry pc of the physical function */
};

/* Handler path (async-signal-safe, reads pclntab memory directly: run inside rep_guard_run). */
int go_findfunc(const struct go_pcln *t, uint64_t pc, struct go_func *f);
const char *go_funcname(const struct go_pcln *t, int32_t name_off);
/* The value of a pc-value table (pcsp, pcfile, pcln, or a pcdata table) at pc; 0 on success. */
int go_pcvalue(const struct go_pcln *t, const struct go_func *f, uint32_t table_off, uint64_t pc, int32_t *value);
/* The frames at pc, innermost (most inlined) first, at most max; returns how many. For a return
 * address pass pc - 1 (the call), as the runtime does; *not* for the frame above sigpanic. */
int go_frames_at(const struct go_pcln *t, uint64_t pc, struct go_frame_info *out, int max);

#endif
