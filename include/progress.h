/*
 * progress.h: the one-line progress display of SPEC §1, on stderr.
 * Labelled bytes, current rate and elapsed time, with percentage and ETA
 * once the total is known.  A thread of its own draws it, so the clock
 * ticks while the program waits on a read, a peer or a full pipe: four
 * times a second on a terminal, and as a plain line every few seconds
 * when stderr is a file or a pipe (a log, or a remote end's relay).
 */
#ifndef RCP_PROGRESS_H
#define RCP_PROGRESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define PROGRESS_SAMPLES 12	/* rate window: 3 s of 0.25 s ticks */

struct progress {
	const char *label;	/* NULL: no display */
	int fd, tty, running;
	_Atomic uint64_t done;	/* the only field the counting side writes */

	pthread_mutex_t lock;	/* the fields below, between the threads */
	pthread_cond_t wake;
	int stop;
	int known_total;
	uint64_t total;
	const char *phase;	/* "spooling", or NULL */
	double start, phase_start;
	uint64_t phase_base;	/* done when the phase began */

	pthread_t thread;	/* what only the drawing thread touches */
	double last_log;
	double sample_t[PROGRESS_SAMPLES];
	uint64_t sample_b[PROGRESS_SAMPLES];
	unsigned nsamples;
	size_t width;
};

/*
 * Starts the display labelled LABEL (NULL: none, and progress_add only
 * counts), with the total when it is already known (known_total).
 */
void progress_init(struct progress *p, const char *label, int known_total,
    uint64_t total);
/* The total is known now (an input spooled, a header read). */
void progress_set_total(struct progress *p, uint64_t total);
/*
 * A new phase: its bytes count from zero, its rate and ETA from now; the
 * elapsed time runs on.  PHASE is shown before the bytes (NULL: none).
 */
void progress_phase(struct progress *p, const char *phase, int known_total,
    uint64_t total);
/* Counts n more bytes: an atomic add, cheap enough for every chunk. */
void progress_add(struct progress *p, uint64_t n);
/*
 * Around a message to stderr from any thread (a diagnostic, a relayed
 * remote line): begin ends a drawn line, so that the message stands on
 * its own, and holds the display off until end.  begin returns what end
 * takes (NULL: no display).
 */
struct progress *progress_message_begin(void);
void progress_message_end(struct progress *p);
/* The program is about to exit on an error: the display stops as is. */
void progress_abandon(void);
/* Stops the clock: a last line with the average rate, and a newline. */
void progress_finish(struct progress *p);

#endif
