/*
 * handshakes.c: a listener's handshakes in progress, several at once.
 *
 * Until a peer authenticates, every handshake lives in a slot of
 * ep->hs, and the loop's work on one (a packet, a timer, packets to
 * write) is done by loading it into the endpoint, where the rest of
 * the engine expects its one connection, and storing it back.  The
 * first handshake to complete (the pin checked) is promoted: the others
 * are told so and dropped, the table goes, and the endpoint carries on
 * with that connection alone.
 *
 * Why several: a stranger that starts a handshake and stalls, or a slow
 * peer, must not keep the pinned peer waiting.  At most HS_PER_ADDR
 * slots go to one IP address, so strangers from one host cannot fill
 * the table (an IPv6 /64 counts as one address); when it is full, a
 * validated newcomer takes the slot of the handshake with the longest
 * time without progress (no new handshake bytes from its peer for
 * HANDSHAKE_YIELD, or four round trips if longer, at most
 * HANDSHAKE_YIELD_MAX), or else of one older than HANDSHAKE_AGE_MAX.
 */
#define _GNU_SOURCE
#include "quic_ep.h"

/* What a parked handshake owns; everything else in ep is shared. */
struct ep_hs {
	ngtcp2_conn *conn;	/* NULL: a free slot */
	gnutls_session_t session;
	sockaddr_u remote;
	socklen_t remotelen;
	char peer_text[QUIC_HOST_MAX + 8];
	char got_pin[QUIC_PIN_SIZE];
	int handshake_done;
	double t_hs_start, t_hs_progress, t_last_rx;
};

int
ep_handshakes_init(struct ep *ep)
{
	if ((ep->hs = calloc(HS_MAX, sizeof(*ep->hs))) == NULL) {
		ep_fail(ep, EXIT_FAIL, "out of memory");
		return -1;
	}
	return 0;
}

int
ep_listening(const struct ep *ep)
{
	return ep->hs != NULL;
}

static void
hs_load(struct ep *ep, struct ep_hs *h)
{
	ep->udp.peer_gone = 0;
	ep->conn = h->conn;
	ep->auth.session = h->session;
	ep->remote = h->remote;
	ep->remotelen = h->remotelen;
	memcpy(ep->peer_text, h->peer_text, sizeof(ep->peer_text));
	ep->t_hs_start = h->t_hs_start;
	ep->t_hs_progress = h->t_hs_progress;
	ep->t_last_rx = h->t_last_rx;
	ep->handshake_done = h->handshake_done;
	ep->auth.pin_mismatch = 0;
	memcpy(ep->auth.got_pin, h->got_pin, sizeof(ep->auth.got_pin));
	h->conn = NULL;
	h->session = NULL;
}

static void
hs_store(struct ep *ep, struct ep_hs *h)
{
	h->conn = ep->conn;
	h->session = ep->auth.session;
	h->remote = ep->remote;
	h->remotelen = ep->remotelen;
	memcpy(h->peer_text, ep->peer_text, sizeof(h->peer_text));
	h->t_hs_start = ep->t_hs_start;
	h->t_hs_progress = ep->t_hs_progress;
	h->t_last_rx = ep->t_last_rx;
	h->handshake_done = ep->handshake_done;
	memcpy(h->got_pin, ep->auth.got_pin, sizeof(h->got_pin));
	ep->conn = NULL;
	ep->auth.session = NULL;
	ep->udp.txlen = 0;	/* a batch that met EAGAIN: lost, resent */
}

/* Tells the loaded handshake's peer why it ends, and forgets it. */
static void
hs_drop_loaded(struct ep *ep, const char *reason)
{
	ngtcp2_ccerr_set_transport_error(&ep->close.ccerr,
	    NGTCP2_CONNECTION_REFUSED, (const uint8_t *)reason,
	    strlen(reason));
	ep_send_close(ep);
	ep_attempt_forget(ep);
}

/*
 * The loaded handshake won: every other one is told and dropped, the
 * table goes, and the winner stays loaded.
 */
static void
promote(struct ep *ep)
{
	struct ep_hs winner;
	size_t i;

	memset(&winner, 0, sizeof(winner));
	hs_store(ep, &winner);
	for (i = 0; i < HS_MAX; i++) {
		if (ep->hs[i].conn == NULL)
			continue;
		hs_load(ep, &ep->hs[i]);
		hs_drop_loaded(ep, HS_LOST_REASON);
	}
	free(ep->hs);
	ep->hs = NULL;
	hs_load(ep, &winner);
}

/*
 * After work on the loaded handshake of slot h: a failure ends it (and
 * says so), completion promotes it, anything else parks it again.
 * Returns 1 when it was promoted.
 */
static int
hs_settle(struct ep *ep, struct ep_hs *h)
{
	/* ICMP about this peer: its handshake ends, not the listener. */
	if (ep->udp.peer_gone && !ep->failed)
		ep_fail(ep, EXIT_FAIL, "%s: %s", ep->peer_text,
		    strerror(ep->udp.peer_gone));
	ep->udp.peer_gone = 0;
	if (ep->failed) {
		ep_server_reset(ep);
		return 0;
	}
	if (ep->handshake_done) {
		promote(ep);
		return 1;
	}
	hs_store(ep, h);
	return 0;
}

int
ep_handshakes_each(struct ep *ep, void (*fn)(struct ep *))
{
	size_t i;

	for (i = 0; ep->hs != NULL && i < HS_MAX && !ep->failed; i++) {
		if (ep->hs[i].conn == NULL)
			continue;
		hs_load(ep, &ep->hs[i]);
		fn(ep);
		if (hs_settle(ep, &ep->hs[i]))
			return 1;
	}
	return 0;
}

ngtcp2_tstamp
ep_handshakes_expiry(const struct ep *ep)
{
	ngtcp2_tstamp t = UINT64_MAX, x;
	size_t i;

	for (i = 0; i < HS_MAX; i++)
		if (ep->hs[i].conn != NULL &&
		    (x = ngtcp2_conn_get_expiry(ep->hs[i].conn)) < t)
			t = x;
	return t;
}

/*
 * Seconds without progress after which a handshake may give way: four
 * round trips if that is longer than HANDSHAKE_YIELD, but never more
 * than HANDSHAKE_YIELD_MAX, as the peer sets the round trip (it may hold
 * back its acknowledgements).
 */
static double
yield_after(const struct ep_hs *h)
{
	ngtcp2_conn_info ci;
	double limit = HANDSHAKE_YIELD;

	ngtcp2_conn_get_conn_info(h->conn, &ci);
	if (ci.min_rtt != UINT64_MAX &&
	    4.0 * (double)ci.smoothed_rtt / 1e9 > limit)
		limit = 4.0 * (double)ci.smoothed_rtt / 1e9;
	return limit < HANDSHAKE_YIELD_MAX ? limit : HANDSHAKE_YIELD_MAX;
}

/*
 * Whether a and b count as one host for HS_PER_ADDR: the same IPv4
 * address, or the same IPv6 /64 (one host gets a whole /64 to pick from).
 */
static int
same_host(const sockaddr_u *a, const sockaddr_u *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 8) == 0;
}

/*
 * How much slot h owes a newcomer, 0 for nothing: a handshake without
 * progress past its limit first (the longest idle most), then one older
 * than HANDSHAKE_AGE_MAX, which a peer could otherwise keep alive by
 * sending a new handshake byte now and then.
 */
static double
give_way(const struct ep_hs *h, double now)
{
	double idle = now - h->t_hs_progress, age = now - h->t_hs_start;

	if (idle >= yield_after(h))
		return 1e6 + idle;
	if (age >= HANDSHAKE_AGE_MAX)
		return age;
	return 0;
}

/*
 * A slot for a validated newcomer from `from`: a free one, unless its
 * host has HS_PER_ADDR already; else the one that owes most (give_way;
 * among its host's own when the host is at its share).  Its handshake
 * is ended and logged.  NULL: the newcomer must wait (its Initial is
 * dropped; it resends).
 */
static struct ep_hs *
slot_for(struct ep *ep, const sockaddr_u *from)
{
	struct ep_hs *free_slot = NULL, *victim = NULL;
	double now = clock_now(), worst = 0;
	size_t i, same = 0;
	int stalled;
	char who[QUIC_HOST_MAX + 8];

	for (i = 0; i < HS_MAX; i++)
		if (ep->hs[i].conn != NULL && same_host(&ep->hs[i].remote, from))
			same++;
	for (i = 0; i < HS_MAX; i++) {
		struct ep_hs *h = &ep->hs[i];
		double owed;

		if (h->conn == NULL) {
			if (free_slot == NULL)
				free_slot = h;
			continue;
		}
		if (same >= HS_PER_ADDR && !same_host(&h->remote, from))
			continue;
		if ((owed = give_way(h, now)) > worst) {
			worst = owed;
			victim = h;
		}
	}
	if (free_slot != NULL && same < HS_PER_ADDR)
		return free_slot;
	if (victim == NULL)
		return NULL;
	stalled = worst > 1e6;
	hs_load(ep, victim);
	ep_addr_text(from, who, sizeof(who));
	if (stalled)
		ep_fail(ep, EXIT_FAIL, "no progress for %.1f s, %.1f s into "
		    "the handshake, and %s is waiting",
		    now - ep->t_hs_progress, now - ep->t_hs_start, who);
	else
		ep_fail(ep, EXIT_FAIL, "unfinished %.1f s into the handshake, "
		    "and %s is waiting", now - ep->t_hs_start, who);
	ngtcp2_ccerr_set_transport_error(&ep->close.ccerr,
	    NGTCP2_CONNECTION_REFUSED, (const uint8_t *)HANDSHAKE_YIELD_REASON,
	    sizeof(HANDSHAKE_YIELD_REASON) - 1);
	ep->close.pending = 1;
	ep_server_reset(ep);
	return victim;
}

void
ep_handshakes_feed(struct ep *ep, const sockaddr_u *from, socklen_t fromlen,
    const uint8_t *pkt, size_t len)
{
	struct ep_hs *h = NULL;
	ngtcp2_pkt_hd hd;
	ngtcp2_cid odcid;
	size_t i;
	int v;

	for (i = 0; i < HS_MAX && h == NULL; i++)
		if (ep->hs[i].conn != NULL && ep_addr_eq(&ep->hs[i].remote, from))
			h = &ep->hs[i];
	if (h != NULL) {
		hs_load(ep, h);
		ep_feed(ep, pkt, len);
		(void)hs_settle(ep, h);
		return;
	}
	/* A newcomer: its address proven (Retry) before it costs a slot. */
	ep->remote = *from;
	ep->remotelen = fromlen;
	if ((v = ep_server_validate(ep, pkt, len, &hd, &odcid)) < 0 ||
	    (h = slot_for(ep, from)) == NULL)
		return;
	ep->remote = *from;
	ep->remotelen = fromlen;
	if (ep_server_accept(ep, &hd, &odcid, v == 0) != 0)
		return;
	ep_feed(ep, pkt, len);
	(void)hs_settle(ep, h);
}

void
ep_handshakes_close(struct ep *ep, uint64_t app_code)
{
	size_t i;

	for (i = 0; ep->hs != NULL && i < HS_MAX; i++) {
		if (ep->hs[i].conn == NULL)
			continue;
		hs_load(ep, &ep->hs[i]);
		ngtcp2_ccerr_set_application_error(&ep->close.ccerr, app_code,
		    NULL, 0);
		ep_send_close(ep);
		ep_conn_free(ep);
	}
}

void
ep_handshakes_free(struct ep *ep)
{
	size_t i;

	for (i = 0; ep->hs != NULL && i < HS_MAX; i++) {
		if (ep->hs[i].conn == NULL)
			continue;
		hs_load(ep, &ep->hs[i]);
		ep_conn_free(ep);
	}
	free(ep->hs);
	ep->hs = NULL;
}
