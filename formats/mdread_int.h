/* mdread_int.h — internals shared by the reader's files (mdread.c, mdread_streams.c, mdread_lg.c, mdread_go.c,
 * mdread_crashpad.c).
 *
 * Invariant for every function here: a pointer into the file is formed only after fmt_rd_at() (or a span
 * derived from it) has proved that the whole range lies inside the buffer. Sizes from the file are u32;
 * sums are done in u64 so that rva + size cannot wrap.
 */
#ifndef LASTGASP_MDREAD_INT_H
#define LASTGASP_MDREAD_INT_H

#include "mdread.h"
#include "minidump.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the reader copies little-endian structs as they are: port it before building on a big-endian host"
#endif

struct fmt_rd {
    struct fmt_md *md;
    int nomem;        /* an allocation failed: fmt_md_open() reports FMT_MD_NOMEM */
    int arch_warned;  /* the "unsupported architecture" warning is given once per dump */
};

/* The bytes of one stream that are present in the file (n may be less than the directory's size). */
struct fmt_rd_span {
    const uint8_t *p;
    size_t n;
    uint32_t type;
    uint32_t rva;
};

void fmt_rd_warn(struct fmt_rd *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Pointer to file bytes [off, off + n), or NULL when any of them lies outside the file. */
const uint8_t *fmt_rd_at(const struct fmt_rd *rd, uint64_t off, uint64_t n);

/* calloc that records failure in rd->nomem; count 0 gives NULL without failing. */
void *fmt_rd_calloc(struct fmt_rd *rd, size_t count, size_t size);

/* "ThreadList" or "0x47670005" for a stream type, in a caller's buffer. */
const char *fmt_rd_type_label(uint32_t type, char *buf, size_t buflen);

/* MINIDUMP_STRING at rva as a heap UTF-8 string; NULL (with a warning naming `who`) when unreadable. An odd
 * byte length is warned about and its last byte dropped; unpaired surrogates become U+FFFD. */
char *fmt_rd_string(struct fmt_rd *rd, uint32_t rva, const char *who);

/* Decode the CPU context at loc into ctx (arch NONE when loc is empty or unreadable). */
void fmt_rd_context(struct fmt_rd *rd, const struct md_location *loc, struct fmt_md_context *ctx,
                    const char *who);

/* Number of whole entries of a "u32 count; entry[count]" list stream that are present; *first is set to the
 * offset of entry 0 (4, or 8 when a producer padded the count to 8 bytes). Warns when the count does not fit. */
size_t fmt_rd_list(struct fmt_rd *rd, const struct fmt_rd_span *s, size_t entry_size, size_t *first);

/* Sorted lookup indexes (md->thread_order, md->module_order), built once the list is read. */
void fmt_rd_index_threads(struct fmt_rd *rd);
void fmt_rd_index_modules(struct fmt_rd *rd);

/* Indexes 0..n-1 sorted by key(md, i), ties by index. NULL when n == 0 or memory ran out. */
size_t *fmt_rd_sorted_order(struct fmt_rd *rd, size_t n, uint64_t (*key)(const struct fmt_md *, size_t));

/* Index into md->threads of the first thread with this tid, or -1. */
long fmt_rd_find_thread(const struct fmt_md *md, uint32_t tid);

/* One of lastgasp's own streams (crash info, Go) as its parser lays it out: a header, record areas, then a
 * strings area of NUL-terminated strings addressed by byte offset (formats/README.md). The helpers below live
 * in mdread_lg.c. */
struct fmt_rd_lgs {
    const struct fmt_rd_span *s;
    const char *name;         /* "lastgasp", "lastgasp Go": the first word of each warning */
    const uint8_t *strings;   /* set by fmt_rd_lg_strings() */
    size_t strings_len;       /* bytes of the strings area present in the stream */
};

/* The string at offset off of the strings area: NULL for LG_NONE, or with a warning for a bad offset. The
 * warning names `what`, then idx unless SIZE_MAX, then field unless NULL ("goroutine 3 wait_reason"). */
const char *fmt_rd_lg_string(struct fmt_rd *rd, const struct fmt_rd_lgs *l, uint32_t off, const char *what,
                             size_t idx, const char *field);

/* How many of `count` records of `size` bytes at *off are present in the stream; advances *off past the area
 * as declared. Records smaller than v1_size cannot be read (0, with a warning); an area that starts past the
 * end of the stream reads 0 records and leaves *off past the end. */
size_t fmt_rd_lg_area(struct fmt_rd *rd, const struct fmt_rd_lgs *l, uint64_t *off, uint32_t count,
                      uint32_t size, size_t v1_size, const char *what);

/* Locate the strings area (size bytes at off) in l: the part present, with a warning when it is cut. */
void fmt_rd_lg_strings(struct fmt_rd *rd, struct fmt_rd_lgs *l, uint64_t off, uint32_t size);

/* One parser per stream type (mdread_streams.c, mdread_lg.c, mdread_go.c, mdread_crashpad.c). Called in
 * dependency order by fmt_md_open(): SystemInfo first (contexts need the architecture), ThreadList before
 * ThreadNameList and Exception, ModuleList before the lastgasp stream (frames refer to modules by index). The
 * Go and Crashpad streams refer to nothing else. */
void fmt_rd_sysinfo(struct fmt_rd *rd, const struct fmt_rd_span *s);
void fmt_rd_misc(struct fmt_rd *rd, const struct fmt_rd_span *s);
void fmt_rd_threads(struct fmt_rd *rd, const struct fmt_rd_span *s);
void fmt_rd_thread_names(struct fmt_rd *rd, const struct fmt_rd_span *s);
void fmt_rd_modules(struct fmt_rd *rd, const struct fmt_rd_span *s);
void fmt_rd_memory(struct fmt_rd *rd, const struct fmt_rd_span *s);
void fmt_rd_exception(struct fmt_rd *rd, const struct fmt_rd_span *s);
void fmt_rd_lg(struct fmt_rd *rd, const struct fmt_rd_span *s);
void fmt_rd_go(struct fmt_rd *rd, const struct fmt_rd_span *s);
void fmt_rd_crashpad(struct fmt_rd *rd, const struct fmt_rd_span *s);

#endif
