/*
 * stripe_recv.c: the receiving coordinator, in a thread of its own.  It
 * reads each connection's stream from its pipe, checks it, puts each
 * block in a slot by its number and writes the blocks out in order.
 * Slots hold STRIPE_AHEAD bytes of blocks from the next one to write; a connection whose next block lies further ahead
 * waits, and with it (through its pipe and flow control) its sender.
 * That never deadlocks: the next block to write is the next thing in
 * the stream of the connection that carries it.
 */
#define _GNU_SOURCE
#include <signal.h>

#include "core/be.h"
#include "stripe.h"

/* A peer that broke the striping protocol: everything stops. */
static void __attribute__((format(printf, 2, 3)))
protocol_error(struct stripe_set *set, const char *fmt, ...)
{
	struct rcp_error e;
	va_list ap;
	int n;

	n = snprintf(e.msg, sizeof(e.msg), "protocol error: ");
	va_start(ap, fmt);
	vsnprintf(e.msg + n, sizeof(e.msg) - (size_t)n, fmt, ap);
	va_end(ap);
	e.status = EXIT_FAIL;
	stripe_fail(set, &e);
}

/* The output failed: said as the lone receiver says it (stream.c). */
static void
output_failed(struct stripe_set *set, int err)
{
	const char *name = set->o->data_name != NULL ? set->o->data_name :
	    "stdout";
	struct rcp_error e;

	error_set(&e, EXIT_FAIL, "%s: write error: %s", name, strerror(err));
	set->data_failed = 1;
	set->failed = 1;
	set->e = e;
	snprintf(e.msg, sizeof(e.msg), "receiver output failed: write: %s",
	    strerror(err));
	stripe_cancel_all(set, e.msg);
}

/* Stripe s's header is in: the first one says what the others must. */
static void
take_header(struct stripe_set *set, struct stripe *s)
{
	struct stripe_hdr h;
	unsigned k;

	if (stripe_hdr_decode(s->hdr, &h) != 0) {
		protocol_error(set, "bad stripe header on connection %u",
		    s->index + 1);
		return;
	}
	if (!set->have_hdr) {
		set->hdr = h;
		set->have_hdr = 1;
		set->count = h.count;
		set->nslots = STRIPE_AHEAD / h.block;
		set->slots = calloc(set->nslots, sizeof(*set->slots));
		if (set->slots == NULL) {
			struct rcp_error e;
			error_set_errno(&e, EXIT_FAIL, "memory");
			stripe_fail(set, &e);
			return;
		}
		if (set->started > set->count)
			protocol_error(set, "%u connections for a transfer "
			    "of %u", set->started, set->count);
		/* The rest may come now. */
		for (k = 0; k < set->started && !set->failed; k++)
			(void)stripe_start_next(set, k);
		return;
	}
	if (h.count != set->hdr.count || h.block != set->hdr.block ||
	    memcmp(h.id, set->hdr.id, sizeof(h.id)) != 0) {
		protocol_error(set, "connection %u belongs to another transfer",
		    s->index + 1);
		return;
	}
	for (k = 0; k < set->started; k++)
		if (&set->s[k] != s && set->s[k].hdr_got ==
		    QUIC_STRIPE_HDR_LEN && ((unsigned)set->s[k].hdr[8] << 8 |
		    set->s[k].hdr[9]) == h.index) {
			protocol_error(set, "two connections with index %u",
			    h.index);
			return;
		}
}

/* Finds the slot for the block whose header s has read, if there is one. */
static void
place_block(struct stripe_set *set, struct stripe *s)
{
	uint64_t off = be64_get(s->bh), b;
	uint32_t len = be32_get(s->bh + 8), block = set->hdr.block;
	struct stripe_slot *slot;

	s->waiting = 0;
	if (len == 0 || len > block || off % block != 0) {
		protocol_error(set, "bad block (offset %" PRIu64 ", %" PRIu32
		    " bytes) on connection %u", off, len, s->index + 1);
		return;
	}
	b = off / block;
	/* off + len may wrap: compare without adding. */
	if (b < set->next || (set->end_known && (off > set->end ||
	    len > set->end - off)) || (len < block && set->end_known)) {
		protocol_error(set, "block at offset %" PRIu64 " repeated or "
		    "past the end", off);
		return;
	}
	if (b >= set->next + set->nslots) {
		s->waiting = 1;		/* back when the output moves on */
		return;
	}
	slot = &set->slots[b % set->nslots];
	if (slot->used) {
		protocol_error(set, "block at offset %" PRIu64 " repeated",
		    off);
		return;
	}
	if (slot->data == NULL && (slot->data = malloc(block)) == NULL) {
		struct rcp_error e;
		error_set_errno(&e, EXIT_FAIL, "memory");
		stripe_fail(set, &e);
		return;
	}
	if (len < block) {
		/* The short block ends the stream: nothing lies beyond,
		 * nor waits beyond the slots (further than b). */
		for (size_t i = 0; i < set->nslots; i++)
			if (set->slots[i].used && set->slots[i].index > b) {
				protocol_error(set, "data past the end");
				return;
			}
		for (unsigned k = 0; k < set->started; k++)
			if (set->s[k].waiting) {
				protocol_error(set, "data past the end");
				return;
			}
		set->end = off + len;
		set->end_known = 1;
	}
	slot->used = 1;
	slot->index = b;
	slot->len = len;
	slot->filled = 0;
	s->slot = slot;
	s->blk_left = len;
}

/* Reads what stripe s's pipe holds now, in the step it is at. */
static void
read_stripe(struct stripe_set *set, struct stripe *s)
{
	uint8_t *dst;
	size_t want;
	ssize_t n;

	if (s->hdr_got < QUIC_STRIPE_HDR_LEN) {
		dst = s->hdr + s->hdr_got;
		want = QUIC_STRIPE_HDR_LEN - s->hdr_got;
	} else if (s->slot == NULL) {
		dst = s->bh + s->bh_got;
		want = QUIC_STRIPE_BLOCK_HDR_LEN - s->bh_got;
	} else {
		dst = s->slot->data + s->slot->filled;
		want = s->blk_left;
	}
	n = read(s->rd, dst, want);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0) {
		struct rcp_error e;
		error_set_errno(&e, EXIT_FAIL, "connection %u", s->index + 1);
		stripe_fail(set, &e);
		return;
	}
	if (n == 0) {
		s->eof = 1;
		if (s->hdr_got < QUIC_STRIPE_HDR_LEN || s->slot != NULL ||
		    s->bh_got > 0)
			protocol_error(set, "connection %u ended inside a "
			    "block", s->index + 1);
		return;
	}
	if (s->hdr_got < QUIC_STRIPE_HDR_LEN) {
		if ((s->hdr_got += (size_t)n) == QUIC_STRIPE_HDR_LEN)
			take_header(set, s);
	} else if (s->slot == NULL) {
		if ((s->bh_got += (size_t)n) == QUIC_STRIPE_BLOCK_HDR_LEN)
			place_block(set, s);
	} else {
		s->slot->filled += (uint32_t)n;
		if ((s->blk_left -= (uint32_t)n) == 0) {
			s->slot = NULL;
			s->bh_got = 0;
		}
	}
}

/* Writes the blocks that are next, in order, as far as the output takes. */
static void
flush_output(struct stripe_set *set)
{
	const struct quic_opts *o = set->o;
	struct stripe_slot *slot;
	unsigned k;
	ssize_t n;

	while (!set->failed && !set->out_stalled && set->slots != NULL) {
		slot = &set->slots[set->next % set->nslots];
		if (!slot->used || slot->index != set->next ||
		    slot->filled < slot->len)
			return;
		n = io_write_nowait(o->data_fd, slot->data + set->woff,
		    slot->len - set->woff, &set->w);
		if (n < 0) {
			output_failed(set, errno);
			return;
		}
		if (n == 0) {
			set->out_stalled = 1;
			return;
		}
		set->woff += (size_t)n;
		set->written += (uint64_t)n;
		if (o->progress != NULL)
			progress_add(o->progress, (uint64_t)n);
		if (set->woff < slot->len)
			continue;
		slot->used = 0;
		set->woff = 0;
		set->next++;
		for (k = 0; k < set->started; k++)
			if (set->s[k].waiting)
				place_block(set, &set->s[k]);
	}
}

/*
 * Every connection's stream ended where a block does, and every block
 * is out: the output is whole.  Finishes it (the caller's finish) and
 * lets the connections confirm.  A connection waiting with a block
 * beyond the slots while all the others ended can never go on: the
 * next block, which none of them holds, is missing.
 */
static void
finish_output(struct stripe_set *set)
{
	const struct quic_opts *o = set->o;
	struct rcp_error fe;
	unsigned k;
	int rc = 0, waiting = 0;

	if (set->finish_done || set->failed || set->count == 0 ||
	    set->started < set->count)
		return;
	for (k = 0; k < set->started; k++) {
		if (set->s[k].waiting)
			waiting = 1;
		else if (!set->s[k].eof)
			return;
	}
	for (k = 0; k < set->nslots; k++) {
		const struct stripe_slot *next =
		    &set->slots[set->next % set->nslots];
		if (!set->slots[k].used)
			continue;
		/* Blocks in order, waiting for a slow output: not yet. */
		if (next->used && next->index == set->next &&
		    next->filled == next->len)
			return;
		protocol_error(set, "a block is missing at offset %" PRIu64,
		    set->next * set->hdr.block);
		return;
	}
	if (waiting) {
		protocol_error(set, "a block is missing at offset %" PRIu64,
		    set->next * set->hdr.block);
		return;
	}
	if (set->end_known && set->written != set->end) {
		protocol_error(set, "the stream ended at %" PRIu64 " bytes, "
		    "%" PRIu64 " were announced", set->written, set->end);
		return;
	}
	fe.status = EXIT_FAIL;
	fe.msg[0] = '\0';
	io_nowait_close(&set->w);
	if (o->finish != NULL)
		rc = o->finish(o->finish_arg, &fe);
	pthread_mutex_lock(&set->lock);
	set->finish_done = 1;
	set->finish_rc = rc != 0 ? -1 : 0;
	set->finish_e = fe;
	if (rc != 0)
		set->data_failed = 1;
	close(set->finish[1]);
	set->finish[1] = -1;
	pthread_mutex_unlock(&set->lock);
}

void *
stripe_recv_run(void *arg)
{
	struct stripe_set *set = arg;
	struct pollfd pfd[QUIC_CONNECTIONS_MAX + 2];
	int at[QUIC_CONNECTIONS_MAX + 2];
	sigset_t all;
	unsigned k;
	int nfd, i;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	(void)fcntl(set->notify[0], F_SETFL, O_NONBLOCK);
	/* Until the connections end, each once the verdict is in. */
	while (!stripe_all_ended(set) || (!set->failed &&
	    !set->finish_done && set->cancel[1] >= 0)) {
		nfd = 0;
		pfd[nfd].fd = set->notify[0];
		pfd[nfd].events = POLLIN;
		at[nfd++] = -1;
		if (set->out_stalled) {
			pfd[nfd].fd = set->o->data_fd;
			pfd[nfd].events = POLLOUT;
			at[nfd++] = -2;
		}
		for (k = 0; k < set->started && !set->failed; k++)
			if (!set->s[k].eof && !set->s[k].waiting) {
				pfd[nfd].fd = set->s[k].rd;
				pfd[nfd].events = POLLIN;
				at[nfd++] = (int)k;
			}
		if (stripe_poll(set, pfd, nfd) != 0)
			continue;
		for (i = 0; i < nfd; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (at[i] == -1)
				stripe_events(set);
			else if (at[i] == -2)
				set->out_stalled = 0;
			else if (!set->failed)
				read_stripe(set, &set->s[at[i]]);
		}
		flush_output(set);
		finish_output(set);
	}
	return NULL;
}
