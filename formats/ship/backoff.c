/* backoff.c — how long to wait before trying a server again. Normal context.
 *
 * Exponential, capped, with some randomness taken off: after an outage, every sidecar of a fleet retries on
 * the same schedule, and jitter keeps them from arriving at the recovered server in one wave.
 */
#include "ship.h"

#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

double ship_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double ship_backoff(unsigned attempt, double base, double cap)
{
    double wait = base;
    unsigned short r = 0;

    for (unsigned i = 1; i < attempt && wait < cap; i++)
        wait *= 2;
    if (wait > cap)
        wait = cap;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (unsigned short)rand();
    return wait * (1.0 - 0.25 * (double)r / 65535.0);
}
