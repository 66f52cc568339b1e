/*
 * stripe_send.c: the sending coordinator.  It reads the input a block
 * at a time and deals each block to a connection whose pipe has room,
 * the emptiest first: a connection that sends slowly (losses, a smaller
 * window) holds only the block it is sending and the one in its pipe,
 * so the others carry the rest.
 */
#define _GNU_SOURCE
#include <sys/ioctl.h>

#include "core/be.h"
#include "stripe.h"

/* Our input failed: said as the lone sender says it (stream.c). */
static void
input_failed(struct stripe_set *set, int err)
{
	const char *name = set->o->data_name != NULL ? set->o->data_name :
	    "stdin";
	struct rcp_error e;

	error_set(&e, EXIT_FAIL, "%s: read error: %s", name, strerror(err));
	set->data_failed = 1;
	set->failed = 1;
	set->e = e;
	snprintf(e.msg, sizeof(e.msg), "sender input failed: read: %s",
	    strerror(err));
	stripe_cancel_all(set, e.msg);
}

/* The connection that should take the next block, or NULL. */
static struct stripe *
emptiest(struct stripe_set *set)
{
	struct stripe *best = NULL;
	int least = 0, queued;
	unsigned k;

	for (k = 0; k < set->started; k++) {
		struct stripe *s = &set->s[k];
		if (s->ended || s->wr < 0 || s->off < s->len)
			continue;
		if (ioctl(s->wr, FIONREAD, &queued) != 0)
			queued = 0;
		if (best == NULL || queued < least) {
			best = s;
			least = queued;
		}
	}
	return best;
}

/* Hands the block read so far to a connection, if one has room. */
static void
deal(struct stripe_set *set)
{
	struct stripe *s;
	uint8_t *b;

	if (set->fill_len == 0 || (set->fill_len < STRIPE_BLOCK &&
	    !set->in_eof) || (s = emptiest(set)) == NULL)
		return;
	be64_put(set->fill, set->dealt);
	be32_put(set->fill + 8, (uint32_t)set->fill_len);
	b = s->buf;
	s->buf = set->fill;
	s->len = QUIC_STRIPE_BLOCK_HDR_LEN + set->fill_len;
	s->off = 0;
	set->fill = b;
	set->dealt += set->fill_len;
	set->fill_len = 0;
}

/* Writes what connection s's pipe takes of its block now. */
static void
push(struct stripe *s)
{
	ssize_t n;

	while (s->off < s->len && s->wr >= 0) {
		n = write(s->wr, s->buf + s->off, s->len - s->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;	/* full; or its endpoint is gone (EV_DONE) */
		s->off += (size_t)n;
	}
}

/* Once everything went into the pipes: end-of-file for each. */
static void
close_pipes(struct stripe_set *set)
{
	unsigned k;

	if (!set->in_eof || set->fill_len > 0)
		return;
	for (k = 0; k < set->started; k++)
		if (set->s[k].off < set->s[k].len)
			return;
	for (k = 0; k < set->started; k++)
		if (set->s[k].wr >= 0) {
			close(set->s[k].wr);
			set->s[k].wr = -1;
		}
}

static void
read_input(struct stripe_set *set)
{
	ssize_t n = io_read_ready(set->o->data_fd, set->fill +
	    QUIC_STRIPE_BLOCK_HDR_LEN + set->fill_len, STRIPE_BLOCK -
	    set->fill_len);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n < 0)
		input_failed(set, errno);
	else if (n == 0)
		set->in_eof = 1;
	else
		set->fill_len += (size_t)n;
}

/*
 * The first connection knows how many there are (on_decide).  With one,
 * it reads the input itself; else its stream starts with its header.
 */
void
stripe_send_decided(struct stripe_set *set)
{
	struct stripe_hdr h;
	uint8_t hdr[QUIC_STRIPE_HDR_LEN];

	pthread_mutex_lock(&set->lock);
	set->decided = 1;
	h = set->hdr;
	pthread_mutex_unlock(&set->lock);
	if (set->count < 2)
		return;
	h.index = 0;
	stripe_hdr_encode(&h, hdr);
	/* An empty pipe takes it whole. */
	(void)io_write_full(set->s[0].wr, hdr, sizeof(hdr));
}

int
stripe_send_run(struct stripe_set *set)
{
	const struct quic_opts *o = set->o;
	struct pollfd pfd[QUIC_CONNECTIONS_MAX + 3];
	int at[QUIC_CONNECTIONS_MAX + 3];
	unsigned k;
	int nfd, i;

	(void)fcntl(set->notify[0], F_SETFL, O_NONBLOCK);
	set->fill = malloc(STRIPE_BLOCK + QUIC_STRIPE_BLOCK_HDR_LEN);
	if (set->fill == NULL) {
		struct rcp_error e;
		error_set_errno(&e, EXIT_FAIL, "memory");
		stripe_fail(set, &e);
		return -1;
	}
	(void)stripe_start(set, 0);
	while (!stripe_all_ended(set) || (set->started < set->count &&
	    !set->failed && set->cancel[1] >= 0)) {
		nfd = 0;
		pfd[nfd].fd = set->notify[0];
		pfd[nfd].events = POLLIN;
		at[nfd++] = -1;
		if (set->decided && set->count > 1 && !set->in_eof &&
		    !set->failed && set->fill_len < STRIPE_BLOCK) {
			pfd[nfd].fd = o->data_fd;
			pfd[nfd].events = POLLIN;
			at[nfd++] = -2;
		}
		for (k = 0; k < set->started; k++)
			if (set->s[k].wr >= 0 && set->s[k].off <
			    set->s[k].len) {
				pfd[nfd].fd = set->s[k].wr;
				pfd[nfd].events = POLLOUT;
				at[nfd++] = (int)k;
			}
		if (stripe_poll(set, pfd, nfd) != 0)
			break;
		for (i = 0; i < nfd; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (at[i] == -1)
				stripe_events(set);
			else if (at[i] == -2)
				read_input(set);
			else
				push(&set->s[at[i]]);
		}
		/* Pushes first: a pipe that took its block whole may take
		 * the block read meanwhile, or poll would wait on nothing. */
		if (!set->failed && set->cancel[1] >= 0) {
			for (k = 0; k < set->started; k++)
				push(&set->s[k]);
			deal(set);
			for (k = 0; k < set->started; k++)
				push(&set->s[k]);
			close_pipes(set);
		}
	}
	return set->failed ? -1 : 0;
}
