#include <pthread.h>

#include "_cgo_export.h"

static void *thread_main(void *arg)
{
	(void)arg;
	goFromCThread(1);
	return 0;
}

// Runs thread_main on a new C thread and waits for it (it never returns: the Go side panics).
int run_c_thread(void)
{
	pthread_t t;
	if (pthread_create(&t, 0, thread_main, 0) != 0)
		return -1;
	return pthread_join(t, 0);
}
