/*
 * listener.c: --listen: binds, validates each peer's address with a
 * Retry, starts handshakes (handshakes.c runs several at once), prints
 * the ready line.
 */
#define _GNU_SOURCE
#include "quic_ep.h"

/* ---- endpoints --------------------------------------------------------- */

/*
 * A socket on the listener's port, connected to the peer; or -1.  The
 * listening socket joins it in SO_REUSEPORT only now, after its bind:
 * the kernel lets only our own user join the port, gives a connected
 * socket its peer's datagrams and the listening one the rest, and
 * another listener (ours, or --port-range looking for a free port)
 * still finds the port in use, as it binds without the option.
 */
static int
stripe_socket(const struct ep *ep)
{
	int fd, one = 1, zero = 0;

	if (setsockopt(ep->fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof(one)) != 0)
		return -1;

	fd = socket(ep->local.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (ep->local.sa.sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		    sizeof(zero));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    bind(fd, &ep->local.sa, ep->locallen) != 0 ||
	    connect(fd, &ep->remote.sa, ep->remotelen) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Answers an Initial without a token with a Retry whose token proves
 * the address, and keeps nothing: a peer must show it receives at the
 * address it sends from before it costs a handshake, so spoofed or
 * replayed Initials cost one small datagram each.
 */
static void
send_retry(struct ep *ep, const ngtcp2_pkt_hd *hd)
{
	uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN], cid[CID_LEN];
	uint8_t buf[NGTCP2_MAX_UDP_PAYLOAD_SIZE];
	ngtcp2_ssize tlen, n;
	ngtcp2_cid scid;

	if (gnutls_rnd(GNUTLS_RND_NONCE, cid, sizeof(cid)) < 0)
		return;
	ngtcp2_cid_init(&scid, cid, sizeof(cid));
	tlen = ngtcp2_crypto_generate_retry_token(token, ep->retry_secret,
	    sizeof(ep->retry_secret), hd->version, &ep->remote.sa,
	    ep->remotelen, &scid, &hd->dcid, ep_now());
	if (tlen < 0)
		return;
	n = ngtcp2_crypto_write_retry(buf, sizeof(buf), hd->version,
	    &hd->scid, &scid, &hd->dcid, token, (size_t)tlen);
	if (n > 0)
		(void)sendto(ep->fd, buf, (size_t)n, MSG_DONTWAIT,
		    &ep->remote.sa, ep->remotelen);
}

/* The same IP address (any port): the host a Retry proved already. */
static int
same_ip(const sockaddr_u *a, const sockaddr_u *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
}

/*
 * 0: a valid Retry token; 1: none needed, the address proved itself
 * for the transfer's first connection (a striped transfer's next ones
 * save a round trip each); -1: drop the packet.
 */
int
ep_server_validate(struct ep *ep, const uint8_t *pkt, size_t len,
    ngtcp2_pkt_hd *hd, ngtcp2_cid *odcid)
{
	if (ngtcp2_accept(hd, pkt, len) != 0 || hd->type != NGTCP2_PKT_INITIAL)
		return -1;	/* not an Initial we can take: drop it */
	if (hd->tokenlen == 0 && ep->link != NULL &&
	    ep->link->proven != NULL && same_ip(&ep->remote,
	    ep->link->proven)) {
		*odcid = hd->dcid;
		return 1;
	}
	if (hd->tokenlen == 0 ||
	    hd->token[0] != NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) {
		send_retry(ep, hd);
		return -1;
	}
	/* Forged, expired, or made for another address: drop it. */
	if (ngtcp2_crypto_verify_retry_token(odcid, hd->token, hd->tokenlen,
	    ep->retry_secret, sizeof(ep->retry_secret), hd->version,
	    &ep->remote.sa, ep->remotelen, &hd->dcid, RETRY_TOKEN_LIFETIME,
	    ep_now()) != 0)
		return -1;
	return 0;
}

int
ep_server_accept(struct ep *ep, const ngtcp2_pkt_hd *hd,
    const ngtcp2_cid *odcid, int retried)
{
	ngtcp2_settings s;
	ngtcp2_transport_params p;
	ngtcp2_cid scid;
	ngtcp2_path path;
	uint8_t cid[CID_LEN];
	int rc;

	ep_conn_settings(ep, &s, &p);
	p.original_dcid = *odcid;
	p.original_dcid_present = 1;
	if (retried) {
		s.token = hd->token;
		s.tokenlen = hd->tokenlen;
		s.token_type = NGTCP2_TOKEN_TYPE_RETRY;
		p.retry_scid = hd->dcid;
		p.retry_scid_present = 1;
	}
	if (gnutls_rnd(GNUTLS_RND_RANDOM, cid, sizeof(cid)) < 0 ||
	    gnutls_rnd(GNUTLS_RND_RANDOM, p.stateless_reset_token,
	    sizeof(p.stateless_reset_token)) < 0)
		return -1;
	p.stateless_reset_token_present = 1;
	ngtcp2_cid_init(&scid, cid, sizeof(cid));
	path.local.addr = &ep->local.sa;
	path.local.addrlen = ep->locallen;
	path.remote.addr = &ep->remote.sa;
	path.remote.addrlen = ep->remotelen;
	path.user_data = NULL;
	ep->handshake_done = 0;
	ep->auth.pin_mismatch = 0;
	ep->auth.got_pin[0] = '\0';
	ep->t_hs_start = ep->t_hs_progress = ep->t_last_rx = clock_now();
	if (ep_tls_new(ep) != 0)
		return -1;
	rc = ngtcp2_conn_server_new(&ep->conn, &hd->scid, &scid, &path,
	    hd->version, &ep_callbacks_server, &s, &p, NULL, ep);
	if (rc != 0) {
		ep_conn_free(ep);
		ep_fail(ep, EXIT_FAIL, "QUIC: %s", ngtcp2_strerror(rc));
		return -1;
	}
	ngtcp2_conn_set_tls_native_handle(ep->conn, ep->auth.session);
	ep_conn_keepalive(ep);
	ep_addr_text(&ep->remote, ep->peer_text, sizeof(ep->peer_text));
	return 0;
}

/*
 * A handshake that failed before the peer was authenticated costs the
 * listener nothing: say so, answer with the close, and wait for the next
 * one (SPEC §5: "keeps waiting for the right one").
 */
void
ep_server_reset(struct ep *ep)
{
	ep_log(ep, "handshake with %s failed, still listening: %s",
	    ep->peer_text,
	    ep->e != NULL ? ep->e->msg : "handshake failed");
	if (ep->close.pending)
		ep_send_close(ep);
	ep_attempt_forget(ep);
}

/*
 * For a wildcard listener's ready line, an address a peer can dial: the
 * source address of this host's route towards the rest of the network,
 * learnt by connecting a UDP socket (which sends nothing) to a
 * documentation address, IPv4 first where the socket takes IPv4 (an
 * IPv6 wildcard does, dual-stack); else the host's name.
 */
static void
dialable_host(int family, char *buf, size_t size)
{
	static const struct {
		int family;
		const char *addr;
	} probes[] = { { AF_INET, "192.0.2.1" }, { AF_INET6, "2001:db8::1" } };
	sockaddr_u a;
	socklen_t len;
	size_t i;
	int fd, ok;

	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		if (family == AF_INET && probes[i].family != AF_INET)
			continue;
		memset(&a, 0, sizeof(a));
		a.sa.sa_family = (sa_family_t)probes[i].family;
		if (probes[i].family == AF_INET) {
			a.in.sin_port = htons(9);
			inet_pton(AF_INET, probes[i].addr, &a.in.sin_addr);
			len = sizeof(a.in);
		} else {
			a.in6.sin6_port = htons(9);
			inet_pton(AF_INET6, probes[i].addr, &a.in6.sin6_addr);
			len = sizeof(a.in6);
		}
		if ((fd = socket(probes[i].family, SOCK_DGRAM | SOCK_CLOEXEC,
		    0)) < 0)
			continue;
		ok = connect(fd, &a.sa, len) == 0 &&
		    getsockname(fd, &a.sa, &len) == 0;
		close(fd);
		if (ok && inet_ntop(probes[i].family, probes[i].family ==
		    AF_INET ? (void *)&a.in.sin_addr : (void *)&a.in6.sin6_addr,
		    buf, (socklen_t)size) != NULL)
			return;
	}
	if (gethostname(buf, size) != 0 || buf[0] == '\0')
		snprintf(buf, size, "localhost");
	buf[size - 1] = '\0';
}

static int
ready_line(struct ep *ep)
{
	const struct quic_opts *o = ep->o;
	char host[QUIC_HOST_MAX], line[QUIC_READY_MAX + 2];
	const char *h = host;
	uint16_t port;
	size_t len;
	int wildcard;

	if (ep->local.sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &ep->local.in6.sin6_addr, host,
		    sizeof(host));
		port = ntohs(ep->local.in6.sin6_port);
		wildcard = IN6_IS_ADDR_UNSPECIFIED(&ep->local.in6.sin6_addr);
	} else {
		inet_ntop(AF_INET, &ep->local.in.sin_addr, host, sizeof(host));
		port = ntohs(ep->local.in.sin_port);
		wildcard = ep->local.in.sin_addr.s_addr == htonl(INADDR_ANY);
	}
	if (wildcard && o->advertise != NULL)
		h = o->advertise;
	else if (wildcard)
		dialable_host(ep->local.sa.sa_family, host, sizeof(host));
	if (quic_ready_format(line, sizeof(line) - 1, h, port,
	    quic_identity_pin(ep->auth.id)) != 0) {
		ep_fail(ep, EXIT_USAGE, "--advertise %s: too long", h);
		return -1;
	}
	if (o->on_ready != NULL)
		o->on_ready(o->on_ready_arg, line);
	if (o->ready_fd >= 0) {
		len = strlen(line);
		line[len++] = '\n';
		if (io_write_full(o->ready_fd, line, len) != 0) {
			ep_fail(ep, EXIT_FAIL, "ready line: write to fd %d: %s",
			    o->ready_fd, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * The next listener of a striped transfer takes over the socket its
 * predecessor bound: no ready line, a Retry key of its own.
 */
static int
server_adopt(struct ep *ep, int fd)
{
	ep->fd = fd;
	ep->locallen = sizeof(ep->local);
	if (getsockname(ep->fd, &ep->local.sa, &ep->locallen) != 0) {
		ep_fail(ep, EXIT_FAIL, "getsockname: %s", strerror(errno));
		return -1;
	}
	if (gnutls_rnd(GNUTLS_RND_KEY, ep->retry_secret,
	    sizeof(ep->retry_secret)) < 0) {
		ep_fail(ep, EXIT_FAIL, "random: cannot make the Retry key");
		return -1;
	}
	return 0;
}

/* Binds to o->host and o->port (or a free port of the ranges). */
int
ep_server_bind(struct ep *ep)
{
	const struct quic_opts *o = ep->o;
	struct addrinfo hints, *res = NULL;
	const char *host = (o->host != NULL && o->host[0] != '\0') ?
	    o->host : NULL;
	int rc, zero = 0;
	size_t r, tries, span = 0;
	uint32_t start = 0;

	if (ep->link != NULL && ep->link->listen_fd >= 0)
		return server_adopt(ep, ep->link->listen_fd);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (host == NULL) {
		hints.ai_family = AF_INET6;	/* dual-stack wildcard */
		rc = getaddrinfo(NULL, "0", &hints, &res);
		if (rc != 0) {
			hints.ai_family = AF_INET;
			rc = getaddrinfo(NULL, "0", &hints, &res);
		}
	} else {
		rc = getaddrinfo(host, "0", &hints, &res);
	}
	if (rc != 0)
		return ep_fail(ep, EXIT_USAGE, "%s: %s", host ? host : "*",
		    gai_strerror(rc)), -1;
	ep->fd = socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (ep->fd < 0) {
		freeaddrinfo(res);
		ep_fail(ep, EXIT_FAIL, "socket: %s", strerror(errno));
		return -1;
	}
	if (res->ai_family == AF_INET6 && host == NULL)
		(void)setsockopt(ep->fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		    sizeof(zero));
	memcpy(&ep->local, res->ai_addr, res->ai_addrlen);
	ep->locallen = res->ai_addrlen;
	freeaddrinfo(res);

	for (r = 0; r < o->nranges; r++)
		span += (size_t)o->ranges[r].hi - o->ranges[r].lo + 1;
	if (o->port == 0 && span > 0)
		(void)gnutls_rnd(GNUTLS_RND_NONCE, &start, sizeof(start));
	tries = (o->port == 0 && span > 0) ? span : 1;
	for (size_t t = 0; t < tries; t++) {
		uint16_t port = o->port;
		if (o->port == 0 && span > 0) {
			size_t k = (start + t) % span;
			for (r = 0; k >= (size_t)o->ranges[r].hi -
			    o->ranges[r].lo + 1; r++)
				k -= (size_t)o->ranges[r].hi -
				    o->ranges[r].lo + 1;
			port = (uint16_t)(o->ranges[r].lo + k);
		}
		if (ep->local.sa.sa_family == AF_INET6)
			ep->local.in6.sin6_port = htons(port);
		else
			ep->local.in.sin_port = htons(port);
		if (bind(ep->fd, &ep->local.sa, ep->locallen) == 0)
			goto bound;
		if (errno != EADDRINUSE || tries == 1) {
			char a[QUIC_HOST_MAX + 8];
			ep_addr_text(&ep->local, a, sizeof(a));
			ep_fail(ep, EXIT_FAIL, "bind %s: %s", a,
			    strerror(errno));
			return -1;
		}
	}
	ep_fail(ep, EXIT_FAIL, "--port-range: no free port");
	return -1;
bound:
	ep->locallen = sizeof(ep->local);
	if (getsockname(ep->fd, &ep->local.sa, &ep->locallen) != 0) {
		ep_fail(ep, EXIT_FAIL, "getsockname: %s", strerror(errno));
		return -1;
	}
	ep_socket_tune(ep);
	if (gnutls_rnd(GNUTLS_RND_KEY, ep->retry_secret,
	    sizeof(ep->retry_secret)) < 0) {
		ep_fail(ep, EXIT_FAIL, "random: cannot make the Retry key");
		return -1;
	}
	return ready_line(ep);
}

/*
 * The handshake completed and the peer's pin checked: this is our peer.
 * Connecting the socket makes the kernel filter strangers from now on,
 * and turns an ICMP "port unreachable" from a vanished peer into
 * ECONNREFUSED.
 */
void
ep_server_authenticated(struct ep *ep)
{
	int fd;

	/*
	 * Striping: the connection moves to a socket of its own, connected
	 * to its peer, and the listening one is handed on for the next.
	 */
	if (ep->striped && ep->link != NULL && ep->link->on_accepted != NULL &&
	    (fd = stripe_socket(ep)) >= 0) {
		int listen_fd = ep->fd;
		ep->fd = fd;
		ep->connected = 1;
		ep_socket_tune(ep);
		ep->link->on_accepted(ep->link->arg, listen_fd,
		    ep->auth.got_pin, &ep->remote);
	} else if (connect(ep->fd, &ep->remote.sa, ep->remotelen) == 0)
		ep->connected = 1;
	if (ep->auth.expect_pin == NULL)
		ep_log(ep, "accepted peer %s with certificate %s",
		    ep->peer_text, ep->auth.got_pin);
}
