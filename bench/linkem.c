/*
 * linkem: a link emulator between two TUN devices, for the network
 * benchmarks and their tests on kernels without netem (no qdisc at all).
 *
 * Each direction is a drop-tail queue in front of a serialiser of the
 * given rate, then a one-way delay, with random loss on the wire
 * (Bernoulli, or Gilbert bursts of a given mean length).  The devices
 * are made here and left for bench/netlink.sh to move into two network
 * namespaces; the open descriptors stay attached to them.  Stops on
 * SIGINT or SIGTERM and prints what each direction carried and dropped.
 *
 *   linkem DEV_A DEV_B RATE_MBIT RTT_MS [LOSS_PCT [BURST [QUEUE_BYTES]]]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define SLOTS (1u << 15)	/* packets on one direction's wire, at most */
#define SLOT_BYTES 2048		/* above any MTU these links are given */

struct slot {
	uint64_t due;		/* ns: when it leaves the far end */
	uint16_t len;
	unsigned char data[SLOT_BYTES];
};

struct direction {
	const char *name;
	int in, out;		/* read from in's device, write to out's */
	struct slot *ring;
	uint32_t head, tail;	/* head: next to deliver */
	uint64_t free_at;	/* ns: when the serialiser is next idle */
	int bad;		/* Gilbert: in a loss burst */
	uint64_t carried, lost, queue_drops, ring_drops, write_drops;
};

static volatile sig_atomic_t stop;
static double rate_bps, loss, burst = 1;
static uint64_t delay_ns, queue_limit;
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: fast, and reproducible from the seed in LINKEM_SEED. */
static double
uniform(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 0x2545f4914f6cdd1dULL) >> 11) /
	    9007199254740992.0;
}

/*
 * Whether the wire loses this packet.  Gilbert's two states: all lost in
 * a burst, none outside; leaving a burst with 1/burst per packet gives
 * bursts of that mean length, and entering with the rate below keeps
 * the mean loss at `loss'.
 */
static int
wire_loses(struct direction *d)
{
	if (loss <= 0)
		return 0;
	if (burst <= 1)
		return uniform() < loss;
	if (d->bad)
		d->bad = uniform() >= 1.0 / burst;
	else
		d->bad = uniform() < loss / (burst * (1.0 - loss));
	return d->bad;
}

static int
tun_open(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Takes every packet waiting on d's input onto its wire.  Returns 0, or
 * -1 when the device is gone (its namespace deleted).
 */
static int
enqueue_ready(struct direction *d)
{
	static unsigned char spill[SLOT_BYTES];

	for (;;) {
		/* A full ring reads into the spill: never over the head. */
		int full = d->tail - d->head >= SLOTS;
		struct slot *s = &d->ring[d->tail % SLOTS];
		uint64_t now, start, backlog;
		ssize_t n = read(d->in, full ? spill : s->data, SLOT_BYTES);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			return -1;
		if (full) {
			d->ring_drops++;
			continue;
		}
		now = now_ns();
		start = d->free_at > now ? d->free_at : now;
		/* Bytes still waiting for the serialiser: the queue. */
		backlog = (uint64_t)((double)(start - now) * rate_bps / 8e9);
		if (backlog + (uint64_t)n > queue_limit) {
			d->queue_drops++;
			continue;
		}
		d->free_at = start + (uint64_t)((double)n * 8e9 / rate_bps);
		if (wire_loses(d)) {
			d->lost++;
			continue;
		}
		s->len = (uint16_t)n;
		s->due = d->free_at + delay_ns;
		d->tail++;
	}
}

/* Delivers what is due; returns ns until the next, or UINT64_MAX. */
static uint64_t
deliver_due(struct direction *d, uint64_t now)
{
	while (d->head != d->tail) {
		struct slot *s = &d->ring[d->head % SLOTS];

		if (s->due > now)
			return s->due - now;
		if (write(d->out, s->data, s->len) != (ssize_t)s->len)
			d->write_drops++;
		else
			d->carried++;
		d->head++;
	}
	return UINT64_MAX;
}

static void
report(const struct direction *d)
{
	fprintf(stderr, "linkem: %s: carried=%" PRIu64 " lost=%" PRIu64
	    " queue_drops=%" PRIu64 " ring_drops=%" PRIu64 " write_drops=%"
	    PRIu64 "\n", d->name, d->carried, d->lost, d->queue_drops,
	    d->ring_drops, d->write_drops);
}

int
main(int argc, char *argv[])
{
	struct direction dir[2];
	struct pollfd pfd[2];
	sigset_t stops, open_mask;
	const char *seed = getenv("LINKEM_SEED");
	double rtt_ms;
	int a, b, i;

	if (argc < 5 || argc > 8) {
		fprintf(stderr, "usage: linkem DEV_A DEV_B RATE_MBIT RTT_MS "
		    "[LOSS_PCT [BURST [QUEUE_BYTES]]]\n");
		return 2;
	}
	rate_bps = strtod(argv[3], NULL) * 1e6;
	rtt_ms = strtod(argv[4], NULL);
	loss = argc > 5 ? strtod(argv[5], NULL) / 100.0 : 0;
	burst = argc > 6 ? strtod(argv[6], NULL) : 1;
	if (rate_bps <= 0 || rtt_ms < 0 || loss < 0 || loss >= 1 || burst < 1) {
		fprintf(stderr, "linkem: bad rate, RTT, loss or burst\n");
		return 2;
	}
	delay_ns = (uint64_t)(rtt_ms * 1e6 / 2);
	/* One bandwidth-delay product, and room for a few packets. */
	queue_limit = argc > 7 ? strtoull(argv[7], NULL, 10) :
	    (uint64_t)(rate_bps / 8 * rtt_ms / 1000) + 3 * 1500;
	if (seed != NULL)
		rng_state = strtoull(seed, NULL, 10) | 1;
	if ((a = tun_open(argv[1])) < 0 || (b = tun_open(argv[2])) < 0) {
		fprintf(stderr, "linkem: /dev/net/tun: %s\n", strerror(errno));
		return 1;
	}
	memset(dir, 0, sizeof(dir));
	dir[0].name = "a->b";
	dir[0].in = a;
	dir[0].out = b;
	dir[1].name = "b->a";
	dir[1].in = b;
	dir[1].out = a;
	for (i = 0; i < 2; i++)
		if ((dir[i].ring = calloc(SLOTS, sizeof(struct slot))) == NULL) {
			fprintf(stderr, "linkem: out of memory\n");
			return 1;
		}
	/* Deadlines to the microsecond: the default 50 us slack is a
	 * packet's time at 240 Mbit/s. */
	(void)prctl(PR_SET_TIMERSLACK, 1UL);
	/* The stop signals arrive only inside ppoll, never between the
	 * check of stop and the wait. */
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigprocmask(SIG_BLOCK, &stops, &open_mask);
	sigdelset(&open_mask, SIGINT);
	sigdelset(&open_mask, SIGTERM);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("linkem ready\n");
	fflush(stdout);

	pfd[0].fd = a;
	pfd[1].fd = b;
	pfd[0].events = pfd[1].events = POLLIN;
	while (!stop) {
		uint64_t now = now_ns(), wait = UINT64_MAX, w;
		struct timespec ts, *tsp = NULL;

		for (i = 0; i < 2; i++)
			if ((w = deliver_due(&dir[i], now)) < wait)
				wait = w;
		if (wait != UINT64_MAX) {
			ts.tv_sec = (time_t)(wait / 1000000000u);
			ts.tv_nsec = (long)(wait % 1000000000u);
			tsp = &ts;
		}
		pfd[0].revents = pfd[1].revents = 0;
		if (ppoll(pfd, 2, tsp, &open_mask) < 0 && errno != EINTR)
			break;
		for (i = 0; i < 2; i++) {
			if ((pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL)) ||
			    ((pfd[i].revents & POLLIN) &&
			    enqueue_ready(&dir[i]) != 0)) {
				fprintf(stderr, "linkem: %s: the device is "
				    "gone\n", dir[i].name);
				stop = 1;
			}
		}
	}
	report(&dir[0]);
	report(&dir[1]);
	return 0;
}
