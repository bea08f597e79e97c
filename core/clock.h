/*
 * clock: monotonic milliseconds, for timing bounds and intervals (never for
 * timestamps people read: those are wall-clock UTC, store/util.h).
 */
#ifndef KT_CLOCK_H
#define KT_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t
clock_monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
