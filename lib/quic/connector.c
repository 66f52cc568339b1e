/*
 * connector.c: --connect: resolves the name and tries each address
 * in turn until one completes a handshake.
 */
#define _GNU_SOURCE
#include "quic_ep.h"

/* The addresses --connect names, in getaddrinfo's order. */
int
ep_client_resolve(struct ep *ep, struct addrinfo **res)
{
	struct addrinfo hints;
	char portstr[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)ep->o->port);
	rc = getaddrinfo(ep->o->host, portstr, &hints, res);
	if (rc != 0) {
		ep_fail(ep, EXIT_FAIL, "%s: %s", ep->o->host, gai_strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * Whether the attempt on one address failed in a way the next address
 * may not: nothing listening there (ICMP unreachable), or no socket or
 * route for its family.  A pin mismatch, a timeout or a cancel is final.
 */
int
ep_client_try_next(const struct ep *ep)
{
	return !ep->handshake_done && !ep->cancelled && !ep->auth.pin_mismatch &&
	    (ep->udp.peer_gone || ep->conn == NULL);
}

/* Back to the state before ep_client_start, for the next address. */
void
ep_client_reset(struct ep *ep)
{
	ep_attempt_forget(ep);
	if (ep->fd >= 0)
		close(ep->fd);
	ep->fd = -1;
	ep->connected = 0;
}

int
ep_client_start(struct ep *ep, const struct addrinfo *ai)
{
	ngtcp2_settings s;
	ngtcp2_transport_params p;
	ngtcp2_cid dcid, scid;
	ngtcp2_path path;
	uint8_t d[CID_LEN], c[CID_LEN];
	int rc;

	memcpy(&ep->remote, ai->ai_addr, ai->ai_addrlen);
	ep->remotelen = ai->ai_addrlen;
	ep->fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	ep_addr_text(&ep->remote, ep->peer_text, sizeof(ep->peer_text));
	if (ep->fd < 0) {
		ep_fail(ep, EXIT_FAIL, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(ep->fd, &ep->remote.sa, ep->remotelen) != 0) {
		ep_fail(ep, EXIT_FAIL, "connect %s: %s", ep->peer_text,
		    strerror(errno));
		return -1;
	}
	ep->connected = 1;
	ep->locallen = sizeof(ep->local);
	if (getsockname(ep->fd, &ep->local.sa, &ep->locallen) != 0) {
		ep_fail(ep, EXIT_FAIL, "getsockname: %s", strerror(errno));
		return -1;
	}
	ep_socket_tune(ep);

	ep_conn_settings(ep, &s, &p);
	if (gnutls_rnd(GNUTLS_RND_RANDOM, d, sizeof(d)) < 0 ||
	    gnutls_rnd(GNUTLS_RND_RANDOM, c, sizeof(c)) < 0) {
		ep_fail(ep, EXIT_FAIL, "no randomness");
		return -1;
	}
	ngtcp2_cid_init(&dcid, d, sizeof(d));
	ngtcp2_cid_init(&scid, c, sizeof(c));
	path.local.addr = &ep->local.sa;
	path.local.addrlen = ep->locallen;
	path.remote.addr = &ep->remote.sa;
	path.remote.addrlen = ep->remotelen;
	path.user_data = NULL;
	if (ep_tls_new(ep) != 0)
		return -1;
	rc = ngtcp2_conn_client_new(&ep->conn, &dcid, &scid, &path,
	    NGTCP2_PROTO_VER_V1, &ep_callbacks_client, &s, &p, NULL, ep);
	if (rc != 0) {
		ep_fail(ep, EXIT_FAIL, "QUIC: %s", ngtcp2_strerror(rc));
		return -1;
	}
	ngtcp2_conn_set_tls_native_handle(ep->conn, ep->auth.session);
	ep_conn_keepalive(ep);
	return 0;
}
