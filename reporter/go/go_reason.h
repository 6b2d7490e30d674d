/* go_reason.h — why a Go program died, in the words its runtime printed (prefix rep_go_reason).
 * See go_reason.c for where each part comes from and what is reproduced exactly. */
#ifndef LASTGASP_GO_REASON_H
#define LASTGASP_GO_REASON_H

#include <stddef.h>
#include <stdint.h>

#include "go_capture.h"

#define REP_GO_REASON_CAP 8192       /* the whole text; longer text ends in REP_GO_REASON_CUT */
#define REP_GO_REASON_CUT "\n[lastgasp: reason cut here]\n"
#define REP_GO_REASON_STRING_MAX 4096 /* bytes read of one string value */

/* What the capture knows about the crashing thread. */
struct rep_go_reason_in {
    uint64_t curg;       /* the user goroutine of the crashing thread (m.curg), 0 if none */
    uint64_t tls_g;      /* the g in the crashing thread's TLS (g0, gsignal or curg), 0 if unknown */
    uint64_t thread_sp;  /* the crashing thread's sp when the signal came, 0 if unknown */
};

/* Handler path (go_capture.c, inside its guard; every runtime read through ss_memread). Writes the
 * runtime's first lines ("panic: ...", "fatal error: ...", "[signal ...]"), each ending in '\n',
 * NUL-terminated, into out (cap bytes, at most REP_GO_REASON_CAP used); returns the length, 0 when
 * the runtime was not dying of a panic or a fatal error that memory shows. */
size_t rep_go_reason(const struct rep_go *go, const struct rep_go_reason_in *in, char *out, size_t cap);

#endif
