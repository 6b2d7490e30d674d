/* mdwrite.h — the streaming minidump writer (prefix mdw_; the layout in minidump.h is md_).
 *
 * RULES: async-signal-safe. The writer takes a fully captured model (struct mdw_dump, whose
 * arrays live in the reporter's arena) and emits the file in one forward pass to a sink. It calls
 * no libc function and allocates nothing; memory it copies into the dump is read through the
 * model's read_mem callback (the fault-tolerant read in the handler, memcpy in tests).
 */
#ifndef LASTGASP_MDWRITE_H
#define LASTGASP_MDWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "minidump.h"

/* Returns 0, or a negative error that stops the writer. */
typedef int (*mdw_sink)(const void *p, size_t n, void *ctx);
/* Copy n bytes at address src into dst; returns n or a negative error (the writer writes zeros). */
typedef long (*mdw_read_mem)(void *dst, uint64_t src, size_t n);

struct mdw_thread {
    uint32_t tid;
    uint32_t status;        /* enum lg_thread_status */
    uint32_t crashed;
    uint32_t first_frame, frame_count;
    uint32_t name_off;      /* string offset or LG_NONE */
    uint64_t stack_start;   /* captured stack range, inside one of the memory ranges; size 0 = none */
    uint64_t stack_size;
    const void *context;    /* mdw_dump.context_size bytes; NULL when status != LG_THREAD_OK */
};

struct mdw_module {
    uint64_t base, size;
    const char *path;       /* UTF-8, path_len bytes */
    uint32_t path_len;
    uint8_t build_id[64];
    uint32_t build_id_len;  /* 0 = no CodeView record */
};

struct mdw_range {
    uint64_t start, size;   /* sorted by start, non-overlapping */
};

struct mdw_blob {
    const void *data;
    uint32_t size;          /* 0 = stream not written */
};

/* One process annotation (lastgasp_set_annotation): UTF-8 bytes, no NUL inside, not NUL-terminated. */
struct mdw_annotation {
    const char *key;
    uint32_t key_len;       /* > 0 */
    const char *value;
    uint32_t value_len;
};

/* lastgasp's Go stream: the reporter fills the header but for the record sizes. */
struct mdw_go {
    int present;
    struct lg_go_header h;
    const struct lg_go_goroutine *goroutines;
    const struct lg_go_frame *frames;
    const char *strings;
};

struct mdw_dump {
    /* the crash */
    uint32_t signal;
    int32_t si_code;
    uint64_t fault_address;   /* si_addr */
    uint32_t pid, crashing_tid, sender_pid, sender_uid;
    uint64_t time_ns;
    uint32_t flags;               /* LG_FLAG_* */
    /* system */
    const char *os_version;       /* "Linux 6.1.0 #1 SMP ... x86_64" */
    uint32_t os_major, os_minor, os_build; /* kernel release, "6.1.0-..." -> 6, 1, 0 */
    uint32_t cpu_count;
    uint16_t cpu_arch;            /* MD_CPU_ARCHITECTURE_*; 0 = amd64 */
    uint32_t context_size;        /* bytes of each thread's context; 0 = sizeof(struct md_context_amd64) */
    /* amd64: cpuid's vendor, leaf 1 eax/edx, leaf 0x80000001 edx; arm64: cpu_version = MIDR, cpu_features =
     * AT_HWCAP, the rest unused */
    uint32_t cpu_vendor[3], cpu_version, cpu_features, cpu_amd_features;
    /* threads; the crashing thread's context is also the Exception stream's */
    const struct mdw_thread *threads;
    uint32_t thread_count;
    const struct lg_frame_record *frames;
    uint32_t frame_count;
    const char *strings;          /* lastgasp string table */
    uint32_t strings_size;
    uint32_t notes_off;
    const struct mdw_module *modules; /* main executable first */
    uint32_t module_count;
    const struct mdw_range *ranges;
    uint32_t range_count;
    mdw_read_mem read_mem;
    struct mdw_go go;
    /* the Crashpad info stream, written when annotation_count > 0 */
    const struct mdw_annotation *annotations;
    uint32_t annotation_count;
    /* the Go runtime's own crash output (what debug.SetCrashOutput copies), written when size > 0 */
    struct mdw_blob go_crash_text;
    /* raw /proc text streams */
    struct mdw_blob proc_status, cmdline, auxv, maps, environ;
    /* container identity: /proc/self/cgroup and the uname nodename, as text */
    struct mdw_blob cgroup, hostname;
};

/* Write the dump to sink. Returns the number of bytes written, or a negative sink error. */
int64_t mdw_write(const struct mdw_dump *d, mdw_sink sink, void *ctx);

/* The length of the file's head that readers need to open it (header, directory and every stream up to the
 * thread list, which Breakpad and rust-minidump require): a file cut shorter than this is of no use. */
uint64_t mdw_openable_size(const struct mdw_dump *d);

/* Memory ranges: sort by start and merge overlapping or touching ranges, in place. Returns the
 * new count. Insertion sort: bounded by n^2 with n at most a few thousand ranges. */
uint32_t mdw_ranges_normalize(struct mdw_range *r, uint32_t n);

#endif
