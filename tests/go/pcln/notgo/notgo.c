/* notgo.c — go_pcln_find_nasync in a process that is not Go: a clean -1 and the reason.
 * Built and run by tests/go/pcln/run.sh (not by cgo: it lives outside the Go package's directory). */
#include <stdio.h>
#include <string.h>

#include "reporter/go/go.h"

int go_pcln_find_nasync(struct go_pcln *t, char *version, size_t version_len, char *why, size_t why_len);

int main(void)
{
    struct go_pcln t;
    char version[64] = "unchanged", why[256] = "";
    int r = go_pcln_find_nasync(&t, version, sizeof version, why, sizeof why);
    struct go_frame_info fi[4];
    int n = go_frames_at(&t, (uint64_t)(uintptr_t)main, fi, 4);
    printf("go_pcln_find_nasync: %d, version \"%s\", why \"%s\"; go_frames_at: %d\n", r, version, why, n);
    if (r != -1 || strncmp(why, "not a Go executable", 19) != 0 || version[0] != 0 || n != 0 || t.nfunc != 0) {
        printf("FAIL: expected -1, an empty version, \"not a Go executable...\" and no frames\n");
        return 1;
    }
    return 0;
}
