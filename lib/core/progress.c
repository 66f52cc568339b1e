/* progress.c: a pv-like one-line status on stderr, at most 4 Hz. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "progress.h"

#define PROGRESS_INTERVAL 0.25	/* SPEC §1: at most 4 redraws a second */

void
progress_init(struct progress *p, int enabled, int known_total,
    uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->enabled = enabled;
	p->fd = STDERR_FILENO;
	p->known_total = known_total;
	p->total = total;
	p->start = clock_now();
	p->last_draw = p->start;
}

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

static void
progress_draw(struct progress *p, double now)
{
	char done[32], rate[32], elapsed[32], eta[32], line[160];
	double secs = now - p->start;
	double bps = secs > 0 ? (double)p->done / secs : 0;
	int n;

	format_bytes(done, sizeof(done), (double)p->done);
	format_bytes(rate, sizeof(rate), bps);
	format_duration(elapsed, sizeof(elapsed), secs);
	if (p->known_total) {
		double pct = p->total > 0 ?
		    100.0 * (double)p->done / (double)p->total : 100.0;
		if (bps > 0)
			format_duration(eta, sizeof(eta),
			    (double)(p->total - p->done) / bps);
		else
			snprintf(eta, sizeof(eta), "--:--:--");
		n = snprintf(line, sizeof(line),
		    "\r%11s %11s/s %s %5.1f%% ETA %s ", done, rate, elapsed,
		    pct, eta);
	} else {
		n = snprintf(line, sizeof(line), "\r%11s %11s/s %s ", done,
		    rate, elapsed);
	}
	if (n > 0)
		(void)!write(p->fd, line, (size_t)n);
	p->drawn = 1;
	p->last_draw = now;
}

void
progress_add(struct progress *p, uint64_t n)
{
	double now;

	p->done += n;
	if (!p->enabled)
		return;
	now = clock_now();
	if (now - p->last_draw >= PROGRESS_INTERVAL)
		progress_draw(p, now);
}

void
progress_finish(struct progress *p)
{
	if (!p->enabled)
		return;
	progress_draw(p, clock_now());
	(void)!write(p->fd, "\n", 1);
}
