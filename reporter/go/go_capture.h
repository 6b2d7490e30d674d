/* go_capture.h — goroutines at crash time (prefix rep_go_). See go_capture.c. */
#ifndef LASTGASP_GO_CAPTURE_H
#define LASTGASP_GO_CAPTURE_H

#include <stdint.h>
#include <ucontext.h>

#include "../../formats/minidump/mdwrite.h"
#include "../../sigsafe/sigsafe.h"
#include "go.h"
#include "go_offsets.h"

#define REP_GO_MAX_GOROUTINES 16384
#define REP_GO_MAX_FRAMES 65536     /* after sharing identical stacks */
#define REP_GO_INNER_FRAMES 50      /* source-level frames kept from the innermost, as the runtime prints */
#define REP_GO_OUTER_FRAMES 50      /* ... and from the outermost */
#define REP_GO_MAX_WALK (1u << 22)  /* physical frames walked to find the outermost (a 1 GiB stack) */
#define REP_GO_STRINGS_CAP (256u << 10)
#define REP_GO_STRINGS_SLOTS 16384

/* What install learnt about the executable's Go runtime. Written once at install, then read-only. */
struct rep_go {
    int present;                 /* a supported Go executable: the handler walks goroutines */
    char version[32];            /* "go1.26.8" (also set when unsupported, if known) */
    int major, minor, patch;
    char why[160];               /* why there is no Go capture, when !present and this is Go */
    struct go_pcln pcln;
    struct go_offsets off;
    uint64_t allgs;              /* address of runtime.allgs (a slice), 0 when unknown */
    uint64_t allglen;            /* address of runtime.allglen, 0 when unknown */
    uint64_t tls_block;          /* size of the executable's static TLS block, for the g slot search */
    uint64_t data_lo, data_hi;   /* the executable's writable segment (data, bss): where allgs lives */
    uint64_t fn_goexit, fn_sigpanic, fn_asmcgocall; /* entry pcs the walk treats specially */
    uint64_t fn_asyncpreempt, fn_debugcall; /* calls injected at a pc, like sigpanic (0 if absent) */
    uint64_t fn_throw_closure;   /* runtime.throw.func1: prints "fatal error: " s (go_reason.c) */
    uint64_t fn_fatal_closure;   /* runtime.fatal.func1: the same for fatal (user errors) */
    uint64_t types, etypes;      /* moduledata.types/etypes: type names are nameOffs from types */
    const char *build_info;      /* module path, dependencies, build settings (go version -m), or NULL */
    /* The traceback word (go_traceback.c): addresses found at install, 0 when unknown. */
    uint64_t tb_cache, tb_env;
    uint32_t tb_armed;           /* traceback_cache as lastgasp left it when it added the crash bit */
    int crash_bit;               /* REP_GO_CRASH_BIT_*: written once when armed (release), read by the handler */
    char tb_why[96];             /* why there is no crash bit, when there is none */
};

/* The bits of runtime.traceback_cache below the level (runtime1.go: level << 2 | all | crash). */
#define REP_GO_TB_CRASH 1u
#define REP_GO_TB_ALL 2u

#define REP_GO_CRASH_BIT_NONE 0  /* panics and fatal errors exit 2 unseen (not armed, or kept by request) */
#define REP_GO_CRASH_BIT_OURS 1  /* lastgasp added it: after the dump, exit 2 as the runtime would have */
#define REP_GO_CRASH_BIT_USER 2  /* the user's level has it (GOTRACEBACK=crash): SIGABRT, as they asked */

/* One thread as the Go capture sees it. */
struct rep_go_thread {
    int tid;
    uint64_t fs_base;            /* its thread pointer, for the g in TLS; 0 if unknown */
    const ucontext_t *uc;        /* its captured registers, or NULL */
    const struct lg_frame_record *native; /* its native frames (CFI walk), innermost first */
    uint32_t nnative;
    const char *native_strings;  /* the string table their symbol_off points into */
};

void rep_go_capture(const struct rep_go_thread *threads, int nthreads, int crashing, struct mdw_go *out,
                    struct ss_arena *arena, struct ss_str *notes);
void rep_go_install_nasync(struct rep_go *go);
uint64_t rep_exe_bias_nasync(void);

/* go_traceback.c (install side) */
int go_traceback_words(const uint8_t *code, size_t len, uint64_t addr, uint64_t *cache, uint64_t *env);
int go_traceback_words_arm64(const uint8_t *code, size_t len, uint64_t addr, uint64_t *cache, uint64_t *env);
void rep_go_traceback_find_nasync(struct rep_go *go, uint64_t sym_cache, uint64_t sym_env, uint64_t code_lo,
                                  uint64_t code_hi);
int rep_go_crash_bit_arm_nasync(struct rep_go *go, int keep);

#endif
