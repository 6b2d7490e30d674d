/* capture_cost.c — a process with many parked threads that then crashes, for the capture-cost
 * scenarios (tests/hardening/test_capture_cost.py).
 *   capture_cost parked N   N threads named "parked-K" (K = 0..N-1) wait in pause(); once all are
 *                           parked, the main thread writes through a null pointer. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile int *volatile g_null;
static volatile int g_parked;

static void *park(void *arg)
{
    char name[16];
    snprintf(name, sizeof name, "parked-%d", (int)(long)arg);
    pthread_setname_np(pthread_self(), name);
    __atomic_fetch_add(&g_parked, 1, __ATOMIC_SEQ_CST);
    for (;;)
        pause();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[1], "parked") != 0) {
        fprintf(stderr, "usage: capture_cost parked N\n");
        return 2;
    }
    int n = atoi(argv[2]);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 << 10);
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, &a, park, (void *)(long)i) != 0)
            return 4;
    }
    while (g_parked < n)
        usleep(1000);
    *g_null = 1;
    return 0;
}
