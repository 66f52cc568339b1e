/*
 * progress.h: the one-line progress display of SPEC §1, on stderr.
 * Bytes, rate, elapsed time, and percentage and ETA when the total is
 * known; redrawn at most 4 times a second.
 */
#ifndef RCP_PROGRESS_H
#define RCP_PROGRESS_H

#include <stdint.h>

struct progress {
	int enabled;
	int fd;
	uint64_t total;		/* 0 with known_total == 0: unknown */
	int known_total;
	uint64_t done;
	double start;		/* monotonic seconds */
	double last_draw;
	int drawn;
};

void progress_init(struct progress *p, int enabled, int known_total,
    uint64_t total);
/* Counts n more bytes; redraws if a quarter second has passed. */
void progress_add(struct progress *p, uint64_t n);
/* Final redraw and newline, if anything was drawn or enabled. */
void progress_finish(struct progress *p);

#endif
