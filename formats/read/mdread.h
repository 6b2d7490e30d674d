/* mdread.h — bounds-checked minidump reader.
 *
 * Normal context only (heap, stdio): this is the offline side used by the `lastgasp` tool, tests and fuzzers,
 * never the signal handler. mdr_open() parses a whole dump held in memory into the plain C model below.
 * Every offset and size taken from the file is checked against the buffer before it is used, so malformed or
 * truncated input never reads out of bounds; each problem becomes one line in `warnings` and the reader goes
 * on with everything else it can still read.
 *
 * Ownership: strings typed `char *` are heap copies owned by the model; pointers typed `const` (raw stream
 * bytes, memory contents, lastgasp strings) point into the caller's buffer, which must outlive the model
 * (mdr_open_file() keeps its own copy for as long as the model lives).
 */
#ifndef LASTGASP_MDREAD_H
#define LASTGASP_MDREAD_H

#include <stddef.h>
#include <stdint.h>

enum mdr_result {
    MDR_OK = 0,            /* the header was valid; look at `warnings` for what could not be read */
    MDR_NOT_MINIDUMP = -1, /* too short for a header, or not "MDMP" */
    MDR_NOMEM = -2,
    MDR_IO = -3,           /* mdr_open_file() could not read the file */
};

/* Warnings beyond this many are counted in warnings_dropped, not kept: a hostile file must not make the
 * report grow without bound. */
#define MDR_MAX_WARNINGS 64

enum mdr_arch {
    MDR_ARCH_NONE = 0,    /* no context in the dump */
    MDR_ARCH_AMD64,       /* decoded into reg[] (enum mdr_reg) */
    MDR_ARCH_UNSUPPORTED, /* present, but not a layout this reader decodes */
    MDR_ARCH_ARM64,       /* decoded into reg[] (enum mdr_reg_arm64) */
    MDR_ARCH_X86,         /* decoded into reg[] (enum mdr_reg_x86) */
    MDR_ARCH_ARM,         /* 32-bit; decoded into reg[] (enum mdr_reg_arm) */
};

/* Register slots of an amd64 context, in the order printed by reports. */
enum mdr_reg {
    MDR_RIP, MDR_RSP, MDR_RBP, MDR_RAX, MDR_RBX, MDR_RCX, MDR_RDX, MDR_RSI,
    MDR_RDI, MDR_R8, MDR_R9, MDR_R10, MDR_R11, MDR_R12, MDR_R13, MDR_R14,
    MDR_R15, MDR_EFLAGS,
    MDR_NREGS
};

extern const char *const mdr_reg_names[MDR_NREGS];

/* Register slots of an arm64 context (Breakpad's 796-byte layout, SystemInfo architecture 0x8003), in the
 * order printed by reports: pc, sp, fp (x29), lr (x30), x0-x28, cpsr. */
enum mdr_reg_arm64 {
    MDR_ARM64_PC, MDR_ARM64_SP, MDR_ARM64_FP, MDR_ARM64_LR, MDR_ARM64_X0,
    MDR_ARM64_CPSR = MDR_ARM64_X0 + 29,
    MDR_ARM64_NREGS
};

extern const char *const mdr_reg_names_arm64[MDR_ARM64_NREGS];

#define MDR_REGS_MAX MDR_ARM64_NREGS

struct mdr_context {
    enum mdr_arch arch;
    uint32_t context_flags;   /* as stored (arm64: the low 32 bits of its 64-bit field) */
    uint32_t nregs;           /* decoded slots of reg[]: 0 unless arch is AMD64 or ARM64 */
    const char *const *reg_names; /* nregs names, the order of reg[] */
    uint64_t reg[MDR_REGS_MAX];
};

/* The pc and sp of a decoded context (0 when it is not decoded). */
uint64_t mdr_context_pc(const struct mdr_context *ctx);
uint64_t mdr_context_sp(const struct mdr_context *ctx);

/* The other architectures of Linux minidumps (dumps of other writers; formats/read/mdread_context.c), in the
 * order printed by reports. The arm64 slots above serve both arm64 layouts (Breakpad's 796-byte one and the
 * 912-byte MD_CONTEXT_ARM64 one Crashpad writes). */
enum mdr_reg_x86 {
    MDR_X86_EIP, MDR_X86_ESP, MDR_X86_EBP, MDR_X86_EAX, MDR_X86_EBX, MDR_X86_ECX, MDR_X86_EDX, MDR_X86_ESI,
    MDR_X86_EDI, MDR_X86_EFLAGS,
    MDR_X86_NREGS
};

/* pc, sp, lr, then r0-r12 (r11 is the frame pointer of ARM code, r7 of Thumb code), cpsr. */
enum mdr_reg_arm {
    MDR_ARM_PC, MDR_ARM_SP, MDR_ARM_LR, MDR_ARM_R0,
    MDR_ARM_CPSR = MDR_ARM_R0 + 13,
    MDR_ARM_NREGS
};

extern const char *const mdr_reg_names_x86[MDR_X86_NREGS];
extern const char *const mdr_reg_names_arm[MDR_ARM_NREGS];

/* The frame pointer (rbp, ebp, r11, x29) and link register (arm, arm64; 0 elsewhere) of a decoded context; the
 * bytes of a pointer (8, or 4 for x86 and arm; 0 when not decoded). */
uint64_t mdr_context_fp(const struct mdr_context *ctx);
uint64_t mdr_context_lr(const struct mdr_context *ctx);
unsigned mdr_context_word(const struct mdr_context *ctx);

/* Raw bytes of a stream; data == NULL when the stream is absent. */
struct mdr_bytes {
    const uint8_t *data;
    size_t len;
};

enum mdr_stream_state {
    MDR_STREAM_READ,      /* parsed */
    MDR_STREAM_PARTIAL,   /* passes the end of the file: the part present was parsed */
    MDR_STREAM_BAD,       /* could not be read at all (starts past the end of the file) */
    MDR_STREAM_DUPLICATE, /* a second stream of a type already seen: ignored, the first one wins */
    MDR_STREAM_UNKNOWN,   /* type this reader does not know: listed, skipped */
    MDR_STREAM_UNUSED,    /* type 0, a placeholder */
};

struct mdr_stream {
    uint32_t type;
    uint32_t rva;
    uint32_t size;
    enum mdr_stream_state state;
};

struct mdr_exception {
    int present;
    uint32_t tid;
    uint32_t code;            /* Linux: signal number */
    uint32_t flags;           /* Linux: si_code */
    uint64_t address;         /* Linux: si_addr */
    struct mdr_context ctx;
};

struct mdr_sysinfo {
    int present;
    uint16_t arch;            /* MD_CPU_ARCHITECTURE_* */
    uint32_t platform;        /* MD_OS_* */
    uint8_t cpu_count;
    char cpu_vendor[13];      /* x86 cpuid vendor, "" when not x86 or not printable */
    char *csd_version;        /* UTF-8, or NULL */
};

struct mdr_thread {
    uint32_t tid;
    uint64_t stack_start;
    uint32_t stack_size;
    const uint8_t *stack;     /* NULL when the stack bytes are not inside the file */
    struct mdr_context ctx;
    char *name;               /* from ThreadNameList, or NULL */
};

struct mdr_module {
    uint64_t base;
    uint32_t size;
    char *path;               /* UTF-8, or NULL when the name could not be read */
    uint32_t cv_signature;    /* first 4 bytes of the CodeView record, 0 when none */
    char *build_id;           /* lowercase hex of a 'BpEL' record's bytes, or NULL */
    /* Set by the tool's debug-info pass (formats/debuginfo/debuginfo.c), never by the reader: where file:line came
     * from. NULL for a module nobody looked up; strings live as long as the process. */
    const char *debug_from;   /* "file", "debug file", "debuginfod", or "none" */
    const char *debug_path;   /* the file read, or NULL */
    const char *debug_url;    /* the debuginfod server that answered, or NULL */
    const char *debug_note;   /* why there is none ("none"), or NULL */
};

struct mdr_range {
    uint64_t start, end;      /* [start, end) */
};

struct mdr_memory {
    uint64_t start;
    uint32_t size;
    const uint8_t *data;      /* NULL when the range's bytes are not inside the file */
};

/* lastgasp crash info (LG_STREAM_CRASH_INFO). String pointers are NULL for LG_NONE or a bad offset and
 * otherwise point at a NUL-terminated string inside the stream's strings area (UTF-8 as the writer wrote it:
 * not validated here). Every thread's [first_frame, first_frame + frame_count) lies inside frames[]. */
struct mdr_lg_thread {
    uint32_t tid;
    uint32_t status;          /* enum lg_thread_status, unchecked */
    uint32_t first_frame;
    uint32_t frame_count;
    const char *name;
    int crashed;
};

struct mdr_lg_frame {
    uint64_t pc;
    uint64_t sp;
    uint32_t module_index;    /* an index into md->modules, or LG_NONE (checked) */
    const char *symbol;
    uint32_t symbol_delta;    /* meaningful when symbol != NULL */
    uint8_t trust;            /* enum lg_frame_trust, unchecked */
    /* Not in the stream: set by the tool's debug-info pass (formats/debuginfo/debuginfo.c), else NULL / 0. */
    const char *file;
    int32_t line;
    int inlined;              /* a source frame inlined into the next one, sharing its pc (no symbol_delta) */
};

struct mdr_lg_info {
    int present;
    uint32_t version;
    uint32_t header_size;
    uint32_t signal;
    int32_t si_code;
    uint64_t fault_address;   /* si_addr */
    uint32_t pid;
    uint32_t crashing_tid;
    uint32_t sender_pid;
    uint32_t sender_uid;
    uint64_t time_ns;
    uint32_t flags;           /* LG_FLAG_* */
    const char *notes;
    struct mdr_lg_thread *threads;
    size_t nthreads;
    struct mdr_lg_frame *frames;
    size_t nframes;
};

/* lastgasp Go (LG_STREAM_GO). Strings as in the crash info: NULL for LG_NONE or a bad offset, else inside the
 * stream's strings area. Goroutines with identical stacks share frame records, so frame ranges may overlap by
 * design; each one lies inside frames[] and holds at most MDR_GO_MAX_GOROUTINE_FRAMES frames, which keeps what
 * the renderers print proportional to the number of goroutine records even when a hostile file points every
 * goroutine at every frame. */
#define MDR_GO_MAX_GOROUTINE_FRAMES 4096u /* the writer's worst case is 100 physical frames x 16 inlined */

struct mdr_go_frame {
    uint64_t pc;              /* the physical frame's pc: exact for the innermost, else a return address */
    const char *function;
    const char *file;
    int32_t line;             /* 0 when unknown */
    int inlined;              /* a source frame inlined into the next one, sharing its pc */
    uint32_t elided;          /* not a frame: this many frames were left out here (deep stacks), else 0 */
    int native;               /* a C frame of the cgo call the goroutine is in */
};

struct mdr_go_goroutine {
    uint64_t goid;
    uint64_t parent_goid;     /* 0 when unknown */
    uint64_t wait_since_ns;   /* CLOCK_MONOTONIC, 0 when unknown */
    uint32_t status;          /* runtime _G* value without the scan bit, unchecked */
    const char *wait_reason;  /* as the runtime prints it ("chan receive"), or NULL */
    uint32_t flags;           /* LG_GOROUTINE_* */
    uint32_t thread_tid;      /* the thread it runs on, 0 when none */
    const struct mdr_go_frame *frames; /* innermost first, inside mdr_go_info.frames; NULL when nframes == 0 */
    size_t nframes;
    const char *created_by_function; /* the function of the `go` statement, or NULL */
    const char *created_by_file;
    int32_t created_by_line;
};

struct mdr_go_info {
    int present;
    uint32_t version;
    uint32_t header_size;
    const char *go_version;   /* "go1.26.8", or NULL */
    const char *build_info;   /* module path, deps and build settings as `go version -m` prints them, or NULL */
    const char *reason;       /* v2: why it died, the runtime's first lines ("panic: ...\n"); NULL in v1 or
                               * when the writer found none */
    uint32_t flags;           /* LG_GO_* */
    uint64_t crashing_goid;   /* 0 when no goroutine ran on the crashing thread */
    uint64_t now_ns;          /* CLOCK_MONOTONIC at capture */
    const char *notes;
    struct mdr_go_goroutine *goroutines; /* the writer puts the crashing goroutine first */
    size_t ngoroutines;
    struct mdr_go_frame *frames;
    size_t nframes;
};

/* Crashpad info (MD_CRASHPAD_INFO_STREAM): the process annotations, key -> value, in the dictionary's order.
 * Keys are unique (a later duplicate is dropped with a warning). Strings are heap copies, NUL-terminated, with
 * their length beside them: a hostile file may put a NUL inside, which the renderers escape; UTF-8 is not
 * validated here. A hostile file cannot make the report grow past the bounds below. */
#define MDR_MAX_ANNOTATIONS 1024
#define MDR_MAX_ANNOTATION_LEN (16u << 10) /* bytes of one key or value kept; longer ones are cut */

struct mdr_annotation {
    char *key;
    size_t key_len;
    char *value;
    size_t value_len;
};

struct mdr_crashpad {
    int present;
    uint32_t version;
    struct mdr_annotation *annotations;
    size_t nannotations;
};

struct mdr_dump {
    const uint8_t *buf;
    size_t len;
    uint32_t version;
    uint32_t time_date_stamp;

    struct mdr_stream *streams; /* the directory as read, in file order */
    size_t nstreams;

    struct mdr_exception exception;
    struct mdr_sysinfo sysinfo;
    int has_pid;
    uint32_t pid;             /* from MiscInfo, else the Tgid line of LinuxProcStatus */
    struct mdr_thread *threads;
    size_t nthreads;
    struct mdr_module *modules;
    size_t nmodules;
    struct mdr_memory *memory;
    size_t nmemory;
    struct mdr_bytes cpu_info, proc_status, cmdline, environment, auxv, maps;
    struct mdr_bytes cgroup, hostname; /* container identity (lastgasp streams), raw text */
    char *process_name;       /* the Name: line of LinuxProcStatus (the kernel's comm), or NULL */
    struct mdr_lg_info lg;
    struct mdr_go_info go;
    struct mdr_crashpad crashpad;
    struct mdr_bytes go_crash_text; /* LG_STREAM_GO_CRASH_TEXT: the Go runtime's own crash output, raw */

    char **warnings;
    size_t nwarnings;
    size_t warnings_dropped;

    uint8_t *owned;           /* mdr_open_file()'s copy of the file, freed by mdr_close() */
    /* Lookup indexes built by the reader, so that lookups stay O(log n) on hostile files. */
    size_t *thread_order;     /* indexes into threads[], sorted by tid (then index: the first one wins) */
    size_t *module_order;     /* indexes into modules[], sorted by base */
    int modules_overlap;      /* some modules overlap: mdr_module_at() then scans them all */
    /* For the stack walk (mdread_walk.c): the executable mappings of LinuxMaps, sorted by start (none when the
     * dump has no maps), and the smallest all-ones mask that covers every module (arm64 pointer signing). */
    struct mdr_range *code;
    size_t ncode;
    uint64_t module_mask;
};

/* ---- the tool's stack walk of a thread without lastgasp frames (mdread_walk.c) ----
 * From a decoded context and the thread's own stack memory only (its ThreadList stack bytes): the context
 * frame, then the frame-pointer chain (rbp, ebp, r11, x29; on arm and arm64 the link register is the first
 * return address), each link checked (aligned, inside the stack memory, above the previous one, a return address
 * inside a module's executable mapping), and where the chain breaks a bounded scan upwards for a word that is
 * such a return address, as Breakpad's stack scan. No CFI: the tool does not have the modules' files. */
#define MDR_WALK_MAX_FRAMES 64    /* as the writer's 64 frames a thread */
#define MDR_WALK_SCAN_WORDS 40    /* words one scan step looks at (Breakpad's kRASearchWords); 4x after the
                                   * context frame, as Breakpad */

struct mdr_walk_frame {
    uint64_t pc;              /* the context's pc, then return addresses */
    uint64_t sp;              /* the frame's stack pointer as the walk found it */
    uint8_t trust;            /* LG_TRUST_CONTEXT, LG_TRUST_FP or LG_TRUST_SCAN */
};

/* Frames of one thread, innermost first, into out[0..max): how many (0 when ctx is not decoded). t may be
 * NULL (a thread missing from the ThreadList): then no memory, so the context frame and, on arm, the lr.
 * budget, when not NULL, is how many stack words the walk may still read, decreased by those it reads: one
 * thread reads at most about MDR_WALK_MAX_FRAMES x 4 x MDR_WALK_SCAN_WORDS words, but a hostile dump can point
 * many threads at the same stack bytes, so a caller walking every thread bounds the whole (render_view.c
 * gives a dump MDR_WALK_DUMP_WORDS). */
#define MDR_WALK_DUMP_WORDS (1u << 22)
size_t mdr_walk(const struct mdr_dump *md, const struct mdr_thread *t, const struct mdr_context *ctx,
                struct mdr_walk_frame *out, size_t max, size_t *budget);

/* 1 when addr lies in a module and, when the dump has LinuxMaps, in an executable mapping. */
int mdr_is_code(const struct mdr_dump *md, uint64_t addr);

/* Parse buf[0..len). Returns MDR_OK when the header is a minidump header (the model then holds whatever
 * could be read, and err holds the first warning or ""), else a negative enum mdr_result with the reason in
 * err. The model is always safe to render and must always be released with mdr_close(). */
int mdr_open(struct mdr_dump *md, const uint8_t *buf, size_t len, char *err, size_t errlen);

/* Read the whole file at path, then mdr_open() it. MDR_IO with strerror in err when it cannot be read. */
int mdr_open_file(struct mdr_dump *md, const char *path, char *err, size_t errlen);
/* Read fd (a file, a pipe, a device) to its end into *buf (malloc'd, *len bytes), at most 4 GiB (past that no
 * rva can point), stopping early when the first 4 bytes are not "MDMP". MDR_OK, MDR_IO or MDR_NOMEM. */
int mdr_read_fd(int fd, uint8_t **buf, size_t *len, char *err, size_t errlen);

void mdr_close(struct mdr_dump *md);

/* The module whose [base, base + size) holds addr, or NULL. */
const struct mdr_module *mdr_module_at(const struct mdr_dump *md, uint64_t addr);

/* The ThreadList entry of tid, or NULL. */
const struct mdr_thread *mdr_thread_by_tid(const struct mdr_dump *md, uint32_t tid);

/* Short name of a stream type ("ThreadList", "lastgasp"), or NULL when unknown. */
const char *mdr_stream_name(uint32_t type);

/* Name of an MD_CPU_ARCHITECTURE_* value ("amd64"), or NULL. */
const char *mdr_arch_name(uint16_t arch);

#endif
