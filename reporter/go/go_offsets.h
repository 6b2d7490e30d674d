/* go_offsets.h — the Go runtime's struct layouts and names, keyed by Go version (prefix go_).
 *
 * What the handler needs to walk goroutines without DWARF: the byte offsets of the runtime.g,
 * runtime.m, runtime._panic, runtime.moduledata and internal/abi.Type fields it reads, and the text the Go traceback prints for a goroutine's status and wait
 * reason. Go 1.22 to 1.27, linux/amd64 and linux/arm64 (identical there).
 *
 * Where the values come from: the DWARF of real binaries built by each toolchain (runtime.g,
 * runtime.m, runtime.gobuf, runtime.stack) and the runtime's own runtime.waitReasonStrings and
 * runtime.gStatusStrings arrays read from those binaries; tests/go/offsets/run.sh checks every row
 * against them for each Go version it can build with, on both architectures. DWARF, when the binary
 * has it, is the better source: prefer it and use this table for stripped binaries.
 *
 * Everything here is handler-path safe: plain const tables and integer code, no libc.
 */
#ifndef LASTGASP_GO_OFFSETS_H
#define LASTGASP_GO_OFFSETS_H

#include <stdint.h>

/* An offset for a field this Go version does not have (g.syscallbp before 1.23). */
#define GO_OFF_ABSENT 0xffffu

/* Byte offsets into runtime.g, runtime.m and the rest. The width the handler may read at each offset is in
 * the comment; tests/go/offsets checks it against DWARF too. Pointers and uintptrs are 8 bytes. */
struct go_offsets {
    /* runtime.g */
    uint16_t g_stack_lo, g_stack_hi;      /* stack bounds [lo, hi) */
    uint16_t g_stackguard0;
    uint16_t g_panic, g_defer;            /* *_panic, *_defer */
    uint16_t g_m;                         /* *m, nil when not running */
    uint16_t g_sched_sp, g_sched_pc, g_sched_g, g_sched_ctxt, g_sched_lr, g_sched_bp; /* g.sched (gobuf) */
    uint16_t g_syscallsp, g_syscallpc;    /* set while in a syscall or a cgo call */
    uint16_t g_syscallbp;                 /* GO_OFF_ABSENT before 1.23 */
    uint16_t g_atomicstatus;              /* u32: _Grunning... | 0x1000 scan bit */
    uint16_t g_goid;                      /* u64 */
    uint16_t g_waitsince;                 /* i64 nanotime() when it began to wait, 0 unknown */
    uint16_t g_waitreason;                /* u8, index of waitReasonStrings (go_wait_reason) */
    uint16_t g_lockedm;                   /* muintptr: nonzero means "locked to thread" */
    uint16_t g_parent_goid;               /* u64: "created by ... in goroutine N" */
    uint16_t g_gopc, g_startpc;           /* pc of the go statement; entry of the goroutine's function */
    uint16_t g_labels;                    /* unsafe.Pointer to the pprof label set */
    uint16_t g_sig;                       /* u32: the signal that turned into this goroutine's panic */
    uint16_t g_sigcode0, g_sigcode1, g_sigpc; /* uintptr: its si_code, address and pc ("[signal ...]") */
    uint16_t g_size, gobuf_size;          /* sizeof(runtime.g), sizeof(runtime.gobuf) */
    /* runtime.m */
    uint16_t m_g0, m_procid, m_gsignal, m_curg;
    uint16_t m_caughtsig;                 /* guintptr: the g that was running when a fatal signal came */
    uint16_t m_p;                         /* puintptr */
    uint16_t m_id;                        /* i64: the "m=N" of the traceback */
    uint16_t m_throwing;                  /* u32 throwType */
    uint16_t m_incgo;                     /* u8 bool: inside a cgo call */
    uint16_t m_ncgo;                      /* i32: cgo calls in progress */
    uint16_t m_cgo_callers;               /* *cgoCallers ([32]uintptr) */
    uint16_t m_alllink;                   /* next m on runtime.allm */
    uint16_t m_lockedg;                   /* guintptr */
    uint16_t m_vdso_sp, m_vdso_pc;        /* nonzero while in a vDSO call: the traceback starts there */
    uint16_t m_dying;                     /* i32: nonzero once startpanic_m ran (the crash is printed) */
    uint16_t m_size;                      /* sizeof(runtime.m) */
    /* runtime._panic */
    uint16_t panic_arg;                   /* eface {*abi.Type, data}: the value passed to panic */
    uint16_t panic_link;                  /* *_panic: the older panic this one interrupted */
    uint16_t panic_recovered, panic_goexit; /* u8 bools */
    uint16_t panic_repanicked;            /* u8 bool; GO_OFF_ABSENT before 1.25 */
    uint16_t panic_size;                  /* sizeof(runtime._panic) */
    /* runtime.moduledata: the type descriptors, whose nameOffs are relative to types */
    uint16_t md_types, md_etypes;         /* uintptr */
    /* internal/abi.Type */
    uint16_t type_tflag, type_kind;       /* u8 each (TFlagExtraStar = 2; kind & 31) */
    uint16_t type_str;                    /* i32 NameOff */
};

/* Goroutine status values (runtime2.go). 0..9 are the same in every supported version. */
enum {
    GO_G_IDLE = 0, GO_G_RUNNABLE = 1, GO_G_RUNNING = 2, GO_G_SYSCALL = 3, GO_G_WAITING = 4,
    GO_G_DEAD = 6, GO_G_COPYSTACK = 8, GO_G_PREEMPTED = 9,
    GO_G_LEAKED = 10,      /* 1.26+ */
    GO_G_DEADEXTRA = 11,   /* 1.26+: an extra m's g, dead until a cgo callback takes it */
    GO_G_SCAN = 0x1000,    /* bit ORed into the others while the GC scans the stack */
};

/* Parse a Go version as .go.buildinfo and runtime.Version() give it: "go1.22.12", "go1.23rc1"
 * (patch 0), "go1.21.0", "devel go1.27-abcdef Tue ..." (patch 0), "go1.24.3 X:nodwarf5". Text after
 * the version is ignored. Returns 0, or -1 when s is not of that form (then the outputs are unset).
 * Any context; s must be NUL-terminated. */
int go_parse_version(const char *s, int *major, int *minor, int *patch);

/* Everything below is keyed by the whole version, patch included: backported runtime fixes moved
 * m's fields in 1.23.12 and 1.24.6 and added a wait reason in 1.23.4. Pass what go_parse_version
 * gives. */

/* Fill *out with the offsets of Go major.minor.patch. Returns 0, or -1 for a version the table
 * does not know (before 1.22, after 1.27, or a negative patch): a caller then needs DWARF or
 * gives up on goroutines. Any context. */
int go_offsets_for_version(int major, int minor, int patch, struct go_offsets *out);

/* The runtime's text for wait reason `reason` (waitReasonStrings; the numbering changes between
 * versions). Reason 0 (waitReasonZero) is "". NULL for an unknown version or a reason past the
 * end of that version's list (the runtime itself prints "unknown wait reason").
 * go_wait_reason_count gives the length of the list, 0 for an unknown version. Any context. */
const char *go_wait_reason(int major, int minor, int patch, uint8_t reason);
int go_wait_reason_count(int major, int minor, int patch);

/* The runtime's gStatusStrings text for a status, with the scan bit ignored: "idle", "runnable",
 * "running", "syscall", "waiting", "dead", "copystack", "preempted"; 1.26+ also "leaked" and
 * "waiting for cgo callback". The unused values 5 and 7 are "" as in the runtime, and anything past
 * the version's list is "???" as the runtime prints it. NULL only for an unknown version.
 * go_status_count gives the length of the list. Any context. */
const char *go_status_name(int major, int minor, int patch, uint32_t status);
int go_status_count(int major, int minor, int patch);

/* What the traceback prints first inside a goroutine's brackets ("goroutine 7 [chan receive]:"):
 * the wait reason when the goroutine waits (status waiting, or leaked from 1.26) and has one, else
 * the status name; "unknown wait reason" for a reason past the version's list, as the runtime
 * prints it. The suffixes the runtime may add after it (" (scan)", ", N minutes", ", locked to
 * thread") are the caller's. NULL only for an unknown version. Any context. */
const char *go_status_text(int major, int minor, int patch, uint32_t status, uint8_t waitreason);

#endif
