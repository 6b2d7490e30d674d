/* test_fdid.c — sigsafe/fdid.c: a descriptor's identity, and what counts as the same open file after a reuse.
 *
 * Output: one line per failed check, then "N passed, M failed"; exit status 0 when M is 0. Also built
 * from source under ASan and UBSan (Makefile: build/tests/unit/sigsafe/test_fdid_asan).
 */
#include "sigsafe/sigsafe.h"
#include "tests/unit/check.h"
#include "tests/unit/sigsafe/sstest.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_fdid(void)
{
    struct ss_fdid id;
    char path[128];
    snprintf(path, sizeof path, "%s/fdid", tmpdir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && ss_fdid_take(&id, fd) == 0 && id.fd == fd && id.type == S_IFREG);
    CHECK(ss_fdid_same(&id) == 1);
    /* Closed: not ours. The same number reused for a directory, then for another file: not ours. */
    close(fd);
    CHECK(ss_fdid_same(&id) == 0);
    int d = open(tmpdir, O_RDONLY | O_DIRECTORY);
    CHECK(d >= 0 && dup2(d, fd) == fd);
    CHECK(ss_fdid_same(&id) == 0);
    char other[160];
    snprintf(other, sizeof other, "%s.other", path);
    int o = open(other, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(o >= 0 && dup2(o, fd) == fd);
    CHECK(ss_fdid_same(&id) == 0);
    /* The same file opened again is the same object: that is what a reopen by path relies on. */
    int again = open(path, O_RDONLY);
    CHECK(again >= 0 && dup2(again, fd) == fd && ss_fdid_same(&id) == 1);
    close(fd);
    close(d);
    close(o);
    close(again);
    unlink(path);
    unlink(other);
    CHECK(ss_fdid_take(&id, -1) == -EBADF && id.fd == -1 && ss_fdid_same(&id) == 0);
    CHECK(ss_fdid_take(&id, 100000) == -EBADF && id.fd == -1);
}

int main(void)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    tmpdir_create();
    test_fdid();
    tmpdir_remove();
    return check_summary();
}
