/* watch_int.h — internals of `lastgasp watch` shared by watch.c (the loop) and spool.c (the directories it
 * keeps: listing, the size cap, the state file). Normal context.
 *
 * Where a dump is says what has happened to it, so a restart (or a crash of watch itself) loses nothing and
 * repeats little:
 *     DIR/NAME.dmp                     not shipped yet (the spool)
 *     DIR/.lastgasp-outbox/NAME.dmp    uploaded, waiting to be bundled (only with both --upload and --bundle-dir)
 *     DIR/shipped/NAME.dmp             shipped, kept because of --keep
 * Every move is a rename inside DIR's file system, so each step is atomic.
 */
#ifndef LASTGASP_WATCH_INT_H
#define LASTGASP_WATCH_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define WATCH_OUTBOX ".lastgasp-outbox"
#define WATCH_SHIPPED "shipped"
#define WATCH_STATE ".lastgasp-watch.state"

/* One dump file found by a scan. */
struct spool_file {
    char *name;
    int in_outbox;           /* in DIR/.lastgasp-outbox/ rather than DIR */
    off_t size;
    struct timespec mtime;
    dev_t dev;
    ino_t ino;
};

struct spool_list {
    struct spool_file *f;
    size_t n, cap;
};

/* Counters kept across restarts in the state file (JSON, written whole under a temporary name). */
struct watch_counts {
    uint64_t uploaded, bundled, bundles, dropped, pruned;
    char last_dropped[256];
};

/* The complete dumps (regular files named *.dmp, not hidden, starting with "MDMP") of dir, appended to l
 * with in_outbox set as given; files that are not minidumps are reported once (by inode) and left alone.
 * Sorted oldest first by spool_sort(). 0, or -1 with errno (the directory could not be read). */
int spool_scan(const char *dir, int in_outbox, struct spool_list *l);
void spool_sort(struct spool_list *l);
void spool_free(struct spool_list *l);

/* Remove the oldest files of l until at most max_files remain and they hold at most max_bytes. base is DIR;
 * each removal is printed on stderr with `what` ("dropped", "pruned") and counted in *removed. Returns how many
 * were removed. Entries removed are taken out of l. */
size_t spool_cap(struct spool_list *l, const char *base, size_t max_files, uint64_t max_bytes, const char *what,
                 uint64_t *removed, char *last, size_t lastcap);

/* The path of f under base ("DIR/NAME" or "DIR/.lastgasp-outbox/NAME"), in a heap string. */
char *spool_path(const char *base, const struct spool_file *f);

/* Move path to dir/name without replacing anything there (NAME~2.dmp, ~3... when taken). 0, or -1 (errno). */
int spool_move(const char *path, const char *dir, const char *name);

/* 1 when the file at path is still the one described by f (device, inode, size, modification time). */
int spool_same(const char *path, const struct spool_file *f);

/* The counts of the state file at path into *c. 0: read, or no file yet (zeros). -1: zeros, and why says what
 * happened: the file could not be read, or it is not a usable state file (not JSON, cut short, another
 * format or version, a count missing): such a file is renamed PATH.bad, so the next save starts afresh and
 * the damaged one stays for a person to look at. */
int watch_state_load(const char *path, struct watch_counts *c, char *why, size_t whylen);
int watch_state_save(const char *path, const struct watch_counts *c, size_t waiting);

#endif
