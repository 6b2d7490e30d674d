/* minidump.h — on-disk layouts of the minidump format as lastgasp writes and reads it.
 *
 * Little-endian, packed: these structs are the bytes on disk, used by the writer (async-signal-safe)
 * and by the bounds-checked reader alike. Sizes are asserted below so a layout slip fails the build.
 * Sources: Breakpad's minidump_format.h, Microsoft's minidumpapiset.h (field names follow them) and
 * Crashpad's minidump_extensions.h (the Crashpad info stream).
 */
#ifndef LASTGASP_MINIDUMP_H
#define LASTGASP_MINIDUMP_H

#include <stdint.h>

#define MD_SIGNATURE 0x504d444du /* "MDMP" */
#define MD_VERSION 0x0000a793u

enum md_stream_type {
    MD_UNUSED_STREAM = 0,
    MD_THREAD_LIST_STREAM = 3,
    MD_MODULE_LIST_STREAM = 4,
    MD_MEMORY_LIST_STREAM = 5,
    MD_EXCEPTION_STREAM = 6,
    MD_SYSTEM_INFO_STREAM = 7,
    MD_MISC_INFO_STREAM = 15,
    MD_THREAD_NAME_LIST_STREAM = 24,
    MD_LINUX_CPU_INFO = 0x47670003,
    MD_LINUX_PROC_STATUS = 0x47670004,
    MD_LINUX_CMD_LINE = 0x47670006,
    MD_LINUX_ENVIRON = 0x47670007,
    MD_LINUX_AUXV = 0x47670008,
    MD_LINUX_MAPS = 0x47670009,
    /* lastgasp's own range 0x476F0000-0x476FFFFF ('Go'); layouts in formats/README.md. */
    LG_STREAM_CRASH_INFO = 0x476F0001,
    LG_STREAM_GO = 0x476F0002,
    LG_STREAM_GO_CRASH_TEXT = 0x476F0003, /* raw UTF-8: the Go runtime's own crash output */
    /* Container identity, raw text like the Linux streams: */
    LG_STREAM_CGROUP = 0x476F0004,   /* /proc/self/cgroup */
    LG_STREAM_HOSTNAME = 0x476F0005, /* uname nodename, no terminator */
    /* Crashpad's range ("CP"): process annotations, which Sentry and rust-minidump read. */
    MD_CRASHPAD_INFO_STREAM = 0x43500001,
};

#define MD_CPU_ARCHITECTURE_AMD64 9
#define MD_CPU_ARCHITECTURE_ARM64 0x8003
#define MD_OS_LINUX 0x8201

#define MD_CONTEXT_AMD64_FULL 0x0010000Bu
#define MD_MISC1_PROCESS_ID 0x1u
#define MD_CVINFO_ELF_SIGNATURE 0x4270454cu /* "BpEL" */

#pragma pack(push, 1)

struct md_header {
    uint32_t signature;
    uint32_t version;
    uint32_t stream_count;
    uint32_t stream_directory_rva;
    uint32_t checksum;
    uint32_t time_date_stamp;
    uint64_t flags;
};

struct md_location {
    uint32_t data_size;
    uint32_t rva;
};

struct md_directory {
    uint32_t stream_type;
    struct md_location location;
};

struct md_memory_descriptor {
    uint64_t start_of_memory_range;
    struct md_location memory;
};

struct md_thread {
    uint32_t thread_id;
    uint32_t suspend_count;
    uint32_t priority_class;
    uint32_t priority;
    uint64_t teb;
    struct md_memory_descriptor stack;
    struct md_location thread_context;
};

struct md_vs_fixedfileinfo {
    uint32_t field[13];
};

struct md_module {
    uint64_t base_of_image;
    uint32_t size_of_image;
    uint32_t checksum;
    uint32_t time_date_stamp;
    uint32_t module_name_rva;
    struct md_vs_fixedfileinfo version_info;
    struct md_location cv_record;
    struct md_location misc_record;
    uint64_t reserved0;
    uint64_t reserved1;
};

struct md_exception_stream {
    uint32_t thread_id;
    uint32_t align;
    uint32_t exception_code;   /* Linux: signal number */
    uint32_t exception_flags;  /* Linux: si_code */
    uint64_t exception_record;
    uint64_t exception_address; /* Linux: si_addr */
    uint32_t number_parameters;
    uint32_t unused_alignment;
    uint64_t exception_information[15];
    struct md_location thread_context;
};

struct md_system_info {
    uint16_t processor_architecture;
    uint16_t processor_level;
    uint16_t processor_revision;
    uint8_t number_of_processors;
    uint8_t product_type;
    uint32_t major_version;
    uint32_t minor_version;
    uint32_t build_number;
    uint32_t platform_id;
    uint32_t csd_version_rva;
    uint16_t suite_mask;
    uint16_t reserved2;
    uint32_t cpu[6]; /* x86: vendor_id[3], version, features, amd_extended */
};

struct md_misc_info {
    uint32_t size_of_info;
    uint32_t flags1;
    uint32_t process_id;
    uint32_t process_create_time;
    uint32_t process_user_time;
    uint32_t process_kernel_time;
};

struct md_thread_name {
    uint32_t thread_id;
    uint64_t rva_of_thread_name;
};

/* Contexts of the other architectures minidumps carry on Linux, which only the tool reads (dumps from other
 * writers). Layouts and flags from Breakpad's minidump_cpu_*.h, checked against rust-minidump's format.rs. The
 * CPU-type bits of context_flags are those under 0xffffff00 (Breakpad's MD_CONTEXT_CPU_MASK). */
#define MD_CPU_ARCHITECTURE_X86 0
#define MD_CPU_ARCHITECTURE_ARM 5
#define MD_CPU_ARCHITECTURE_ARM64_MS 12 /* PROCESSOR_ARCHITECTURE_ARM64: Crashpad's and Windows' value */
#define MD_CONTEXT_CPU_MASK 0xffffff00u
#define MD_CONTEXT_X86 0x00010000u
#define MD_CONTEXT_ARM 0x40000000u
#define MD_CONTEXT_ARM64 0x00400000u   /* the current (Microsoft) arm64 layout, md_context_arm64_ms */

/* 32-bit x86 (Breakpad MDRawContextX86, WinNT.h's CONTEXT): 716 bytes. */
struct md_context_x86 {
    uint32_t context_flags;
    uint32_t dr0, dr1, dr2, dr3, dr6, dr7;
    uint8_t float_save[112]; /* control/status/tag words, error and data pointers, 80 bytes of x87 registers, cr0 */
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebx, edx, ecx, eax;
    uint32_t ebp, eip, cs, eflags, esp, ss;
    uint8_t extended_registers[512];
};

/* 32-bit arm (Breakpad MDRawContextARM): 368 bytes. r11 is the frame pointer of ARM code (r7 of Thumb). */
#define MD_ARM_REG_FP 11
#define MD_ARM_REG_SP 13
#define MD_ARM_REG_LR 14
#define MD_ARM_REG_PC 15

struct md_context_arm {
    uint32_t context_flags;
    uint32_t iregs[16];    /* r0-r12, sp, lr, pc */
    uint32_t cpsr;
    uint64_t fpscr;
    uint64_t fpregs[32];   /* d0-d31 */
    uint32_t fpextra[8];
};

/* arm64, the current layout (Breakpad MDRawContextARM64, rust-minidump CONTEXT_ARM64, Windows' ARM64 CONTEXT):
 * what Crashpad writes, with SystemInfo architecture 12. 912 bytes. */
struct md_context_arm64_ms {
    uint32_t context_flags;
    uint32_t cpsr;
    uint64_t iregs[31];    /* x0-x28, x29 (fp), x30 (lr) */
    uint64_t sp;
    uint64_t pc;
    uint8_t vregs[32][16];
    uint32_t fpcr;
    uint32_t fpsr;
    uint32_t bcr[8];
    uint64_t bvr[8];
    uint32_t wcr[2];
    uint64_t wvr[2];
};

/* x86_64 CPU context (Breakpad MDRawContextAMD64). */
struct md_context_amd64 {
    uint64_t p_home[6];
    uint32_t context_flags;
    uint32_t mx_csr;
    uint16_t cs, ds, es, fs, gs, ss;
    uint32_t eflags;
    uint64_t dr0, dr1, dr2, dr3, dr6, dr7;
    uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rip;
    uint8_t flt_save[512]; /* FXSAVE image, copied from Linux's fpstate */
    uint8_t vector_register[26][16];
    uint64_t vector_control;
    uint64_t debug_control;
    uint64_t last_branch_to_rip;
    uint64_t last_branch_from_rip;
    uint64_t last_exception_to_rip;
    uint64_t last_exception_from_rip;
};

/* arm64 CPU context: Breakpad's MDRawContextARM64_Old, the layout Breakpad's Linux client writes with
 * SystemInfo architecture MD_CPU_ARCHITECTURE_ARM64 (0x8003). LLDB's minidump reader decodes this one
 * (x0-x30, sp, pc, cpsr, fpsr, fpcr, v0-v31 in sequence), Breakpad and rust-minidump take it by its flags.
 * Breakpad packs it to 4 bytes: cpsr at 272, fpsr 276, fpcr 280, v0 at 284; 796 bytes in all. */
#define MD_CONTEXT_ARM64_OLD 0x80000000u
#define MD_CONTEXT_ARM64_OLD_FULL (MD_CONTEXT_ARM64_OLD | 0x2u /* integer */ | 0x4u /* floating point */)
#define MD_ARM64_REG_FP 29
#define MD_ARM64_REG_LR 30
#define MD_ARM64_REG_SP 31
#define MD_ARM64_REG_PC 32

struct md_context_arm64 {
    uint64_t context_flags;
    uint64_t iregs[33];    /* x0-x28, x29 (fp), x30 (lr), sp, pc */
    uint32_t cpsr;
    uint32_t fpsr;
    uint32_t fpcr;
    uint8_t vregs[32][16]; /* v0-v31, little-endian 128-bit */
} __attribute__((packed, aligned(4)));

/* Crashpad info stream (MD_CRASHPAD_INFO_STREAM), from Crashpad's minidump/minidump_extensions.h
 * (MinidumpCrashpadInfo). Crashpad writes the stream's size as exactly this struct; the dictionary and its
 * strings lie outside it, reached by rva. A reader must accept any version >= 1 as v1-compatible. */
#define MD_CRASHPAD_INFO_VERSION 1

struct md_crashpad_info {
    uint32_t version;
    uint8_t report_id[16];                /* a UUID, zeros when none */
    uint8_t client_id[16];                /* a UUID, zeros when none */
    struct md_location simple_annotations; /* -> md_simple_string_dictionary */
    struct md_location module_list;        /* -> MinidumpModuleCrashpadInfoList; lastgasp writes {0, 0} */
};

/* u32 count, then count entries. */
struct md_simple_string_dictionary_entry {
    uint32_t key_rva;   /* -> MinidumpUTF8String: u32 length in bytes (no NUL), the bytes, a NUL */
    uint32_t value_rva;
};

/* lastgasp crash-info stream (LG_STREAM_CRASH_INFO), version 1. See formats/README.md. */
#define LG_CRASH_INFO_VERSION 1
#define LG_NONE 0xffffffffu

struct lg_info_header {
    uint32_t version;
    uint32_t header_size;      /* sizeof(struct lg_info_header): readers skip what they do not know */
    uint32_t signal;
    int32_t si_code;
    uint64_t fault_address;   /* si_addr */
    uint32_t pid;
    uint32_t crashing_tid;
    uint32_t sender_pid;       /* si_pid for user-sent signals, else 0 */
    uint32_t sender_uid;
    uint64_t time_ns;          /* CLOCK_REALTIME at capture */
    uint32_t thread_count;
    uint32_t thread_record_size;
    uint32_t frame_count;
    uint32_t frame_record_size;
    uint32_t strings_size;
    uint32_t notes_off;        /* string offset of free-text notes (what could not be captured), or LG_NONE */
    uint32_t flags;            /* LG_FLAG_* */
    uint32_t reserved;
};

#define LG_FLAG_FRAMES_TRUNCATED 0x1u
#define LG_FLAG_THREADS_TRUNCATED 0x2u
#define LG_FLAG_ENVIRON 0x4u

enum lg_thread_status {
    LG_THREAD_OK = 0,        /* registers and stack captured */
    LG_THREAD_NO_ANSWER = 1, /* did not answer the capture signal before the deadline */
    LG_THREAD_GONE = 2,      /* exited between listing and signalling */
};

struct lg_thread_record {
    uint32_t tid;
    uint32_t status;           /* enum lg_thread_status */
    uint32_t first_frame;      /* index into the frame records */
    uint32_t frame_count;
    uint32_t name_off;         /* string offset, or LG_NONE */
    uint32_t crashed;          /* 1 for the crashing thread */
};

enum lg_frame_trust {
    LG_TRUST_CONTEXT = 1,    /* from a signal context: the top frame, and the one a signal stopped (after a signal frame) */
    LG_TRUST_CFI = 2,        /* from the module's unwind tables (.eh_frame) */
    LG_TRUST_FP = 3,         /* frame-pointer chain */
    LG_TRUST_SCAN = 4,       /* stack scan: a return address found above sp (code with neither of the above) */
};

struct lg_frame_record {
    uint64_t pc;               /* exact pc for frames of trust context, return address for the others */
    uint64_t sp;
    uint32_t module_index;     /* index into ModuleList, or LG_NONE */
    uint32_t symbol_off;       /* string offset of the function name, or LG_NONE */
    uint32_t symbol_delta;     /* pc - start of function, valid when symbol_off != LG_NONE */
    uint8_t trust;             /* enum lg_frame_trust */
    uint8_t pad[3];
};

/* lastgasp Go stream (LG_STREAM_GO), version 2 (v1 had no reason). See formats/README.md. */
#define LG_GO_VERSION 2

struct lg_go_header {
    uint32_t version;
    uint32_t header_size;
    uint32_t go_version_off;   /* string offset: "go1.26.8" */
    uint32_t flags;            /* LG_GO_* */
    uint64_t crashing_goid;    /* 0: no goroutine was running on the crashing thread */
    uint64_t now_ns;           /* CLOCK_MONOTONIC at capture: the runtime's nanotime, for wait durations */
    uint32_t goroutine_count;
    uint32_t goroutine_record_size;
    uint32_t frame_count;
    uint32_t frame_record_size;
    uint32_t strings_size;
    uint32_t notes_off;        /* string offset of notes (what could not be read, and why), or LG_NONE */
    uint32_t build_info_off;   /* string offset of the module information (go version -m), or LG_NONE */
    uint32_t reason_off;       /* v2: string offset of why it died, as the runtime's first lines, or LG_NONE
                                * (v1: reserved, 0; not a string offset) */
};

#define LG_GO_GOROUTINES_TRUNCATED 0x1u
#define LG_GO_FRAMES_TRUNCATED 0x2u
#define LG_GO_NO_GOROUTINE_LIST 0x4u /* allgs not found: only the crashing goroutine is present */

struct lg_go_goroutine {
    uint64_t goid;
    uint64_t parent_goid;      /* 0 when unknown */
    uint64_t wait_since_ns;    /* CLOCK_MONOTONIC, 0 when unknown */
    uint32_t status;           /* runtime.g.atomicstatus, scan bit cleared */
    uint32_t wait_reason_off;  /* string offset, or LG_NONE */
    uint32_t flags;            /* LG_GOROUTINE_* */
    uint32_t thread_tid;       /* the thread it runs on (m.procid), 0 when none */
    uint32_t first_frame;      /* frames are shared: identical stacks point at the same records */
    uint32_t frame_count;
    uint32_t created_by_function_off; /* string offsets, or LG_NONE */
    uint32_t created_by_file_off;
    int32_t created_by_line;
    uint32_t reserved;
};

#define LG_GOROUTINE_CRASHED 0x1u
#define LG_GOROUTINE_LOCKED 0x2u   /* locked to its thread (LockOSThread) */
#define LG_GOROUTINE_TRUNCATED 0x4u /* more frames than the cap */

#define LG_GO_FRAME_INLINED 0x1u
#define LG_GO_FRAME_ELIDED 0x2u    /* not a frame: `line` frames were left out here (runtime style) */
#define LG_GO_FRAME_NATIVE 0x4u    /* a C frame of the cgo call the goroutine is in (from the thread) */

struct lg_go_frame {
    uint64_t pc;               /* the physical frame's pc (return address but for the innermost) */
    uint32_t function_off;     /* string offsets, or LG_NONE */
    uint32_t file_off;
    int32_t line;
    uint8_t flags;             /* 1: inlined (a source frame with no physical frame of its own) */
    uint8_t pad[3];
};

#pragma pack(pop)

/* The GNU build-id in an ELF note area of size bytes (buildid.c): 1 and *id, *len pointing into notes when
 * found; 0 when the area holds none or ends inside a note. */
int md_build_id_note(const uint8_t *notes, uint64_t size, const uint8_t **id, uint32_t *len);

/* Linux signal names and si_code names (signames.c; x86_64 and arm64 share the numbers). */
/* "SIGSEGV", or NULL for a number without a name. */
const char *md_signal_name(uint32_t signo);
/* "SEGV_MAPERR", "SI_TKILL", or NULL when the code has no name for that signal. */
const char *md_si_code_name(uint32_t signo, int32_t code);


_Static_assert(sizeof(struct md_context_x86) == 716, "md_context_x86");
_Static_assert(sizeof(struct md_context_arm) == 368, "md_context_arm");
_Static_assert(sizeof(struct md_context_arm64_ms) == 912, "md_context_arm64_ms");
_Static_assert(__builtin_offsetof(struct md_context_arm64_ms, pc) == 264, "md_context_arm64_ms pc");
_Static_assert(sizeof(struct md_crashpad_info) == 52, "md_crashpad_info");
_Static_assert(sizeof(struct md_simple_string_dictionary_entry) == 8, "md_simple_string_dictionary_entry");
_Static_assert(sizeof(struct lg_go_header) == 64, "lg_go_header");
_Static_assert(sizeof(struct lg_go_goroutine) == 64, "lg_go_goroutine");
_Static_assert(sizeof(struct lg_go_frame) == 24, "lg_go_frame");
_Static_assert(sizeof(struct md_header) == 32, "md_header");
_Static_assert(sizeof(struct md_directory) == 12, "md_directory");
_Static_assert(sizeof(struct md_memory_descriptor) == 16, "md_memory_descriptor");
_Static_assert(sizeof(struct md_thread) == 48, "md_thread");
_Static_assert(sizeof(struct md_module) == 108, "md_module");
_Static_assert(sizeof(struct md_exception_stream) == 168, "md_exception_stream");
_Static_assert(sizeof(struct md_system_info) == 56, "md_system_info");
_Static_assert(sizeof(struct md_misc_info) == 24, "md_misc_info");
_Static_assert(sizeof(struct md_thread_name) == 12, "md_thread_name");
_Static_assert(sizeof(struct md_context_amd64) == 1232, "md_context_amd64");
_Static_assert(sizeof(struct md_context_arm64) == 796, "md_context_arm64");
_Static_assert(__builtin_offsetof(struct md_context_arm64, vregs) == 284, "md_context_arm64 vregs");
_Static_assert(sizeof(struct lg_info_header) == 80, "lg_info_header");
_Static_assert(sizeof(struct lg_thread_record) == 24, "lg_thread_record");
_Static_assert(sizeof(struct lg_frame_record) == 32, "lg_frame_record");

#endif
