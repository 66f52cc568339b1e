/*
 * stripe.c: quic_transfer, over one connection or striped over several
 * (stripe.h): the connections' threads, their hooks, the verdict.
 *
 * Who decides: the sender stripes when asked to (--connections N); a
 * receiver speaks both protocols and learns from the handshake (ALPN)
 * whether it stripes, then from the first stream header how many
 * connections there are.  A transfer over one connection runs in the
 * caller's thread with no coordinator at all, as it always did.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include "core/be.h"
#include "stripe.h"

/* ---- the stream header ------------------------------------------------ */

void
stripe_hdr_encode(const struct stripe_hdr *h, uint8_t out[QUIC_STRIPE_HDR_LEN])
{
	memcpy(out, STRIPE_MAGIC, 8);
	out[8] = (uint8_t)(h->index >> 8);
	out[9] = (uint8_t)h->index;
	out[10] = (uint8_t)(h->count >> 8);
	out[11] = (uint8_t)h->count;
	be32_put(out + 12, h->block);
	memcpy(out + 16, h->id, sizeof(h->id));
}

/* 0, or -1 for a header no sender of ours writes. */
int
stripe_hdr_decode(const uint8_t in[QUIC_STRIPE_HDR_LEN], struct stripe_hdr *h)
{
	if (memcmp(in, STRIPE_MAGIC, 8) != 0)
		return -1;
	h->index = (unsigned)in[8] << 8 | in[9];
	h->count = (unsigned)in[10] << 8 | in[11];
	h->block = be32_get(in + 12);
	memcpy(h->id, in + 16, sizeof(h->id));
	if (h->count < 1 || h->count > QUIC_CONNECTIONS_MAX ||
	    h->index >= h->count || h->block < STRIPE_BLOCK_MIN ||
	    h->block > STRIPE_BLOCK_MAX)
		return -1;
	return 0;
}

/* ---- events and verdicts ------------------------------------------------ */

void
stripe_notify(struct stripe_set *set, enum stripe_event ev, unsigned k)
{
	uint8_t m[2] = { (uint8_t)ev, (uint8_t)k };

	/* Two bytes are atomic on a pipe; the coordinator always reads. */
	(void)io_write_full(set->notify[1], m, sizeof(m));
}

/* Reads one event; 0, or -1 when none is there. */
int
stripe_event(struct stripe_set *set, enum stripe_event *ev, unsigned *k)
{
	uint8_t m[2];
	ssize_t n = read(set->notify[0], m, sizeof(m));

	if (n != (ssize_t)sizeof(m))
		return -1;
	*ev = (enum stripe_event)m[0];
	*k = m[1];
	return 0;
}

void
stripe_events(struct stripe_set *set)
{
	enum stripe_event ev;
	unsigned k;

	while (stripe_event(set, &ev, &k) == 0) {
		if (k >= set->started)
			continue;
		if (ev == EV_DONE)
			stripe_ended(set, k);
		else if (ev == EV_DECIDED) {
			stripe_send_decided(set);
			/* After a --resume skip, the handshake that would
			 * have started the next one is long confirmed. */
			(void)stripe_start_next(set, k);
		} else
			(void)stripe_start_next(set, k);
	}
}

int
stripe_poll(struct stripe_set *set, struct pollfd *pfd, int nfd)
{
	struct rcp_error e;

	if (poll(pfd, (nfds_t)nfd, -1) >= 0)
		return 0;
	if (errno == EINTR) {
		/* Nothing happened: the caller reads revents all the same. */
		for (int i = 0; i < nfd; i++)
			pfd[i].revents = 0;
		return 0;
	}
	error_set_errno(&e, EXIT_FAIL, "poll");
	stripe_fail(set, &e);
	return -1;
}

/* The first failure is the verdict; the others follow from it. */
void
stripe_fail(struct stripe_set *set, const struct rcp_error *e)
{
	if (set->failed)
		return;
	set->failed = 1;
	set->e = *e;
	stripe_cancel_all(set, e->msg);
}

/* Every connection closes, telling its peer reason. */
void
stripe_cancel_all(struct stripe_set *set, const char *reason)
{
	pthread_mutex_lock(&set->lock);
	if (set->cancel[1] >= 0) {
		size_t n = strnlen(reason, sizeof(set->reason) - 1);
		memcpy(set->reason, reason, n);
		set->reason[n] = '\0';
		close(set->cancel[1]);
		set->cancel[1] = -1;
	}
	pthread_mutex_unlock(&set->lock);
}

/* Connection k's thread ended: a failure stops the others. */
void
stripe_ended(struct stripe_set *set, unsigned k)
{
	if (k >= set->started || set->s[k].ended)
		return;
	set->s[k].ended = 1;
	if (set->s[k].rc != 0)
		stripe_cancel_all(set, STRIPE_CANCELLED);
}

/*
 * Opens the connection after k, if the transfer has more: the
 * connector once k's handshake is confirmed, the listener once k was
 * accepted (then it takes the listening socket over).  0 or -1.
 */
int
stripe_start_next(struct stripe_set *set, unsigned k)
{
	int fd, confirmed;

	if (set->failed || set->count == 0 || k + 1 != set->started)
		return 0;
	if (set->is_server) {
		pthread_mutex_lock(&set->lock);
		fd = set->listen_fd;
		if (fd < 0 || set->started < set->count) {
			pthread_mutex_unlock(&set->lock);
			return fd < 0 ? 0 : stripe_start(set, set->started);
		}
		set->listen_fd = -1;	/* all in: nobody else */
		pthread_mutex_unlock(&set->lock);
		close(fd);
		return 0;
	}
	pthread_mutex_lock(&set->lock);
	confirmed = set->s[k].confirmed;
	pthread_mutex_unlock(&set->lock);
	if (set->started < set->count && confirmed)
		return stripe_start(set, set->started);
	return 0;
}

int
stripe_all_ended(const struct stripe_set *set)
{
	unsigned k;

	for (k = 0; k < set->started; k++)
		if (!set->s[k].ended)
			return 0;
	return 1;
}

/* ---- the hooks (in the endpoints' threads) ----------------------------- */

static void
on_accepted(void *arg, int listen_fd, const char *peer_pin,
    const sockaddr_u *peer)
{
	struct stripe *s = arg;
	struct stripe_set *set = s->set;

	pthread_mutex_lock(&set->lock);
	if (set->listen_fd >= 0)
		close(set->listen_fd);
	set->listen_fd = listen_fd;
	if (s->index == 0) {
		snprintf(set->peer_pin, sizeof(set->peer_pin), "%s", peer_pin);
		set->peer_addr = *peer;
	}
	pthread_mutex_unlock(&set->lock);
	stripe_notify(set, EV_ACCEPTED, s->index);
}

static void
on_confirmed(void *arg, const struct ep *ep)
{
	struct stripe *s = arg;
	struct stripe_set *set = s->set;
	char serv[8];

	pthread_mutex_lock(&set->lock);
	s->confirmed = 1;
	/* The next connections go where this one went, not to a name. */
	if (s->index == 0 && getnameinfo(&ep->remote.sa, ep->remotelen,
	    set->s[0].host, sizeof(set->s[0].host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		set->s[0].host[0] = '\0';
	if (set->is_sender || set->striped) {
		pthread_mutex_unlock(&set->lock);
		stripe_notify(set, EV_CONFIRMED, s->index);
		return;
	}
	pthread_mutex_unlock(&set->lock);
}

static int
make_pipe(int p[2])
{
	int size = STRIPE_PIPE_SIZE;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	(void)fcntl(p[1], F_SETPIPE_SZ, size);
	return 0;
}

/*
 * Receiver: a connection's header is in.  With one connection the data
 * follows it unframed, straight to the output; else the coordinator
 * (started by the first) reads the header and the blocks from the pipe.
 */
static int
on_header(void *arg, const uint8_t *hdr, struct rcp_error *e)
{
	struct stripe *s = arg;
	struct stripe_set *set = s->set;
	struct stripe_hdr h;
	int fd;

	if (stripe_hdr_decode(hdr, &h) != 0) {
		error_set(e, EXIT_FAIL, "protocol error: bad stripe header on "
		    "connection %u", s->index + 1);
		return -1;
	}
	if (s->index == 0 && h.count == 1)
		return set->o->data_fd;
	pthread_mutex_lock(&set->lock);
	if (s->index == 0 && !set->striped) {
		set->striped = 1;
		if (pthread_create(&set->coordinator, NULL, stripe_recv_run,
		    set) != 0) {
			set->striped = 0;
			pthread_mutex_unlock(&set->lock);
			error_set(e, EXIT_FAIL, "cannot start a thread");
			return -1;
		}
		set->coordinator_running = 1;
	}
	/* An empty pipe takes it whole. */
	(void)io_write_full(s->wr, hdr, QUIC_STRIPE_HDR_LEN);
	fd = s->wr;
	pthread_mutex_unlock(&set->lock);
	return fd;
}

/*
 * Each connection opens 1.5 round trips after the one before and starts
 * slow: a file too small to fill them is faster over fewer.  A pipe's
 * length is unknown: n stays.
 */
static unsigned
auto_for_size(int fd, unsigned n)
{
	struct stat sb;
	off_t at;
	uint64_t left, fit;

	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (at = lseek(fd, 0, SEEK_CUR)) < 0)
		return n;
	left = sb.st_size > at ? (uint64_t)(sb.st_size - at) : 0;
	fit = left / QUIC_AUTO_BYTES_PER_CONNECTION;
	return fit < 1 ? 1 : fit < n ? (unsigned)fit : n;
}

/*
 * Sender, first connection, handshake done: how many connections (the
 * caller's number, or by the round trip), said to the coordinator.
 * With one, the connection sends the input itself after hdr.
 */
static unsigned
on_decide(void *arg, const struct ep *ep, uint8_t hdr[QUIC_STRIPE_HDR_LEN])
{
	struct stripe *s = arg;
	struct stripe_set *set = s->set;
	unsigned n = set->o->connections;
	ngtcp2_conn_info ci;
	struct stripe_hdr h;

	if (hdr == NULL)
		n = 1;		/* a receiver of version 1: alone, unframed */
	else if (n == 0) {
		ngtcp2_conn_get_conn_info(ep->conn, &ci);
		n = ci.min_rtt != UINT64_MAX && ci.min_rtt >=
		    (uint64_t)QUIC_AUTO_RTT_MS * NGTCP2_MILLISECONDS ?
		    QUIC_AUTO_CONNECTIONS : 1;
		n = auto_for_size(set->o->data_fd, n);
	}
	pthread_mutex_lock(&set->lock);
	set->count = n;
	set->hdr.count = n;
	h = set->hdr;
	pthread_mutex_unlock(&set->lock);
	if (set->o->limit_rate > 0)
		s->o.limit_rate = set->o->limit_rate / n > 0 ?
		    set->o->limit_rate / n : 1;
	h.index = 0;
	if (hdr != NULL)
		stripe_hdr_encode(&h, hdr);
	stripe_notify(set, EV_DECIDED, 0);
	return n;
}

/*
 * Receiver: the connection's stream is all in its pipe.  Its
 * confirmation waits for the whole output (1: not yet).
 */
static int
stripe_finish(void *arg, struct rcp_error *e)
{
	struct stripe *s = arg;
	struct stripe_set *set = s->set;
	int rc;

	if (!set->striped)
		return set->o->finish != NULL ?
		    set->o->finish(set->o->finish_arg, e) : 0;
	pthread_mutex_lock(&set->lock);
	if (s->wr >= 0) {
		close(s->wr);	/* end-of-file for the coordinator */
		s->wr = -1;
	}
	if (!set->finish_done) {
		pthread_mutex_unlock(&set->lock);
		return 1;
	}
	rc = set->finish_rc;
	if (rc != 0)
		*e = set->finish_e;
	pthread_mutex_unlock(&set->lock);
	return rc;
}

/* ---- the connections' threads ----------------------------------------- */

static void *
stripe_thread(void *arg)
{
	struct stripe *s = arg;
	sigset_t all;

	/* Signals are the caller's thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	s->rc = ep_transfer(&s->o, &s->link, &s->st, &s->e);
	stripe_notify(s->set, EV_DONE, s->index);
	return NULL;
}

/* Sets up connection k: its pipe, options and hooks (not its thread). */
static int
stripe_prepare(struct stripe_set *set, unsigned k)
{
	const struct quic_opts *o = set->o;
	struct stripe *s = &set->s[k];
	int p[2];

	memset(s, 0, sizeof(*s));
	s->set = set;
	s->index = k;
	s->rd = s->wr = -1;
	if (make_pipe(p) != 0)
		return -1;
	s->rd = p[0];
	s->wr = p[1];
	s->o = *o;
	s->o.identity = set->id;
	s->o.cancel_fd = o->cancel_fd;
	s->o.cancel_reason = set->reason;
	s->link.arg = s;
	s->link.listen_fd = -1;
	s->link.finish_fd = set->finish[0];
	s->link.cancel_fd = set->cancel[0];
	/*
	 * The first connection: a sender also speaks --resume (v3); a
	 * receiver asked to resume speaks only that.  A receiver, or a
	 * sender on one connection or auto, also speaks to a version 1 peer.
	 */
	s->link.alpn_v3 = k == 0 && (set->is_sender || o->resume);
	s->link.alpn_v2 = k > 0 || set->is_sender || !o->resume;
	s->link.alpn_v1 = k == 0 && (set->is_sender ? o->connections <= 1 :
	    !o->resume);
	s->link.on_confirmed = on_confirmed;
	if (set->is_server)
		s->link.on_accepted = on_accepted;
	if (set->is_sender) {
		s->o.data_fd = s->rd;
		s->link.readahead = STRIPE_READAHEAD;
		if (k == 0) {
			s->link.on_decide = on_decide;
			s->link.input_fd = o->data_fd;
		} else {
			/* In flight (its window) and read ahead, not 24 MiB. */
			s->link.ring = STRIPE_RING;
			if (o->limit_rate > 0)
				s->o.limit_rate = o->limit_rate / set->count >
				    0 ? o->limit_rate / set->count : 1;
		}
		s->buf = malloc(STRIPE_BLOCK + QUIC_STRIPE_BLOCK_HDR_LEN);
		if (s->buf == NULL)
			return -1;
		(void)fcntl(s->wr, F_SETFL, O_NONBLOCK);
	} else {
		s->o.data_fd = k == 0 ? o->data_fd : s->wr;
		s->o.finish = stripe_finish;
		s->o.finish_arg = s;
		s->link.on_header = on_header;
		if (k > 0)
			s->o.progress = NULL;	/* the coordinator counts */
	}
	if (set->count > 1 || !set->is_sender) {
		unsigned n = set->count > 0 ? set->count : 1;
		s->link.window = STREAM_WINDOW / n > STRIPE_WINDOW_MIN ?
		    STREAM_WINDOW / n : STRIPE_WINDOW_MIN;
		if (k == 0 && !set->is_sender)
			s->link.window = 0;	/* maybe alone: the default */
	}
	if (k > 0) {
		/* Only the first says where it listens or whom it took,
		 * and warns (the socket buffers are the same for all). */
		s->o.ready_fd = -1;
		s->o.on_ready = NULL;
		s->o.log = NULL;
		s->o.accept_timeout = o->connect_timeout > 0 ?
		    o->connect_timeout : QUIC_DEFAULT_CONNECT_TIMEOUT;
		if (set->is_server) {
			s->link.listen_fd = set->listen_fd;
			set->listen_fd = -1;
			s->o.peer_pin = set->peer_pin;
			s->link.proven = &set->peer_addr;
		} else {
			s->o.host = set->s[0].host;
		}
	}
	return 0;
}

/* Starts connection k in its thread.  0, or -1 (set failed). */
int
stripe_start(struct stripe_set *set, unsigned k)
{
	struct stripe *s = &set->s[k];
	struct rcp_error e;
	uint8_t hdr[QUIC_STRIPE_HDR_LEN];

	pthread_mutex_lock(&set->lock);
	if (stripe_prepare(set, k) != 0) {
		error_set_errno(&e, EXIT_FAIL, "connection %u", k + 1);
		/* Counted, so that set_free closes what it got. */
		s->ended = 1;
		set->started = k + 1;
		pthread_mutex_unlock(&set->lock);
		stripe_fail(set, &e);
		return -1;
	}
	set->started = k + 1;
	pthread_mutex_unlock(&set->lock);
	/* The first one's header waits for the decision (on_decide). */
	if (set->is_sender && k > 0) {
		struct stripe_hdr h = set->hdr;
		h.index = k;
		stripe_hdr_encode(&h, hdr);
		/* An empty pipe takes the header whole. */
		(void)io_write_full(s->wr, hdr, sizeof(hdr));
	}
	if (pthread_create(&s->thread, NULL, stripe_thread, s) != 0) {
		s->ended = 1;
		if (s->link.listen_fd >= 0)
			close(s->link.listen_fd);
		error_set(&e, EXIT_FAIL, "cannot start a thread");
		stripe_fail(set, &e);
		return -1;
	}
	s->running = 1;
	return 0;
}

static void
stripe_release(struct stripe *s)
{
	if (s->running) {
		pthread_join(s->thread, NULL);
		s->running = 0;
	}
	if (s->rd >= 0)
		close(s->rd);
	if (s->wr >= 0)
		close(s->wr);
	s->rd = s->wr = -1;
	free(s->buf);
	s->buf = NULL;
	s->slot = NULL;		/* one of set->slots: set_free's */
}

/* ---- the whole transfer ----------------------------------------------- */

/*
 * The verdict of a failed striped transfer: our own input or output
 * failing; else the peer's own reason, when a connection got it (the
 * others may only have seen the peer's port close, first on a loaded
 * machine); else the connection that failed for a reason of its own,
 * not one stopped because another did.
 */
static void
stripe_verdict(struct stripe_set *set, struct rcp_error *e)
{
	unsigned k;

	for (k = 0; k < set->started && !set->failed; k++)
		if (set->s[k].rc != 0 && set->s[k].st.data_failed)
			stripe_fail(set, &set->s[k].e);
	for (k = 0; k < set->started && !set->failed; k++)
		if (set->s[k].rc != 0 && strncmp(set->s[k].e.msg, PEER_FAILED,
		    sizeof(PEER_FAILED) - 1) == 0 && strstr(set->s[k].e.msg,
		    STRIPE_CANCELLED) == NULL)
			stripe_fail(set, &set->s[k].e);
	for (k = 0; k < set->started && !set->failed; k++)
		if (set->s[k].rc != 0 && strstr(set->s[k].e.msg,
		    STRIPE_CANCELLED) == NULL)
			stripe_fail(set, &set->s[k].e);
	for (k = 0; k < set->started && !set->failed; k++)
		if (set->s[k].rc != 0)
			stripe_fail(set, &set->s[k].e);
	if (set->failed && e != NULL)
		*e = set->e;
}

static void
stripe_stats(struct stripe_set *set, uint64_t bytes, struct quic_stats *st)
{
	unsigned k;

	if (st == NULL)
		return;
	*st = set->s[0].st;
	st->bytes = bytes;
	st->data_failed |= set->data_failed;
	st->connections = set->started;
	for (k = 1; k < set->started; k++) {
		const struct quic_stats *x = &set->s[k].st;
		st->pkts_sent += x->pkts_sent;
		st->pkts_recv += x->pkts_recv;
		st->pkts_lost += x->pkts_lost;
		st->data_failed |= x->data_failed;
		if (x->seconds > st->seconds)
			st->seconds = x->seconds;
	}
}

static int
set_init(struct stripe_set *set, const struct quic_opts *o,
    const struct quic_identity *id, struct rcp_error *e)
{
	memset(set, 0, sizeof(*set));
	set->o = o;
	set->id = id;
	set->is_sender = o->dir == QUIC_SEND;
	set->is_server = o->role == QUIC_LISTEN;
	set->listen_fd = -1;
	set->notify[0] = set->notify[1] = set->cancel[0] = set->cancel[1] =
	    set->finish[0] = set->finish[1] = -1;
	set->w.fd = -1;
	snprintf(set->reason, sizeof(set->reason), "%s",
	    o->cancel_reason != NULL ? o->cancel_reason : "cancelled");
	pthread_mutex_init(&set->lock, NULL);
	if (pipe2(set->notify, O_CLOEXEC) != 0 ||
	    pipe2(set->cancel, O_CLOEXEC) != 0 ||
	    pipe2(set->finish, O_CLOEXEC) != 0) {
		error_set_errno(e, EXIT_FAIL, "pipe");
		return -1;
	}
	return 0;
}

static void
set_free(struct stripe_set *set)
{
	unsigned k;
	int i;

	for (k = 0; k < set->started; k++)
		stripe_release(&set->s[k]);
	for (i = 0; i < 2; i++) {
		if (set->notify[i] >= 0)
			close(set->notify[i]);
		if (set->cancel[i] >= 0)
			close(set->cancel[i]);
		if (set->finish[i] >= 0)
			close(set->finish[i]);
	}
	if (set->listen_fd >= 0)
		close(set->listen_fd);
	free(set->fill);
	if (set->slots != NULL)
		for (size_t j = 0; j < set->nslots; j++)
			free(set->slots[j].data);
	free(set->slots);
	io_nowait_close(&set->w);
	pthread_mutex_destroy(&set->lock);
}

static int
striped_send(struct stripe_set *set, struct quic_stats *st,
    struct rcp_error *e)
{
	int rc;

	set->hdr.block = STRIPE_BLOCK;
	if (gnutls_rnd(GNUTLS_RND_NONCE, set->hdr.id, sizeof(set->hdr.id)) <
	    0) {
		error_set(e, EXIT_FAIL, "no randomness");
		return -1;
	}
	rc = stripe_send_run(set);
	stripe_verdict(set, e);
	if (set->failed)
		rc = -1;
	/* One connection carried the input itself: its count is right. */
	stripe_stats(set, set->count == 1 ? set->s[0].st.bytes : rc == 0 ?
	    set->dealt : 0, st);
	return rc;
}

/* Receiver: the first connection, before anyone knows it stripes. */
static int
stripe_start_receiver(struct stripe_set *set)
{
	struct rcp_error e;

	if (stripe_prepare(set, 0) != 0) {
		error_set_errno(&e, EXIT_FAIL, "connection 1");
		set->failed = 1;
		set->e = e;
		return -1;
	}
	set->started = 1;
	return 0;
}

static int
receive(struct stripe_set *set, struct quic_stats *st, struct rcp_error *e)
{
	struct stripe *s0;
	int rc;

	if (stripe_start_receiver(set) != 0) {
		*e = set->e;
		return -1;
	}
	s0 = &set->s[0];
	/* The first connection runs here: alone, it is the whole transfer. */
	rc = s0->rc = ep_transfer(&s0->o, &s0->link, &s0->st, &s0->e);
	pthread_mutex_lock(&set->lock);
	if (!set->striped) {
		pthread_mutex_unlock(&set->lock);
		if (e != NULL)
			*e = s0->e;
		if (st != NULL)
			*st = s0->st;
		return rc;
	}
	pthread_mutex_unlock(&set->lock);
	stripe_notify(set, EV_DONE, 0);
	pthread_join(set->coordinator, NULL);
	set->coordinator_running = 0;
	stripe_verdict(set, e);
	stripe_stats(set, set->written, st);
	return set->failed ? -1 : 0;
}

int
quic_transfer(const struct quic_opts *o, struct quic_stats *st,
    struct rcp_error *e)
{
	struct quic_identity *eph = NULL;
	struct stripe_set *set;
	int rc;

	if (o->connections > QUIC_CONNECTIONS_MAX)
		return error_set(e, EXIT_USAGE, "at most %d connections",
		    QUIC_CONNECTIONS_MAX), -1;
	/* Every connection shows the same certificate. */
	if (o->identity == NULL && quic_identity_generate(&eph, e) != 0)
		return -1;
	if ((set = calloc(1, sizeof(*set))) == NULL) {
		quic_identity_free(eph);
		return error_set_errno(e, EXIT_FAIL, "memory"), -1;
	}
	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if (set_init(set, o, eph != NULL ? eph : o->identity, e) != 0)
		rc = -1;
	else if (o->dir == QUIC_SEND)
		rc = striped_send(set, st, e);
	else
		rc = receive(set, st, e);
	set_free(set);
	free(set);
	quic_identity_free(eph);
	return rc;
}
