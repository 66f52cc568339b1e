/*
 * quic.c: quic_transfer: the poll loop that drives one endpoint, and the
 * end-to-end confirmation of SPEC §5 (see quic.h and quic_ep.h).
 */
#define _GNU_SOURCE
#include "quic_ep.h"

/*
 * Sender: the receiver's confirmation and FIN are in.  Sets done when
 * they confirm every byte we sent; else fails.  Returns 0 or -1.
 */
int
ep_sender_confirmed(struct ep *ep)
{
	uint64_t count;

	switch (quic_xfer_check(&ep->xf, &count)) {
	case QUIC_XFER_WAIT:
		return -1;
	case QUIC_XFER_SHORT:
		ep_fail_app(ep, QUIC_APP_PROTOCOL, EXIT_FAIL,
		    "protocol error: short confirmation");
		return -1;
	case QUIC_XFER_MISMATCH:
		ep_fail_app(ep, QUIC_APP_PROTOCOL, EXIT_FAIL, "receiver "
		    "confirmed %" PRIu64 " bytes, %" PRIu64 " were sent",
		    count, ep->filled);
		return -1;
	case QUIC_XFER_CONFIRMED:
		break;
	}
	/* Every byte reached the receiver's output: count as delivered
	 * what ACKs still in flight have not yet told us. */
	if (ep->o->progress != NULL && ep->filled > ep->acked)
		progress_add(ep->o->progress, ep->filled - ep->acked);
	ep->acked = ep->filled;
	return 0;
}

/* Things to do between poll rounds once the peer is authenticated. */
static void
progress_protocol(struct ep *ep)
{
	if (ep->is_sender) {
		ep_stream_open(ep);
		if (ep->sid >= 0) {
			/* The count goes with the stream: keep the last. */
			uint64_t n = ngtcp2_conn_get_stream_loss_count(
			    ep->conn, ep->sid);
			if (n > ep->lost)
				ep->lost = n;
		}
		if (ep->xf.reply.fin && !ep->xf.done && !ep->failed &&
		    ep_sender_confirmed(ep) == 0) {
			ngtcp2_ccerr_set_application_error(&ep->ccerr,
			    QUIC_APP_OK, NULL, 0);
			ep->close_pending = 1;
		}
		return;
	}
	/* Receiver: consumed bytes reopen the window. */
	ep_output_flush(ep);
	if (ep->sid >= 0 && ep->xf.written > ep->extended) {
		uint64_t d = ep->xf.written - ep->extended;
		ngtcp2_conn_extend_max_stream_offset(ep->conn, ep->sid, d);
		ngtcp2_conn_extend_max_offset(ep->conn, d);
		ep->extended = ep->xf.written;
	}
	if (quic_xfer_may_finish(&ep->xf) && !ep->failed) {
		struct rcp_error fe;

		fe.status = EXIT_FAIL;
		fe.msg[0] = '\0';
		if (ep->o->finish != NULL &&
		    ep->o->finish(ep->o->finish_arg, &fe) != 0) {
			ep_fail_app(ep, QUIC_APP_RECEIVER_OUTPUT, fe.status,
			    "receiver output failed: %s", fe.msg);
			return;
		}
		/* Output finished: the confirmation may go. */
		quic_xfer_finished(&ep->xf);
	}
}

/*
 * Receiver: the sender vanished (ICMP unreachable) or fell silent after
 * our output was finished and the confirmation queued.  Everything up
 * to the sender's FIN is out, so the transfer is delivered; what was
 * lost is only the sender's acknowledgement of our confirmation (its
 * CONNECTION_CLOSE, dropped on the way).  Sets done and returns 1 then;
 * else returns 0.
 */
static int
receiver_delivered(struct ep *ep, const char *what)
{
	if (ep->failed || !quic_xfer_peer_gone(&ep->xf))
		return 0;
	ep_log(ep, "warning: sender %s %s before acknowledging the "
	    "confirmation; the output is complete", ep->peer_text, what);
	return 1;
}

/*
 * The idle timeout in force is the shorter of the two ends' (RFC 9000
 * §10.1): name the one that fired.  The silence itself is longer: each
 * keep-alive we send restarts the timer, so it is measured, not assumed.
 */
static void
idle_timed_out(struct ep *ep)
{
	const ngtcp2_transport_params *rp =
	    ngtcp2_conn_get_remote_transport_params(ep->conn);
	unsigned secs = ep->o->idle_timeout;
	const char *whose = "--idle-timeout";
	double silent = clock_now() - ep->t_last_rx;

	if (!ep->handshake_done) {
		ep_fail(ep, EXIT_FAIL, "handshake with %s timed out",
		    ep->peer_text);
		return;
	}
	if (rp != NULL && rp->max_idle_timeout > 0 &&
	    rp->max_idle_timeout < (ngtcp2_duration)secs * NGTCP2_SECONDS) {
		secs = (unsigned)((rp->max_idle_timeout + NGTCP2_SECONDS / 2) /
		    NGTCP2_SECONDS);
		whose = "the peer's --idle-timeout";
	}
	ep_fail(ep, EXIT_FAIL, "connection timed out: nothing from %s for "
	    "%.0f s (idle timeout %u s, %s)", ep->peer_text, silent, secs,
	    whose);
}

static int
ep_loop(struct ep *ep)
{
	const struct quic_opts *o = ep->o;
	double accept_deadline = 0;

	if (ep->is_server && o->accept_timeout > 0)
		accept_deadline = clock_now() + o->accept_timeout;
	for (;;) {
		struct pollfd pfd[3];
		ngtcp2_tstamp expiry, now;
		int timeout, nfd = 1, want_input, cancel_at = -1;
		int output_at = -1;

		if (ep->conn != NULL && !ep->failed && !ep->xf.done) {
			if (ep->handshake_done) {
				if (ep->is_server && !ep->connected) {
					/* Authenticated: this is our peer. */
					if (connect(ep->fd, &ep->remote.sa,
					    ep->remotelen) == 0)
						ep->connected = 1;
					if (ep->expect_pin == NULL)
						ep_log(ep, "accepted peer %s "
						    "with certificate %s",
						    ep->peer_text,
						    ep->got_pin);
				}
				if (ep->t_start == 0)
					ep->t_start = clock_now();
				progress_protocol(ep);
			}
			if (!ep->failed && !ep->close_pending && !ep->xf.done)
				(void)ep_write_packets(ep);
		}
		if (ep->peer_gone && !ep->failed && !ep->xf.done)
			(void)ep_read_packets(ep);	/* its last words first */
		if (ep->peer_gone && !ep->failed && !ep->xf.done &&
		    receiver_delivered(ep, "went away"))
			continue;
		if (ep->peer_gone && !ep->failed && !ep->xf.done) {
			if (ep->handshake_done)
				ep_fail(ep, EXIT_FAIL, "peer %s is gone "
				    "(connection refused)", ep->peer_text);
			else if (ep->peer_gone == ECONNREFUSED)
				ep_fail(ep, EXIT_FAIL, "%s: connection refused "
				    "(nothing listening?)", ep->peer_text);
			else
				ep_fail(ep, EXIT_FAIL, "%s: %s", ep->peer_text,
				    strerror(ep->peer_gone));
		}
		if (ep->failed || ep->xf.done) {
			if (ep->is_server && !ep->handshake_done &&
			    !ep->xf.done && ep->conn != NULL) {
				ep_server_reset(ep);
				continue;
			}
			if (ep->close_pending)
				ep_send_close(ep);
			return ep->xf.done && !ep->failed ? 0 : -1;
		}

		now = ep_now();
		timeout = -1;
		if (ep->conn != NULL) {
			expiry = ngtcp2_conn_get_expiry(ep->conn);
			if (expiry <= now)
				timeout = 0;
			else if (expiry != UINT64_MAX)
				timeout = (int)((expiry - now + 999999) /
				    1000000);
		}
		if (ep->is_server && !ep->handshake_done &&
		    accept_deadline > 0) {
			double left = accept_deadline - clock_now();
			int ms;
			if (left <= 0) {
				ep_fail(ep, EXIT_FAIL, "no peer within %u s "
				    "(--accept-timeout)", o->accept_timeout);
				if (ep->conn != NULL) {
					ngtcp2_ccerr_set_application_error(
					    &ep->ccerr, QUIC_APP_INTERNAL,
					    NULL, 0);
					ep_send_close(ep);
				}
				return -1;
			}
			ms = (int)(left * 1000) + 1;
			if (timeout < 0 || ms < timeout)
				timeout = ms;
		}
		pfd[0].fd = ep->fd;
		pfd[0].events = POLLIN | (ep->txlen > 0 ? POLLOUT : 0);
		want_input = ep->is_sender && ep->handshake_done &&
		    !ep->in_eof && ep->filled - ep->acked < SEND_RING_SIZE;
		if (want_input) {
			pfd[1].fd = o->data_fd;
			pfd[1].events = POLLIN;
			nfd = 2;
		}
		if (ep->out_stalled && !ep->failed) {
			pfd[nfd].fd = o->data_fd;
			pfd[nfd].events = POLLOUT;
			output_at = nfd++;
		}
		if (o->cancel_fd >= 0) {
			pfd[nfd].fd = o->cancel_fd;
			pfd[nfd].events = POLLIN;
			cancel_at = nfd++;
		}
		if (poll(pfd, (nfds_t)nfd, timeout) < 0) {
			if (errno == EINTR)
				continue;
			ep_fail(ep, EXIT_FAIL, "poll: %s", strerror(errno));
			return -1;
		}
		if (pfd[0].revents & (POLLIN | POLLERR))
			(void)ep_read_packets(ep);
		if (cancel_at >= 0 && pfd[cancel_at].revents != 0) {
			ep_fail_app(ep, QUIC_APP_INTERNAL, EXIT_FAIL,
			    "cancelled");
			ep->cancelled = 1;	/* now: no closing period */
			if (ep->close_pending)
				ep_send_close(ep);
			return -1;
		}
		if (want_input && pfd[1].revents & (POLLIN | POLLHUP |
		    POLLERR) && !ep->failed)
			ep_input_read(ep);
		if (output_at >= 0 && pfd[output_at].revents != 0)
			ep->out_stalled = 0;	/* flushed at the loop's top */
		if (ep->conn != NULL && !ep->failed &&
		    ngtcp2_conn_get_expiry(ep->conn) <= ep_now()) {
			int rc = ngtcp2_conn_handle_expiry(ep->conn, ep_now());
			if (rc == NGTCP2_ERR_IDLE_CLOSE &&
			    receiver_delivered(ep, "fell silent")) {
				continue;
			} else if (rc == NGTCP2_ERR_IDLE_CLOSE) {
				idle_timed_out(ep);
			} else if (rc == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
				ep_fail(ep, EXIT_FAIL, "handshake with %s timed "
				    "out after %u s (--connect-timeout)",
				    ep->peer_text, o->connect_timeout);
			} else if (rc != 0) {
				ngtcp2_ccerr_set_liberr(&ep->ccerr, rc, NULL,
				    0);
				ep->close_pending = 1;
				ep_fail(ep, EXIT_FAIL, "QUIC: %s",
				    ngtcp2_strerror(rc));
			}
		}
	}
}

void
quic_opts_init(struct quic_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->data_fd = -1;
	o->ready_fd = -1;
	o->cancel_fd = -1;
	o->accept_timeout = QUIC_DEFAULT_ACCEPT_TIMEOUT;
	o->connect_timeout = QUIC_DEFAULT_CONNECT_TIMEOUT;
	o->idle_timeout = QUIC_DEFAULT_IDLE_TIMEOUT;
	o->cc = QUIC_CC_CUBIC;
}

int
quic_transfer(const struct quic_opts *o, struct quic_stats *st,
    struct rcp_error *e)
{
	struct quic_identity *eph = NULL;
	struct addrinfo *addrs, *ai;
	struct ep ep;
	int rc = -1;

	memset(&ep, 0, sizeof(ep));
	ep.o = o;
	ep.e = e;
	ep.fd = -1;
	ep.sid = -1;
	ep.is_server = o->role == QUIC_LISTEN;
	ep.is_sender = o->dir == QUIC_SEND;
	quic_xfer_init(&ep.xf, ep.is_sender);
	ep.alpn = (ep.is_server != ep.is_sender) ? QUIC_ALPN_C2S :
	    QUIC_ALPN_S2C;
	ep.expect_pin = ep.is_server ? o->peer_pin : o->pin;
	ngtcp2_ccerr_default(&ep.ccerr);
	if (e != NULL) {
		e->status = 0;
		e->msg[0] = '\0';
	}
	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if (!ep.is_server && o->pin == NULL) {
		error_set(e, EXIT_USAGE, "connecting needs the server's pin");
		return -1;
	}
	if (o->idle_timeout == 0) {
		error_set(e, EXIT_USAGE, "idle timeout must be at least 1 s");
		return -1;
	}
	ep.id = o->identity;
	if (ep.id == NULL) {
		if (quic_identity_generate(&eph, e) != 0)
			return -1;
		ep.id = eph;
	}
	ep.txbuf = malloc(TX_BUF_SIZE);
	ep.rxbuf = malloc(RX_BUF_SIZE);
	if (ep.is_sender)
		ep.ring = malloc(SEND_RING_SIZE);
	else if ((ep.obuf = mmap(NULL, OUTPUT_BUF_SIZE, PROT_READ |
	    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		ep.obuf = NULL;
	if (ep.txbuf == NULL || ep.rxbuf == NULL ||
	    (ep.is_sender ? ep.ring == NULL : ep.obuf == NULL)) {
		error_set_errno(e, EXIT_FAIL, "buffers");
		goto out;
	}
	if (gnutls_certificate_allocate_credentials(&ep.cred) < 0) {
		error_set(e, EXIT_FAIL, "TLS credentials: out of memory");
		ep.cred = NULL;
		goto out;
	}
	if (quic_identity_set_creds(ep.id, ep.cred, e) != 0)
		goto out;

	if (ep.is_server) {
		if (ep_server_bind(&ep) == 0)
			rc = ep_loop(&ep);
	} else if (ep_client_resolve(&ep, &addrs) == 0) {
		/* Like ssh: each address in turn while nothing answers. */
		for (ai = addrs; ai != NULL; ai = ai->ai_next) {
			if (ep_client_start(&ep, ai) == 0)
				rc = ep_loop(&ep);
			if (rc == 0 || ai->ai_next == NULL ||
			    !ep_client_try_next(&ep))
				break;
			ep_client_reset(&ep);
		}
		freeaddrinfo(addrs);
	}
out:
	ep.t_end = clock_now();
	if (st != NULL) {
		st->bytes = ep.is_sender ? ep.acked : ep.xf.written;
		st->seconds = ep.t_start > 0 ? ep.t_end - ep.t_start : 0;
		st->pkts_sent = ep.pkts_sent;
		st->pkts_recv = ep.pkts_recv;
		st->pkts_lost = ep.lost;
		snprintf(st->peer, sizeof(st->peer), "%s", ep.peer_text);
		if (ep.conn != NULL) {
			ngtcp2_conn_info ci;
			ngtcp2_conn_get_conn_info(ep.conn, &ci);
			st->srtt_ms = (double)ci.smoothed_rtt / 1e6;
			st->min_rtt_ms = ci.min_rtt == UINT64_MAX ? 0 :
			    (double)ci.min_rtt / 1e6;
		}
	}
	ep_conn_free(&ep);
	if (ep.cred != NULL)
		gnutls_certificate_free_credentials(ep.cred);
	if (ep.fd >= 0)
		close(ep.fd);
	free(ep.txbuf);
	free(ep.rxbuf);
	free(ep.ring);
	if (ep.obuf != NULL)
		munmap(ep.obuf, OUTPUT_BUF_SIZE);
	quic_identity_free(eph);
	return rc;
}

void
quic_stats_format(const struct quic_stats *st, char *buf, size_t size)
{
	double mbps = st->seconds > 0 ? (double)st->bytes / st->seconds /
	    1e6 : 0;

	snprintf(buf, size, "stats: bytes=%" PRIu64 " seconds=%.3f "
	    "throughput=%.1fMB/s rtt=%.3fms min_rtt=%.3fms packets_sent=%"
	    PRIu64 " packets_received=%" PRIu64 " packets_lost=%" PRIu64
	    " peer=%s", st->bytes, st->seconds, mbps, st->srtt_ms,
	    st->min_rtt_ms, st->pkts_sent, st->pkts_recv, st->pkts_lost,
	    st->peer[0] ? st->peer : "-");
}
