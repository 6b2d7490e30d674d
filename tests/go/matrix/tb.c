// A cgo traceback function as another library would install with runtime.SetCgoTraceback: it
// reports no C frames (buf[0] = 0 ends the list).
struct matrix_tb_arg {
	unsigned long context, sigcontext;
	unsigned long *buf;
	unsigned long max;
};

void matrix_cgo_traceback(void *p)
{
	struct matrix_tb_arg *a = p;
	if (a->max)
		a->buf[0] = 0;
}

// A C SIGABRT handler that turns the process's death into a clean exit. MATRIX_ABORT_EXIT0=ctor
// installs it from a C constructor (before the Go runtime starts); otherwise the abortexit0 scenario
// installs it at run time through cgo.
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void matrix_exit0(int sig)
{
	(void)sig;
	_exit(0);
}

void matrix_abort_exit0(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = matrix_exit0;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGABRT, &sa, 0);
}

__attribute__((constructor)) static void matrix_abort_exit0_ctor(void)
{
	const char *when = getenv("MATRIX_ABORT_EXIT0");
	if (when && strcmp(when, "ctor") == 0)
		matrix_abort_exit0();
}
