/*
 * rate.c: --limit-rate, a token bucket in front of the stream.  The
 * sender offers ngtcp2 only the stream bytes the bucket holds, so the
 * connection runs application-limited at the rate: its congestion
 * control never sees a queue of ours, and no burst goes above the rate
 * for longer than the bucket's few milliseconds.
 */
#define _GNU_SOURCE
#include "quic_ep.h"

/* The bucket: 4 ms of the rate, and at least a few full packets. */
#define RATE_BUCKET_SECS 0.004
#define RATE_BUCKET_MIN (4 * 1500.0)
/* Less than this waits for the bucket: no runt packets. */
#define RATE_PACKET 1200.0

static double
rate_bucket(const struct ep *ep)
{
	double b = (double)ep->o->limit_rate * RATE_BUCKET_SECS;

	return b > RATE_BUCKET_MIN ? b : RATE_BUCKET_MIN;
}

static void
rate_refill(struct ep *ep)
{
	double now = clock_now(), cap = rate_bucket(ep);

	if (ep->snd.t_tokens == 0) {
		ep->snd.tokens = cap;	/* a full bucket to start */
	} else {
		ep->snd.tokens += (now - ep->snd.t_tokens) *
		    (double)ep->o->limit_rate;
		if (ep->snd.tokens > cap)
			ep->snd.tokens = cap;
	}
	ep->snd.t_tokens = now;
}

/* How much of want the rate allows now (all of it without a limit). */
size_t
ep_rate_allowance(struct ep *ep, size_t want)
{
	if (ep->o->limit_rate == 0)
		return want;
	rate_refill(ep);
	ep->snd.rate_held = (double)want > ep->snd.tokens;
	if (ep->snd.rate_held && ep->snd.tokens < RATE_PACKET)
		return 0;
	return ep->snd.rate_held ? (size_t)ep->snd.tokens : want;
}

void
ep_rate_spent(struct ep *ep, uint64_t n)
{
	if (ep->o->limit_rate != 0)
		ep->snd.tokens -= (double)n;
}

/*
 * Milliseconds until the bucket holds a packet's worth, when stream data
 * waited for it in the last write round (0: it does now: write again);
 * -1 when nothing waits on the rate.
 */
int
ep_rate_wait_ms(struct ep *ep)
{
	double need, ms;

	if (ep->o->limit_rate == 0 || !ep->snd.rate_held ||
	    ep->snd.filled == ep->xf.sent)
		return -1;
	rate_refill(ep);
	need = RATE_PACKET - ep->snd.tokens;
	if (need <= 0)
		return 0;
	ms = need * 1000.0 / (double)ep->o->limit_rate;
	return (int)ms < ms ? (int)ms + 1 : (int)ms;	/* rounded up */
}
