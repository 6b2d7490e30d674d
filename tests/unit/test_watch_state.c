/* test_watch_state.c — the state file of `lastgasp watch` (formats/ship/spool.c), in a temporary directory.
 *
 * What it promises (watch_int.h): a saved file reads back exactly; a file the earlier, strstr-reading code
 * wrote reads too; no file is a fresh start; a file that is cut short, damaged, of another format or version,
 * or missing a count gives zeros, a reason, and is moved aside to PATH.bad; an unreadable one gives zeros and
 * a reason and stays where it is.
 */
#include "../../formats/ship/watch_int.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[64], g_path[128], g_bad[160];

static void write_text(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(text, 1, n, f) == n);
        fclose(f);
    }
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int all_zero(const struct watch_counts *c)
{
    return !c->uploaded && !c->bundled && !c->bundles && !c->dropped && !c->pruned && !c->last_dropped[0];
}

static void test_round_trip(void)
{
    struct watch_counts c = {.uploaded = 12, .bundled = 4, .bundles = 2, .dropped = UINT64_MAX, .pruned = 1},
                        back;
    char why[600] = "";

    /* A name the old writer had to mangle: quotes, a backslash, a control character, UTF-8. */
    snprintf(c.last_dropped, sizeof c.last_dropped, "a\"b\\c\td\xc3\xa9.dmp");
    CHECK(watch_state_save(g_path, &c, 3) == 0);
    CHECK(watch_state_load(g_path, &back, why, sizeof why) == 0);
    CHECK(back.uploaded == 12 && back.bundled == 4 && back.bundles == 2 && back.dropped == UINT64_MAX &&
          back.pruned == 1);
    CHECK_MSG(strcmp(back.last_dropped, c.last_dropped) == 0, "got %s", back.last_dropped);

    /* The longest name a directory can hold (255 bytes). */
    memset(c.last_dropped, 'n', 255);
    c.last_dropped[255] = '\0';
    CHECK(watch_state_save(g_path, &c, 0) == 0);
    CHECK(watch_state_load(g_path, &back, why, sizeof why) == 0 && strlen(back.last_dropped) == 255);

    c.last_dropped[0] = '\0';
    CHECK(watch_state_save(g_path, &c, 0) == 0);
    CHECK(watch_state_load(g_path, &back, why, sizeof why) == 0 && back.last_dropped[0] == '\0');
    CHECK(!exists(g_bad));
}

/* Byte for byte what the code before the JSON reader wrote (fprintf; '?' for quotes, backslashes, controls). */
static void test_old_files(void)
{
    static const char old1[] =
        "{\"format\":\"lastgasp-watch-state\",\"version\":1,\"updated\":\"2026-11-22T04:03:15Z\",\"waiting\":3,"
        "\"uploaded\":12,\"bundled\":4,\"bundles\":2,\"dropped\":7,\"pruned\":1,\"last_dropped\":\"svc-7-a?b.dmp\"}\n";
    static const char old2[] =
        "{\"format\":\"lastgasp-watch-state\",\"version\":1,\"updated\":\"2026-11-22T04:03:15Z\",\"waiting\":0,"
        "\"uploaded\":0,\"bundled\":0,\"bundles\":0,\"dropped\":0,\"pruned\":5,\"last_dropped\":null}\n";
    struct watch_counts c;
    char why[600] = "";

    write_text(g_path, old1, sizeof old1 - 1);
    CHECK(watch_state_load(g_path, &c, why, sizeof why) == 0);
    CHECK(c.uploaded == 12 && c.bundled == 4 && c.bundles == 2 && c.dropped == 7 && c.pruned == 1);
    CHECK(strcmp(c.last_dropped, "svc-7-a?b.dmp") == 0);
    write_text(g_path, old2, sizeof old2 - 1);
    CHECK(watch_state_load(g_path, &c, why, sizeof why) == 0 && c.pruned == 5 && !c.last_dropped[0]);
    CHECK(!exists(g_bad));
}

static void test_no_file(void)
{
    struct watch_counts c;
    char why[600] = "";

    unlink(g_path);
    memset(&c, 0xff, sizeof c);
    CHECK(watch_state_load(g_path, &c, why, sizeof why) == 0 && all_zero(&c));
}

/* A damaged file: -1, zeros, a reason naming the file, the file moved to PATH.bad with its bytes. */
static void damaged(const char *text, size_t n, const char *reason)
{
    struct watch_counts c;
    char why[600] = "", kept[256] = "";

    unlink(g_bad);
    write_text(g_path, text, n);
    memset(&c, 0xff, sizeof c);
    int rc = watch_state_load(g_path, &c, why, sizeof why);
    CHECK_MSG(rc == -1 && all_zero(&c), "%.*s: rc %d", (int)(n < 80 ? n : 80), text, rc);
    CHECK_MSG(strstr(why, "is not a usable state file") && strstr(why, g_path) && strstr(why, "kept as") &&
                  (!reason || strstr(why, reason)),
              "why: %s", why);
    CHECK(!exists(g_path) && exists(g_bad));
    FILE *f = fopen(g_bad, "r");
    size_t got = f ? fread(kept, 1, sizeof kept, f) : 0;
    if (f)
        fclose(f);
    CHECK(got == (n < sizeof kept ? n : sizeof kept) && memcmp(kept, text, got) == 0);
}

static void damaged_s(const char *text, const char *reason) { damaged(text, strlen(text), reason); }

static void test_damaged(void)
{
    static const char good[] =
        "{\"format\":\"lastgasp-watch-state\",\"version\":1,\"updated\":\"2026-11-22T04:03:15Z\",\"waiting\":3,"
        "\"uploaded\":12,\"bundled\":4,\"bundles\":2,\"dropped\":7,\"pruned\":1,\"last_dropped\":\"x.dmp\"}\n";

    /* Cut short anywhere: the old reader took such a file for counts of 0 (or half a number). */
    for (size_t n = 0; n < sizeof good - 2; n += 7)
        damaged(good, n, n ? "not JSON" : NULL);
    damaged(good, sizeof good - 3, "not JSON (offset"); /* without the closing brace */
    damaged("\0\0\0\0\0\0\0\0", 8, "not JSON"); /* a file system's zeroed blocks */
    damaged_s("[1,2,3]", "not a lastgasp-watch-state object");
    damaged_s("{\"format\":\"lastgasp-bundle\",\"version\":1}", "not a lastgasp-watch-state object");
    damaged_s("{\"format\":\"lastgasp-watch-state\",\"version\":2,\"uploaded\":1,\"bundled\":0,\"bundles\":0,"
            "\"dropped\":0,\"pruned\":0}", "another version");
    damaged_s("{\"format\":\"lastgasp-watch-state\",\"version\":1,\"uploaded\":1,\"bundled\":0,\"bundles\":0,"
            "\"dropped\":0}", "\"pruned\" is missing");
    damaged_s("{\"format\":\"lastgasp-watch-state\",\"version\":1,\"uploaded\":-1,\"bundled\":0,\"bundles\":0,"
            "\"dropped\":0,\"pruned\":0}", "\"uploaded\" is missing or not a count");
    damaged_s("{\"format\":\"lastgasp-watch-state\",\"version\":1,\"uploaded\":\"1\",\"bundled\":0,\"bundles\":0,"
            "\"dropped\":0,\"pruned\":0}", "\"uploaded\"");
    damaged_s("{\"format\":\"lastgasp-watch-state\",\"version\":1,\"uploaded\":1,\"bundled\":0,\"bundles\":0,"
            "\"dropped\":0,\"pruned\":0,\"last_dropped\":\"a\\u0000b\"}", "\"last_dropped\"");
    damaged_s("{\"format\":\"lastgasp-watch-state\",\"version\":1,\"uploaded\":1,\"bundled\":0,\"bundles\":0,"
            "\"dropped\":0,\"pruned\":0,\"last_dropped\":7}", "\"last_dropped\"");
    char *big = malloc(70 << 10);
    if (big) {
        memset(big, ' ', 70 << 10);
        memcpy(big, good, sizeof good - 1); /* valid JSON, padded past the size a state file can have */
        damaged(big, 70 << 10, "larger than 64 KiB");
        free(big);
    }

    /* After a damaged file, the next save and load work as on a first run. */
    struct watch_counts c = {.dropped = 2}, back;
    char why[600];
    CHECK(watch_state_save(g_path, &c, 1) == 0);
    CHECK(watch_state_load(g_path, &back, why, sizeof why) == 0 && back.dropped == 2);
}

/* Unreadable (here: a directory where the file should be): zeros and a reason, and it stays where it is. */
static void test_unreadable(void)
{
    struct watch_counts c;
    char why[600] = "";

    unlink(g_path);
    unlink(g_bad);
    CHECK(mkdir(g_path, 0700) == 0);
    memset(&c, 0xff, sizeof c);
    CHECK(watch_state_load(g_path, &c, why, sizeof why) == -1 && all_zero(&c));
    CHECK_MSG(strstr(why, "cannot read") != NULL, "why: %s", why);
    CHECK(exists(g_path) && !exists(g_bad));
    rmdir(g_path);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/lastgasp-state-XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(g_path, sizeof g_path, "%s/%s", g_dir, WATCH_STATE);
    snprintf(g_bad, sizeof g_bad, "%s.bad", g_path);
    test_round_trip();
    test_old_files();
    test_no_file();
    test_damaged();
    test_unreadable();
    unlink(g_path);
    unlink(g_bad);
    rmdir(g_dir);
    return check_summary();
}
