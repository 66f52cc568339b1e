/*
 * progress.c: a pv-like status line on stderr, drawn by a thread of its
 * own.  The program only adds to an atomic counter; the thread samples
 * it every quarter second, so the clock and the rate move even while
 * the program is blocked (a slow reader, a peer that has not yet
 * acknowledged, a producer that has not yet written).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "progress.h"

#define PROGRESS_TICK 0.25	/* SPEC §1: at most 4 redraws a second */
#define PROGRESS_LOG_EVERY 5.0	/* a plain line this often into a log */

/* The display on stderr, for diagnostics to step around. */
static struct progress *progress_shown;

static void
format_bytes(char *out, size_t len, double v)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	snprintf(out, len, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

static void
format_duration(char *out, size_t len, double secs)
{
	unsigned long s = secs < 0 ? 0 : (unsigned long)(secs + 0.5);

	snprintf(out, len, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
}

/* What one line shows, copied out from under the lock. */
struct progress_view {
	const char *phase;
	int known_total;
	uint64_t total, bytes;	/* bytes: of this phase */
	double elapsed, rate;
};

static void
progress_draw(struct progress *p, const struct progress_view *v,
    int log_line, int last)
{
	char bytes[32], rate[32], elapsed[32], eta[32], line[256];
	size_t n, pad;
	int len;

	format_bytes(bytes, sizeof(bytes), (double)v->bytes);
	format_bytes(rate, sizeof(rate), v->rate);
	format_duration(elapsed, sizeof(elapsed), v->elapsed);
	/* A label of any length: cut, never a line dropped. */
	len = snprintf(line, sizeof(line), "%s%.64s: %s%s%10s %10s/s %s",
	    log_line ? "" : "\r", p->label, v->phase ? v->phase : "",
	    v->phase ? " " : "", bytes, rate, elapsed);
	if (len < 0 || (size_t)len >= sizeof(line))
		return;
	n = (size_t)len;
	if (v->known_total) {
		uint64_t left = v->total > v->bytes ? v->total - v->bytes : 0;
		double pct = v->total > 0 ?
		    100.0 * (double)v->bytes / (double)v->total : 100.0;

		if (left == 0)
			format_duration(eta, sizeof(eta), 0);
		else if (v->rate > 0)
			format_duration(eta, sizeof(eta), (double)left / v->rate);
		else
			snprintf(eta, sizeof(eta), "--:--:--");
		len = snprintf(line + n, sizeof(line) - n, " %5.1f%% ETA %s",
		    pct > 100.0 ? 100.0 : pct, eta);
		if (len < 0 || (size_t)len >= sizeof(line) - n)
			return;
		n += (size_t)len;
	}
	/* A shorter line than the last must rub out the last one's tail. */
	pad = !log_line && p->width > n ? p->width - n : 0;
	if (pad > sizeof(line) - n - 2)
		pad = sizeof(line) - n - 2;
	memset(line + n, ' ', pad);
	if (!log_line)
		p->width = n;
	n += pad;
	if (log_line || last)
		line[n++] = '\n';
	(void)!write(p->fd, line, n);
}

/* Called with the lock held. */
static void
progress_view(struct progress *p, double now, int last,
    struct progress_view *v)
{
	uint64_t done = atomic_load_explicit(&p->done, memory_order_relaxed);
	double secs = now - p->phase_start;
	unsigned oldest;

	v->phase = p->phase;
	v->known_total = p->known_total;
	v->total = p->total;
	v->bytes = done - p->phase_base;
	v->elapsed = now - p->start;
	/* The current rate, over the last seconds, as pv shows: a stall
	 * reads as a falling rate, not as yesterday's average. */
	if (!last && p->nsamples > 1) {
		oldest = p->nsamples < PROGRESS_SAMPLES ? 0 :
		    p->nsamples % PROGRESS_SAMPLES;
		secs = now - p->sample_t[oldest];
		v->rate = secs > 0 ? (double)(done - p->sample_b[oldest]) /
		    secs : 0;
	} else {
		/* The last line: over the whole run, so that a spooled
		 * input's fast framing does not pass for the pipe's rate. */
		if (last)
			secs = v->elapsed;
		v->rate = secs > 0 ? (double)v->bytes / secs : 0;
	}
	p->sample_t[p->nsamples % PROGRESS_SAMPLES] = now;
	p->sample_b[p->nsamples % PROGRESS_SAMPLES] = done;
	p->nsamples++;
}

static void *
progress_thread(void *arg)
{
	struct progress *p = arg;
	struct progress_view v;
	struct timespec until;
	double now, next = p->start;
	int log_line;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		next += PROGRESS_TICK;
		until.tv_sec = (time_t)next;
		until.tv_nsec = (long)((next - (double)until.tv_sec) * 1e9);
		if (until.tv_nsec > 999999999L)
			until.tv_nsec = 999999999L;	/* rounding */
		/* 0 is a wake-up (finish, or spurious); anything else, the
		 * deadline (or an error: never a spin on it). */
		while (!p->stop && pthread_cond_timedwait(&p->wake, &p->lock,
		    &until) == 0)
			;
		if (p->stop)
			break;
		now = clock_now();
		if (now > next + PROGRESS_TICK)
			next = now;	/* asleep (SIGSTOP): no catching up */
		progress_view(p, now, 0, &v);
		log_line = !p->tty;
		if (log_line && now - p->last_log < PROGRESS_LOG_EVERY)
			continue;
		p->last_log = now;
		/* Drawn under the lock: a diagnostic waits for the line's
		 * end (progress_message_begin), never cuts into it. */
		progress_draw(p, &v, log_line, 0);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

void
progress_init(struct progress *p, const char *label, int known_total,
    uint64_t total)
{
	pthread_condattr_t ca;
	sigset_t all, old;

	memset(p, 0, sizeof(*p));
	atomic_init(&p->done, 0);
	p->label = label;
	p->fd = STDERR_FILENO;
	p->known_total = known_total;
	p->total = total;
	p->start = p->phase_start = p->last_log = clock_now();
	if (label == NULL)
		return;
	p->tty = isatty(p->fd);
	pthread_mutex_init(&p->lock, NULL);
	/* The deadlines are on clock_now()'s clock, the monotonic one. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->wake, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals stay with the main thread: its handlers, its EINTRs. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	p->running = pthread_create(&p->thread, NULL, progress_thread,
	    p) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	progress_shown = p;
}

static void
progress_stop_thread(struct progress *p)
{
	if (!p->running)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	p->running = 0;
}

struct progress *
progress_message_begin(void)
{
	struct progress *p = progress_shown;

	if (p == NULL || p->label == NULL)
		return NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tty && p->width > 0)
		(void)!write(p->fd, "\n", 1);
	p->width = 0;
	return p;
}

void
progress_message_end(struct progress *p)
{
	if (p != NULL)
		pthread_mutex_unlock(&p->lock);
}

void
progress_abandon(void)
{
	struct progress *p = progress_shown;

	if (p != NULL && p->label != NULL)
		progress_stop_thread(p);	/* the line stays as it was */
}

void
progress_phase(struct progress *p, const char *phase, int known_total,
    uint64_t total)
{
	if (p->label == NULL)
		return;		/* nothing shown: nothing reads it */
	pthread_mutex_lock(&p->lock);
	p->phase = phase;
	p->known_total = known_total;
	p->total = total;
	p->phase_start = clock_now();
	p->phase_base = atomic_load(&p->done);
	p->nsamples = 0;
	pthread_mutex_unlock(&p->lock);
}

void
progress_set_total(struct progress *p, uint64_t total)
{
	if (p->label == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->known_total = 1;
	p->total = total;
	pthread_mutex_unlock(&p->lock);
}

void
progress_add(struct progress *p, uint64_t n)
{
	atomic_fetch_add_explicit(&p->done, n, memory_order_relaxed);
}

void
progress_finish(struct progress *p)
{
	struct progress_view v;

	if (p->label == NULL)
		return;
	progress_stop_thread(p);
	progress_view(p, clock_now(), 1, &v);
	progress_draw(p, &v, !p->tty, 1);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	p->label = NULL;	/* finished: a second call draws nothing */
	if (progress_shown == p)
		progress_shown = NULL;
}
