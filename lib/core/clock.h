/*
 * clock.h: the one clock of the suite, CLOCK_MONOTONIC: progress,
 * timeouts, statistics and QUIC timestamps all read it.
 */
#ifndef RCP_CLOCK_H
#define RCP_CLOCK_H

#include <stdint.h>

/* Monotonic seconds. */
double clock_now(void);
/* The same clock in nanoseconds. */
uint64_t clock_now_ns(void);

#endif
