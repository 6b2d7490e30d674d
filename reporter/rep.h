/* rep.h — reporter internals (prefix rep_): install state and the handler path's pieces.
 *
 * Two worlds live here. Install (normal context; functions named *_nasync) prepares everything the
 * handler will need. The handler path (compromised context) only uses what was prepared: the
 * files that implement it open with a RULES block.
 */
#ifndef LASTGASP_REP_H
#define LASTGASP_REP_H

#include <signal.h>
#include <stdint.h>
#include <ucontext.h>

#include "../formats/minidump/mdwrite.h"
#include "../sigsafe/sigsafe.h"
#include "go/go_capture.h"
#include "lastgasp.h"

/* The architecture's DWARF register numbering (REP_NREGS, REP_DW_*), as sigsafe/sys.c picks its syscall.h */
#if defined(__x86_64__)
#include "x86_64/regs.h"
#elif defined(__aarch64__)
#include "aarch64/regs.h"
#else
#error "lastgasp: unsupported architecture"
#endif

#define REP_NSIG 65
#define REP_MAX_THREADS 1024
#define REP_MAX_FRAMES 64          /* per thread */
#define REP_MAX_MODULES 1024
#define REP_MAX_MAPPINGS 16384
#define REP_MAX_CRASHERS 64        /* threads that crash while another one reports */
#define REP_MAPS_CAP (1u << 20)
#define REP_STRINGS_CAP (64u << 10)
#define REP_NOTES_CAP 4096
#define REP_CRASH_TEXT_CAP (64u << 10) /* the head of the Go runtime's crash output */
#define REP_STACK_CAP_CRASHED (64u << 10)
#define REP_STACK_CAP_OTHER (32u << 10)
#define REP_RED_ZONE 128
#define REP_HANDLER_STACK (512u << 10)   /* the private stack the handler pivots to */
#define REP_NESTED_ALTSTACK (64u << 10)  /* where a fault inside the handler is delivered */
#define REP_ALTSTACK_SIZE (64u << 10)    /* given to threads that have none */

/* Signals lastgasp uses for itself: at crash time, the first two real-time signals from SIGRTMAX down
 * that have no handler (rep_pick_signals, into rep_c.capture_sig and rep_c.watchdog_sig); these two
 * when none is free. Install borrows REP_CAPTURE_SIG for a moment to learn libc's restorer. */
#define REP_CAPTURE_SIG 64   /* SIGRTMAX: "stop and hand over your registers" */
#define REP_WATCHDOG_SIG 63  /* SIGRTMAX-1: a phase or the whole report ran out of time */
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000 /* the kernel flag libc hides; we pass libc's own trampoline */
#endif

/* Deadlines. No path through the handler waits longer than REP_TOTAL_NS in all. */
#define REP_TOTAL_NS 4000000000ull        /* the whole report */
#define REP_CAPTURE_NS 1000000000ull      /* all threads answer the capture signal */
#define REP_GO_NS 2000000000ull          /* all goroutines */
#define REP_UNWIND_NS 1000000000ull       /* one thread's walk and names (a file read from a stuck disk) */
#define REP_CRASHER_WAIT_NS 6000000000ull /* a second crashing thread waits for the reporter */

/* One captured thread: filled by the thread itself (capture signal) or by the crashing thread. */
struct rep_slot {
    int tid;
    volatile int state; /* 0 asked, 1 captured; written by the owner thread with a release store */
    uint64_t fs_base;   /* its thread pointer (Go keeps g in TLS; x86_64 fs, aarch64 tpidr_el0) */
    char name[16];      /* its comm, as the thread read it (PR_GET_NAME); "" when that failed */
    ucontext_t uc;      /* a self-contained copy (rep_copy_context): x86_64's fpregs point inside it */
};

/* Install-time state. Written once by install before any handler is set, then only read, except
 * the fields marked otherwise. */
#define REP_FD_RESERVE 2 /* fds given back to the handler when the table is full (a pipe's two ends) */

struct rep_state {
    int installed;
    int dir_fd;
    struct ss_fdid dir_id;       /* what dir_fd was at install: checked before use (preflight.c) */
    struct ss_fdid reserve[REP_FD_RESERVE];
    struct ss_fdid secure_dir_id; /* /etc/lastgasp.conf's secure_dir, for a process not dumpable at the crash */
    char secure_dir_path[256];
    int install_pid;
    int include_environ, quiet;
    char dir_path[512];
    uint64_t at_phdr;            /* the main executable's program headers (auxv AT_PHDR) */
    uint32_t cpu_count;
    void *restorer;              /* libc's signal trampoline, for handlers set with raw rt_sigaction */
    unsigned long restorer_flag; /* SA_RESTORER when libc sets one (x86_64), 0 when not (aarch64: the vdso's) */
    int restorer_known;          /* the two above were learnt */
    struct ss_kaction prev[REP_NSIG];   /* dispositions before ours, as the kernel holds them */
    uint8_t ours[REP_NSIG];
    uint8_t go_first[REP_NSIG];  /* the previous handler is the Go runtime's: installed after Go */
    int keep_traceback;          /* LASTGASP_KEEP_TRACEBACK / Options.KeepTraceback: no crash bit */
    volatile int arm_pending;    /* preloaded into Go: handlers wait for the runtime's (rep_arm_after_go_nasync) */
    int crash_text_fd;           /* a memfd the Go runtime copies its crash output to, or -1 */
    struct ss_fdid crash_text_id;
    uint8_t *stack;              /* private handler stack: guard page, then REP_HANDLER_STACK */
    uint8_t *nested_altstack;
    struct ss_arena arena;
    struct rep_go go;            /* the executable's Go runtime, when it is Go */
};

extern struct rep_state rep_g;

/* The one fatal signal being reported. Written by the claiming thread only. */
struct rep_crash {
    volatile int claim_tid;      /* 0, then the reporting thread (atomic CAS) */
    volatile int done;           /* futex: 1 when the reporter is finished */
    volatile int release;        /* futex: 1 lets captured threads go */
    int sig;
    siginfo_t si;
    ucontext_t uc;               /* the crashing thread's context, fpregs copied in */
    int pid, tid;
    volatile int guard_active;   /* a guarded phase is running: a fault or timeout jumps out */
    volatile int guard_fired;    /* the last guard ended by a fault (1) or a timeout (2) */
    ss_jmp_buf guard_jb;
    int timer_id;                /* watchdog, or -1 */
    int capture_sig, watchdog_sig;  /* chosen by the crashing thread before the report (rep_pick_signals) */
    int report_pid, report_tid;  /* who runs the report: the helper task, or the crashing thread */
    volatile int helper_tid;     /* the helper while it lives (set by clone, cleared by the kernel), or 0 */
    struct ss_kaction watchdog_prev; /* the watchdog signal's disposition before the report */
    uint64_t entry_mask;         /* the crashing thread's mask when its handler began */
    char early_notes[512];       /* lines for the dump's notes from before rep_report (rep_note_early) */
    uint64_t deadline_ns;        /* CLOCK_MONOTONIC end of the whole report */
    struct rep_slot *slots;      /* REP_MAX_THREADS, in the arena */
    volatile int slot_count;
    struct { volatile int tid; ucontext_t *uc; } crashers[REP_MAX_CRASHERS];
    volatile int crasher_count;
    volatile int dump_kept;      /* set by the reporting task once the dump file is complete and kept */
};

extern struct rep_crash rep_c;

/* handler.c: the fatal-signal handler itself */
void rep_on_fatal_signal(int sig, siginfo_t *si, void *uc);

/* guard.c: the report's deadlines (a leaf: every handler file may call it) */
void rep_die_now(int sig) __attribute__((noreturn));
void rep_watchdog_start(void);
void rep_watchdog_stop(void);
void rep_watchdog_arm(uint64_t ns);
int rep_guard_run(void (*fn)(void *), void *arg, uint64_t budget_ns);
int rep_in_helper(void);
void rep_note_early(const char *what);
void rep_note_early_err(const char *what, long err);

/* go_exit.c: how a fatal signal of a Go program is handled (see the file's head) */
enum { REP_PATH_NATIVE, REP_PATH_GO_HANDLES, REP_PATH_GO_ABORT, REP_PATH_GO_SIGNAL, REP_PATH_GO_QUIET };
int rep_go_path(int sig, const siginfo_t *si, const ucontext_t *uc);
int rep_go_crash_bit_ours(void);
int rep_go_crash_bit_take(void);
void rep_go_crash_bit_put_back(void);
void rep_go_end(int path);

/* chain.c: handlers that were there before lastgasp, and children that share our memory */
enum { REP_CHAIN_NONE, REP_CHAIN_RECOVERED, REP_CHAIN_DYING };
int rep_chain_first(int sig, siginfo_t *si, void *uc, const void *ours);
int rep_shared_memory_child(void);
extern volatile int rep_fork_pid;

/* isolate.c */
void rep_report_isolated(void);
void rep_pick_signals(void);

/* capture.c */
void rep_capture_signal_handler(int sig, siginfo_t *si, void *uc);
int rep_capture_threads(int *tids, int count, uint64_t budget_ns);
void rep_release_threads(void);

/* report.c */
void rep_report(void *unused);
void rep_give_back(void);

/* unwind.c and unwind_cfi.c, with the architecture's part in <arch>/unwind.c and <arch>/unwind_cfi.c */
struct rep_regs {
    uint64_t v[REP_NREGS];    /* DWARF numbering (<arch>/regs.h); REP_DW_PC holds the pc */
    uint8_t valid[REP_NREGS];
    int exact_pc;      /* the pc is where execution stopped (top or signal frame), not a return address */
};
uint32_t rep_unwind(const ucontext_t *uc, uint64_t stack_lo, uint64_t stack_hi, const struct mdw_module *mods,
                    uint32_t nmods, struct lg_frame_record *out, uint32_t max);
int rep_cfi_step(const struct mdw_module *mods, uint32_t nmods, struct rep_regs *r);
void rep_cfi_reset(void);
int rep_stack_read(void *dst, uint64_t addr, size_t n); /* the walked thread's stack (unwind.c) */
int rep_stack_read_u64(uint64_t addr, uint64_t *out);
/* <arch>/unwind_cfi.c: registers from a context, the kernel's signal frames, return addresses */
void rep_cfi_regs_from_context(const ucontext_t *uc, struct rep_regs *r);
int rep_cfi_is_sigreturn(uint64_t pc);          /* pc is the signal trampoline (libc's or the vdso's) */
int rep_cfi_step_sigreturn(struct rep_regs *r); /* r's frame is the trampoline's: the interrupted registers */
uint64_t rep_cfi_return_address(uint64_t ra); /* ra as a code address (aarch64: PAC bits off) */
/* <arch>/unwind.c: the fallbacks' instruction decoding */
int rep_bad_call_step(struct rep_regs *r);      /* pc outside any code after a call through a bad pointer */
int rep_plt_step(struct rep_regs *r);           /* pc in a PLT stub that has no unwind table (aarch64), or 0 */
uint64_t rep_call_target(uint64_t ret);         /* the function a direct call returning to ret enters, or 0 */

/* symbols.c */
const char *rep_symbolize(const struct mdw_module *mods, int mi, uint64_t pc, uint64_t *start);
void rep_symbols_reset(void);

/* strtab.c: the dump's string table, deduplicated */
struct rep_strtab {
    char *buf;
    uint32_t len, cap;
    uint32_t *slots;   /* open-addressing hash of string offsets + 1 (0 = empty) */
    uint32_t nslots;
    int full;
};
void rep_strtab_init(struct rep_strtab *st, char *buf, uint32_t cap, uint32_t *slots, uint32_t nslots);
uint32_t rep_strtab_add(struct rep_strtab *st, const char *s, size_t n); /* LG_NONE when full */

/* modules.c */
uint32_t rep_collect_modules(const struct ss_mapping *maps, uint32_t nmaps, struct mdw_module *out,
                             uint32_t max);
int rep_module_index(const struct mdw_module *mods, uint32_t n, uint64_t pc);

/* <arch>/context.c: the signal context, and the minidump's CPU context and SystemInfo for this architecture */
extern const uint16_t rep_md_cpu_arch;     /* MD_CPU_ARCHITECTURE_* */
extern const uint32_t rep_md_context_size; /* bytes of one minidump context */
void rep_context_to_md(const ucontext_t *uc, void *out); /* out: rep_md_context_size bytes */
void rep_copy_context(ucontext_t *dst, const ucontext_t *src);
uint64_t rep_context_pc(const ucontext_t *uc);
uint64_t rep_context_sp(const ucontext_t *uc);
uint64_t rep_context_fp(const ucontext_t *uc);
uint64_t rep_context_lr(const ucontext_t *uc); /* the link register (aarch64 x30); 0 where calls push the return address */
void rep_cpuid(uint32_t vendor[3], uint32_t *version, uint32_t *features, uint32_t *amd_features);

/* install/install.c */
int rep_crash_text_fd_nasync(void);
void rep_arm_after_go_nasync(void);
int rep_install_from_env_nasync(int after_go);
/* Process annotations: a fixed table written by lastgasp_set_annotation() (install/annotate.c, normal context,
 * writers serialized by a mutex) and copied by the handler without any lock (annotate_read.c). Each slot is a
 * seqlock: a writer makes seq odd, changes the slot with relaxed atomic stores, then makes seq even again
 * (release); a reader copies with relaxed atomic loads and keeps the copy only if seq was the same even value
 * before and after. key_len 0 marks a free slot. */
struct rep_annotation {
    uint32_t seq;
    uint32_t key_len, value_len;
    char key[LASTGASP_ANNOTATION_KEY_MAX + 1];
    char value[LASTGASP_ANNOTATION_VALUE_MAX + 1];
};
extern struct rep_annotation rep_annotations[LASTGASP_ANNOTATIONS_MAX];

/* Copy every annotation that can be read consistently into copies[], and point out[] at them. Returns how
 * many; *skipped counts slots that kept changing through every retry. Handler path (and tests). */
#define REP_ANNOTATION_TRIES 16
uint32_t rep_annotations_snapshot(struct rep_annotation *copies, struct mdw_annotation *out, uint32_t *skipped);

/* install/protect.c and preflight.c (handler path): no leaks, no fd that is not ours */
#ifndef REP_CONF_PATH
#define REP_CONF_PATH "/etc/lastgasp.conf"
#endif
int rep_exclude_secrets_nasync(void);
int rep_secure_dir_nasync(char *out, size_t cap);
void rep_secure_dir_prepare_nasync(void);
void rep_secure_dir_release_nasync(void);
const char *rep_dir_path(void);
void rep_fds_prepare_nasync(void);
void rep_fds_release_nasync(void);
const char *rep_escape_nasync(char *out, size_t cap, const char *value);
#define REP_NOT_DUMPABLE (-100000) /* rep_preflight: no dump by the kernel's rule for cores */
int rep_preflight(void);
int rep_dir_fd(void);
int rep_crash_text_fd(void);

/* altstack.c */
int rep_altstack_ensure_nasync(void);

#endif
