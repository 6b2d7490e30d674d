/* mdread_int.h — internals shared by the reader's files: mdread.c (header, directory, dispatch) calls the
 * stream parsers (mdread_streams.c, mdread_lg.c, mdread_go.c, mdread_crashpad.c, mdread_context.c), which read
 * through the leaves mdread_span.c (bounded reads, strings, warnings) and mdread_names.c; mdread_lookup.c
 * builds the indexes, mdread_walk.c the tool's stack walk for dumps of other writers.
 *
 * Invariant for every function here: a pointer into the file is formed only after mdr_at() (or a span
 * derived from it) has proved that the whole range lies inside the buffer. Sizes from the file are u32;
 * sums are done in u64 so that rva + size cannot wrap.
 */
#ifndef LASTGASP_MDREAD_INT_H
#define LASTGASP_MDREAD_INT_H

#include "mdread.h"
#include "../minidump/minidump.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the reader copies little-endian structs as they are: port it before building on a big-endian host"
#endif

struct mdr_reader {
    struct mdr_dump *md;
    int nomem;        /* an allocation failed: mdr_open() reports MDR_NOMEM */
    int arch_warned;  /* the "unsupported architecture" warning is given once per dump */
};

/* The bytes of one stream that are present in the file (n may be less than the directory's size). */
struct mdr_span {
    const uint8_t *p;
    size_t n;
    uint32_t type;
    uint32_t rva;
};

void mdr_warn(struct mdr_reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Pointer to file bytes [off, off + n), or NULL when any of them lies outside the file. */
const uint8_t *mdr_at(const struct mdr_reader *rd, uint64_t off, uint64_t n);

/* calloc that records failure in rd->nomem; count 0 gives NULL without failing. */
void *mdr_calloc(struct mdr_reader *rd, size_t count, size_t size);

/* "ThreadList" or "0x47670005" for a stream type, in a caller's buffer. */
const char *mdr_type_label(uint32_t type, char *buf, size_t buflen);

/* MINIDUMP_STRING at rva as a heap UTF-8 string; NULL (with a warning naming `who`) when unreadable. An odd
 * byte length is warned about and its last byte dropped; unpaired surrogates become U+FFFD. */
char *mdr_string(struct mdr_reader *rd, uint32_t rva, const char *who);

/* Decode the CPU context at loc into ctx (arch NONE when loc is empty or unreadable). */
void mdr_read_context(struct mdr_reader *rd, const struct md_location *loc, struct mdr_context *ctx,
                    const char *who);

/* Number of whole entries of a "u32 count; entry[count]" list stream that are present; *first is set to the
 * offset of entry 0 (4, or 8 when a producer padded the count to 8 bytes). Warns when the count does not fit. */
size_t mdr_list(struct mdr_reader *rd, const struct mdr_span *s, size_t entry_size, size_t *first);

/* Sorted lookup indexes (md->thread_order, md->module_order), built once the list is read. */
void mdr_index_threads(struct mdr_reader *rd);
void mdr_index_modules(struct mdr_reader *rd);

/* The stack walk's tables (md->code, md->module_mask), built once every stream is read (mdread_walk.c). */
void mdr_index_code(struct mdr_reader *rd);

/* Indexes 0..n-1 sorted by key(md, i), ties by index. NULL when n == 0 or memory ran out. */
size_t *mdr_sorted_order(struct mdr_reader *rd, size_t n, uint64_t (*key)(const struct mdr_dump *, size_t));

/* Index into md->threads of the first thread with this tid, or -1. */
long mdr_find_thread(const struct mdr_dump *md, uint32_t tid);

/* One of lastgasp's own streams (crash info, Go) as its parser lays it out: a header, record areas, then a
 * strings area of NUL-terminated strings addressed by byte offset (formats/README.md). The helpers below live
 * in mdread_lg.c. */
struct mdr_lg_strtab {
    const struct mdr_span *s;
    const char *name;         /* "lastgasp", "lastgasp Go": the first word of each warning */
    const uint8_t *strings;   /* set by mdr_lg_strings() */
    size_t strings_len;       /* bytes of the strings area present in the stream */
};

/* The string at offset off of the strings area: NULL for LG_NONE, or with a warning for a bad offset. The
 * warning names `what`, then idx unless SIZE_MAX, then field unless NULL ("goroutine 3 wait_reason"). */
const char *mdr_lg_string(struct mdr_reader *rd, const struct mdr_lg_strtab *l, uint32_t off, const char *what,
                             size_t idx, const char *field);

/* How many of `count` records of `size` bytes at *off are present in the stream; advances *off past the area
 * as declared. Records smaller than v1_size cannot be read (0, with a warning); an area that starts past the
 * end of the stream reads 0 records and leaves *off past the end. */
size_t mdr_lg_area(struct mdr_reader *rd, const struct mdr_lg_strtab *l, uint64_t *off, uint32_t count,
                      uint32_t size, size_t v1_size, const char *what);

/* Locate the strings area (size bytes at off) in l: the part present, with a warning when it is cut. */
void mdr_lg_strings(struct mdr_reader *rd, struct mdr_lg_strtab *l, uint64_t off, uint32_t size);

/* One parser per stream type (mdread_streams.c, mdread_lg.c, mdread_go.c, mdread_crashpad.c). Called in
 * dependency order by mdr_open(): SystemInfo first (contexts need the architecture), ThreadList before
 * ThreadNameList and Exception, ModuleList before the lastgasp stream (frames refer to modules by index). The
 * Go and Crashpad streams refer to nothing else. */
void mdr_read_sysinfo(struct mdr_reader *rd, const struct mdr_span *s);
void mdr_read_misc(struct mdr_reader *rd, const struct mdr_span *s);
void mdr_read_threads(struct mdr_reader *rd, const struct mdr_span *s);
void mdr_read_thread_names(struct mdr_reader *rd, const struct mdr_span *s);
void mdr_read_modules(struct mdr_reader *rd, const struct mdr_span *s);
void mdr_read_memory(struct mdr_reader *rd, const struct mdr_span *s);
void mdr_read_exception(struct mdr_reader *rd, const struct mdr_span *s);
void mdr_read_lg(struct mdr_reader *rd, const struct mdr_span *s);
void mdr_read_go(struct mdr_reader *rd, const struct mdr_span *s);
void mdr_read_crashpad(struct mdr_reader *rd, const struct mdr_span *s);

#endif
