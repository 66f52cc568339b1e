/*
 * rate.c: --limit-rate, a token bucket in front of the stream.  The
 * sender offers ngtcp2 only the stream bytes the bucket holds, so the
 * connection runs application-limited at the rate: its congestion
 * control never sees a queue of ours, and no burst goes above the rate
 * for longer than the bucket's few milliseconds.
 */
#define _GNU_SOURCE
#include "quic_ep.h"

/* The bucket: 4 ms of the rate, and at least one packet's worth. */
#define RATE_BUCKET_SECS 0.004
/* Less than a packet's worth waits for the bucket: no runt packets... */
#define RATE_PACKET 1200.0
/* ...unless the rate is so low that a tenth of a second holds less. */
#define RATE_QUANTUM_SECS 0.1

/* What the sender waits for: a packet, or a tenth of a second's worth. */
static double
rate_quantum(const struct ep *ep)
{
	double q = (double)ep->o->limit_rate * RATE_QUANTUM_SECS;

	return q < RATE_PACKET ? (q < 1 ? 1 : q) : RATE_PACKET;
}

static void
rate_refill(struct ep *ep)
{
	double now = clock_now(), b = (double)ep->o->limit_rate *
	    RATE_BUCKET_SECS, cap = b > rate_quantum(ep) ? b : rate_quantum(ep);

	if (ep->snd.t_tokens == 0) {
		ep->snd.tokens = rate_quantum(ep);	/* no burst at start */
	} else {
		ep->snd.tokens += (now - ep->snd.t_tokens) *
		    (double)ep->o->limit_rate;
		if (ep->snd.tokens > cap)
			ep->snd.tokens = cap;
	}
	ep->snd.t_tokens = now;
}

/*
 * How much of want the rate allows now (all of it without a limit).
 * When it allows nothing, it notes when the bucket will hold a quantum,
 * for the poll loop (ep_rate_wait_ms); anything else, and in particular
 * a full congestion or flow-control window, is not the rate's to wait
 * for.
 */
size_t
ep_rate_allowance(struct ep *ep, size_t want)
{
	double q;

	if (ep->o->limit_rate == 0)
		return want;
	rate_refill(ep);
	q = rate_quantum(ep);
	ep->snd.rate_wake = 0;
	if ((double)want <= ep->snd.tokens)
		return want;
	if (ep->snd.tokens >= q)
		return (size_t)ep->snd.tokens;
	ep->snd.rate_wake = ep->snd.t_tokens + (q - ep->snd.tokens) /
	    (double)ep->o->limit_rate;
	return 0;
}

void
ep_rate_spent(struct ep *ep, uint64_t n)
{
	if (ep->o->limit_rate != 0)
		ep->snd.tokens -= (double)n;
}

/*
 * Milliseconds until the bucket holds the quantum that stream data
 * waits for (0: it does now: write again); -1 when nothing waits on the
 * rate.
 */
int
ep_rate_wait_ms(struct ep *ep)
{
	double ms;

	if (ep->snd.rate_wake == 0 || ep->snd.filled == ep->xf.sent)
		return -1;
	ms = (ep->snd.rate_wake - clock_now()) * 1000.0;
	if (ms <= 0)
		return 0;
	return (int)ms < ms ? (int)ms + 1 : (int)ms;	/* rounded up */
}
