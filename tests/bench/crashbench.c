/* crashbench.c — a process to crash for the benchmark: THREADS parked threads, HEAP_MIB of touched
 * heap, then a null write. Just before the fault it writes CLOCK_MONOTONIC (ns) to fd FD, so the
 * parent can measure crash-to-exit on the same clock.
 *   crashbench THREADS HEAP_MIB FD
 * Built a second time as crashbench_breakpad (-DCRASHBENCH_BREAKPAD, tests/bench/breakpad_client.sh),
 * it first installs Breakpad's client when CRASHBENCH_BREAKPAD_DIR names a directory. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef CRASHBENCH_BREAKPAD
int crashbench_breakpad_install(const char *dir);
#endif

volatile int *volatile g_null;
static volatile int g_parked;

static void *park(void *arg)
{
    (void)arg;
    __atomic_fetch_add(&g_parked, 1, __ATOMIC_SEQ_CST);
    for (;;)
        pause();
    return 0;
}

int main(int argc, char **argv)
{
#ifdef CRASHBENCH_BREAKPAD
    const char *bp = getenv("CRASHBENCH_BREAKPAD_DIR");
    if (bp && *bp && crashbench_breakpad_install(bp) != 0)
        return 6;
#endif
    int threads = argc > 1 ? atoi(argv[1]) : 0;
    size_t heap = (size_t)(argc > 2 ? atoi(argv[2]) : 0) << 20;
    char *h = heap ? malloc(heap) : 0;
    if (heap && !h)
        return 3;
    if (h)
        memset(h, 1, heap);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 << 10);
    for (int i = 0; i < threads; i++) {
        pthread_t t;
        if (pthread_create(&t, &a, park, 0) != 0)
            return 4;
    }
    while (g_parked < threads)
        usleep(1000);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    if (write(argc > 3 ? atoi(argv[3]) : 3, &ns, sizeof ns) != sizeof ns)
        return 5;
    *g_null = 1;
    return 0;
}
