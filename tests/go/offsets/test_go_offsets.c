/* test_go_offsets.c — unit tests of reporter/go/go_offsets.c that need no Go binary: the version
 * parser, the edges of the tables, and the status text the traceback would print. The table's
 * values themselves are checked against real binaries by run.sh (dwarfoffsets). */
#include "reporter/go/go_offsets.h"
#include "tests/unit/check.h"

#include <string.h>

static int streq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static void parses(const char *s, int major, int minor, int patch)
{
    int ma = -7, mi = -7, pa = -7;
    int rc = go_parse_version(s, &ma, &mi, &pa);
    CHECK_MSG(rc == 0 && ma == major && mi == minor && pa == patch,
              "\"%s\": rc %d, %d.%d.%d, want %d.%d.%d", s, rc, ma, mi, pa, major, minor, patch);
}

static void rejects(const char *s)
{
    int ma = -7, mi = -7, pa = -7;
    int rc = go_parse_version(s, &ma, &mi, &pa);
    CHECK_MSG(rc == -1 && ma == -7 && mi == -7 && pa == -7, "\"%s\": rc %d, %d.%d.%d", s ? s : "(null)",
              rc, ma, mi, pa);
}

static void test_parse_version(void)
{
    parses("go1.22.12", 1, 22, 12);
    parses("go1.26.8", 1, 26, 8);
    parses("go1.21.0", 1, 21, 0);
    parses("go1.20", 1, 20, 0);
    parses("go1.23rc1", 1, 23, 0);
    parses("go1.22beta2", 1, 22, 0);
    parses("devel go1.27-abcdef", 1, 27, 0);
    parses("devel go1.27-4d1c255 Tue Jan 2 10:00:00 2026 +0000", 1, 27, 0);
    parses("go1.24.3 X:nodwarf5", 1, 24, 3);
    parses("go1.25.0-bigcorp", 1, 25, 0);
    parses("go1.26.1+auto", 1, 26, 1);
    parses("go2.0", 2, 0, 0);
    parses("go1.999999999.1", 1, 999999999, 1);

    rejects(NULL);
    rejects("");
    rejects("go");
    rejects("go1");
    rejects("go1.");
    rejects("go1.22.");
    rejects("go1..2");
    rejects("1.22.12");
    rejects("Go1.22.12");
    rejects("go1.22x");
    rejects("go1.23rc");
    rejects("go1.22.12a");
    rejects("devel +abcdef Tue Jan 2");   /* old devel strings carry no version */
    rejects("devel go1.x");
    rejects("go1.1234567890");            /* would overflow an int */
}

/* The patch releases that start a row, and the ones just before them. */
static void test_patch_rows(void)
{
    struct go_offsets o;
    CHECK(go_offsets_for_version(1, 23, 11, &o) == 0 && o.m_ncgo == 304 && o.m_size == 1760);
    CHECK(go_offsets_for_version(1, 23, 12, &o) == 0 && o.m_ncgo == 328 && o.m_size == 1784);
    CHECK(go_offsets_for_version(1, 23, 99, &o) == 0 && o.m_ncgo == 328);
    CHECK(go_offsets_for_version(1, 24, 5, &o) == 0 && o.m_lockedg == 344 && o.m_vdso_sp == 880);
    CHECK(go_offsets_for_version(1, 24, 6, &o) == 0 && o.m_lockedg == 368 && o.m_vdso_sp == 904);
    CHECK(go_wait_reason_count(1, 23, 3) == 37 && go_wait_reason(1, 23, 3, 37) == NULL);
    CHECK(go_wait_reason_count(1, 23, 4) == 38);
    CHECK(streq(go_wait_reason(1, 23, 4, 37), "GC weak to strong wait"));
    CHECK(go_wait_reason_count(1, 22, 99) == 37);
}

static void test_versions(void)
{
    struct go_offsets o;
    for (int minor = 22; minor <= 27; minor++) {
        for (int patch = 0; patch <= 20; patch++) {
            memset(&o, 0xab, sizeof o);
            CHECK_MSG(go_offsets_for_version(1, minor, patch, &o) == 0, "1.%d.%d", minor, patch);
            /* Every member written (0xabab is no offset), and invariants the handler relies on. */
            const uint16_t *w = (const uint16_t *)&o;
            for (size_t i = 0; i < sizeof o / sizeof *w; i++)
                CHECK_MSG(w[i] != 0xabab, "1.%d.%d: member %zu not written", minor, patch, i);
            CHECK_EQ_U64(o.g_stack_lo, 0);
            CHECK_EQ_U64(o.g_stack_hi, 8);
            CHECK_EQ_U64(o.m_g0, 0);
            CHECK(o.g_sched_bp == o.g_sched_lr + 8);
            CHECK(o.g_goid < o.g_size && o.g_labels < o.g_size && o.m_vdso_pc < o.m_size);
            CHECK(go_wait_reason_count(1, minor, patch) > 30);
            CHECK(go_status_count(1, minor, patch) == (minor >= 26 ? 12 : 10));
            CHECK(streq(go_wait_reason(1, minor, patch, 0), ""));
            CHECK(go_wait_reason(1, minor, patch, (uint8_t)go_wait_reason_count(1, minor, patch)) == NULL);
            CHECK(go_wait_reason(1, minor, patch, 255) == NULL);
        }
    }
    CHECK(go_offsets_for_version(1, 22, 12, &o) == 0 && o.g_syscallbp == GO_OFF_ABSENT);
    CHECK(go_offsets_for_version(1, 23, 0, &o) == 0 && o.g_syscallbp == 128);

    int unknown[][3] = {{1, 21, 0}, {1, 28, 0}, {2, 22, 0}, {0, 22, 0}, {-1, 22, 0}, {1, -1, 0}, {1, 22, -1}};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        int ma = unknown[i][0], mi = unknown[i][1], pa = unknown[i][2];
        memset(&o, 0xab, sizeof o);
        CHECK_MSG(go_offsets_for_version(ma, mi, pa, &o) == -1, "%d.%d.%d", ma, mi, pa);
        CHECK(((const uint8_t *)&o)[0] == 0xab);
        CHECK(go_wait_reason(ma, mi, pa, 1) == NULL && go_wait_reason_count(ma, mi, pa) == 0);
        CHECK(go_status_name(ma, mi, pa, 2) == NULL && go_status_count(ma, mi, pa) == 0);
        CHECK(go_status_text(ma, mi, pa, 4, 2) == NULL);
    }
}

static void test_names(void)
{
    /* The same reason, renumbered: "chan receive" is 14 up to 1.25 and 19 from 1.26. */
    CHECK(streq(go_wait_reason(1, 22, 0, 14), "chan receive"));
    CHECK(streq(go_wait_reason(1, 25, 3, 14), "chan receive"));
    CHECK(streq(go_wait_reason(1, 26, 0, 19), "chan receive"));
    CHECK(streq(go_wait_reason(1, 27, 4, 19), "chan receive"));

    CHECK(streq(go_status_name(1, 22, 0, GO_G_RUNNING), "running"));
    CHECK(streq(go_status_name(1, 22, 0, GO_G_SCAN | GO_G_RUNNABLE), "runnable"));
    CHECK(streq(go_status_name(1, 24, 0, 5), ""));
    CHECK(streq(go_status_name(1, 25, 0, GO_G_LEAKED), "???"));
    CHECK(streq(go_status_name(1, 26, 0, GO_G_LEAKED), "leaked"));
    CHECK(streq(go_status_name(1, 26, 0, GO_G_DEADEXTRA), "waiting for cgo callback"));
    CHECK(streq(go_status_name(1, 26, 0, 12), "???"));
    CHECK(streq(go_status_name(1, 26, 0, 0xffffffffu), "???"));

    /* goroutineheader: a waiting goroutine shows its reason, others their status. */
    CHECK(streq(go_status_text(1, 22, 12, GO_G_WAITING, 14), "chan receive"));
    CHECK(streq(go_status_text(1, 26, 0, GO_G_WAITING | GO_G_SCAN, 14), "sleep"));
    CHECK(streq(go_status_text(1, 26, 0, GO_G_WAITING, 0), "waiting"));
    CHECK(streq(go_status_text(1, 26, 0, GO_G_RUNNABLE, 14), "runnable"));
    CHECK(streq(go_status_text(1, 26, 0, GO_G_SYSCALL, 2), "syscall"));
    CHECK(streq(go_status_text(1, 26, 0, GO_G_LEAKED, 19), "chan receive"));
    CHECK(streq(go_status_text(1, 25, 0, GO_G_LEAKED, 19), "???"));
    CHECK(streq(go_status_text(1, 24, 0, GO_G_WAITING, 200), "unknown wait reason"));
}

int main(void)
{
    test_parse_version();
    test_versions();
    test_patch_rows();
    test_names();
    return check_summary();
}
