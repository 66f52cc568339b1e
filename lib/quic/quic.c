/*
 * quic.c: quic_transfer: the poll loop that drives one endpoint, and the
 * end-to-end confirmation of SPEC §5 (see quic.h and quic_ep.h).
 */
#define _GNU_SOURCE
#include "quic_ep.h"
#include "wipe.h"

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
		    count, ep->snd.filled);
		return -1;
	case QUIC_XFER_CONFIRMED:
		break;
	}
	ep->t_end = clock_now();
	/* Every byte reached the receiver's output: count as delivered
	 * what ACKs still in flight have not yet told us. */
	if (ep->o->progress != NULL && ep->snd.filled > ep->snd.acked)
		progress_add(ep->o->progress, ep->snd.filled - ep->snd.acked);
	ep->snd.acked = ep->snd.filled;
	return 0;
}

/* Things to do between poll rounds once the peer is authenticated. */
static void
progress_protocol(struct ep *ep)
{
	if (ep->is_sender) {
		ep_resume_deadline(ep);
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
			ngtcp2_ccerr_set_application_error(&ep->close.ccerr,
			    QUIC_APP_OK, NULL, 0);
			ep->close.pending = 1;
		}
		return;
	}
	/* Receiver: consumed bytes reopen the window. */
	ep_resume_ask(ep);
	ep_output_flush(ep);
	if (ep->sid >= 0 && ep->xf.written > ep->rcv.extended) {
		uint64_t d = ep->xf.written - ep->rcv.extended;
		ngtcp2_conn_extend_max_stream_offset(ep->conn, ep->sid, d);
		ngtcp2_conn_extend_max_offset(ep->conn, d);
		ep->rcv.extended = ep->xf.written;
	}
	if (quic_xfer_may_finish(&ep->xf) && !ep->failed) {
		struct rcp_error fe;
		int rc = 0;

		fe.status = EXIT_FAIL;
		fe.msg[0] = '\0';
		/* Ours too must go for the reader to see end-of-file. */
		io_nowait_close(&ep->rcv.w);
		if (ep->o->finish != NULL &&
		    (rc = ep->o->finish(ep->o->finish_arg, &fe)) == 1) {
			ep->finish_pending = 1;	/* the other stripes */
			return;
		}
		ep->finish_pending = 0;
		if (ep->o->finish != NULL && rc != 0) {
			char told[REASON_MAX + 1];

			/* fe.msg names the output: ours alone says so. */
			snprintf(told, sizeof(told), "receiver output failed: "
			    "%s", fe.msg);
			ep_fail_told(ep, QUIC_APP_RECEIVER_OUTPUT, fe.status,
			    told, "%s", fe.msg);
			ep->data_failed = 1;
			return;
		}
		/* Output finished: the confirmation may go. */
		quic_xfer_finished(&ep->xf);
		ep->t_end = clock_now();
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

static void
write_packets(struct ep *ep)
{
	(void)ep_write_packets(ep);
}

/* One round of the protocol: what the connection can do now. */
static void
step_protocol(struct ep *ep)
{
	/* A listener's handshakes each answer, until one is promoted. */
	if (ep_listening(ep) && !ep_handshakes_each(ep, write_packets))
		return;
	if (ep->conn == NULL || ep->failed || ep->xf.done)
		return;
	if (ep->handshake_done) {
		if (ep->is_server && !ep->connected)
			ep_server_authenticated(ep);
		if (ep->t_start == 0)
			ep->t_start = clock_now();
		progress_protocol(ep);
	}
	if (!ep->failed && !ep->close.pending && !ep->xf.done)
		(void)ep_write_packets(ep);
}

/*
 * ICMP said the peer is gone: delivered (returns 1: loop again), or a
 * failure that names it (returns 0).
 */
static int
peer_gone(struct ep *ep)
{
	if (!ep->udp.peer_gone || ep->failed || ep->xf.done)
		return 0;
	(void)ep_read_packets(ep);	/* its last words first */
	if (ep->failed || ep->xf.done)
		return 0;
	if (receiver_delivered(ep, "went away"))
		return 1;
	if (ep->handshake_done)
		ep_fail(ep, EXIT_FAIL, "peer %s is gone (connection refused)",
		    ep->peer_text);
	else if (ep->udp.peer_gone == ECONNREFUSED)
		ep_fail(ep, EXIT_FAIL, "%s: connection refused (nothing "
		    "listening?)", ep->peer_text);
	else
		ep_fail(ep, EXIT_FAIL, "%s: %s", ep->peer_text,
		    strerror(ep->udp.peer_gone));
	return 0;
}

/*
 * How long poll may wait (ms, -1 forever): until ngtcp2's next timer or
 * the listener's --accept-timeout.  Returns 0, or -1 when the latter has
 * passed (the endpoint failed).
 */
static int
poll_timeout(struct ep *ep, double accept_deadline, int *timeout)
{
	ngtcp2_tstamp expiry, now = ep_now();
	double left;
	int ms;

	*timeout = -1;
	if (ep->conn != NULL || ep_listening(ep)) {
		expiry = ep_listening(ep) ? ep_handshakes_expiry(ep) :
		    ngtcp2_conn_get_expiry(ep->conn);
		if (expiry <= now)
			*timeout = 0;
		else if (expiry != UINT64_MAX)
			*timeout = (int)((expiry - now + 999999) / 1000000);
	}
	/* --limit-rate: back when the bucket holds the next packet. */
	if ((ms = ep_rate_wait_ms(ep)) >= 0 && (*timeout < 0 || ms < *timeout))
		*timeout = ms;
	if (!ep->is_server || ep->handshake_done || accept_deadline <= 0)
		return 0;
	if ((left = accept_deadline - clock_now()) <= 0) {
		if (ep->link != NULL && ep->link->listen_fd >= 0)
			ep_fail(ep, EXIT_FAIL, "the transfer's next connection "
			    "did not come within %u s (--connect-timeout)",
			    ep->o->accept_timeout);
		else
			ep_fail(ep, EXIT_FAIL, "no peer within %u s "
			    "(--accept-timeout)", ep->o->accept_timeout);
		if (ep_listening(ep)) {
			ep_handshakes_close(ep, QUIC_APP_INTERNAL);
		} else if (ep->conn != NULL) {
			ngtcp2_ccerr_set_application_error(&ep->close.ccerr,
			    QUIC_APP_INTERNAL, NULL, 0);
			ep_send_close(ep);
		}
		return -1;
	}
	ms = (int)(left * 1000) + 1;
	if (*timeout < 0 || ms < *timeout)
		*timeout = ms;
	return 0;
}

/*
 * Waits for the socket, the input (sender, with ring space), the output
 * (receiver, stalled) and the cancel fd, and serves what is ready.
 * Returns 0, or -1 when the loop must end now (poll failed, cancelled).
 */
static int
poll_once(struct ep *ep, int timeout)
{
	const struct quic_opts *o = ep->o;
	struct pollfd pfd[6];
	int nfd = 1, input_at = -1, output_at = -1, cancel_at = -1;
	int link_cancel_at = -1;

	pfd[0].fd = ep->fd;
	pfd[0].events = POLLIN | (ep->udp.txlen > 0 ? POLLOUT : 0);
	if (ep->resume.skipping && !ep->failed) {
		pfd[nfd].fd = ep_resume_input(ep);
		pfd[nfd].events = POLLIN;
		input_at = nfd++;
	} else if (ep->is_sender && ep->handshake_done && !ep->snd.in_eof &&
	    (!ep->resume.on || ep->resume.decided) &&
	    ep->snd.filled - ep->snd.acked < ep->snd.size &&
	    (ep->link == NULL || ep->link->readahead == 0 ||
	    ep->snd.filled - ep->xf.sent < ep->link->readahead)) {
		pfd[nfd].fd = ep->data_fd;
		pfd[nfd].events = POLLIN;
		input_at = nfd++;
	}
	if (ep->rcv.stalled && !ep->failed) {
		pfd[nfd].fd = ep->data_fd;
		pfd[nfd].events = POLLOUT;
		output_at = nfd++;
	}
	if (ep->finish_pending && !ep->failed) {
		pfd[nfd].fd = ep->link->finish_fd;
		pfd[nfd].events = POLLIN;
		nfd++;	/* progress_protocol asks again */
	}
	if (o->cancel_fd >= 0) {
		pfd[nfd].fd = o->cancel_fd;
		pfd[nfd].events = POLLIN;
		cancel_at = nfd++;
	}
	if (ep->link != NULL && ep->link->cancel_fd >= 0) {
		pfd[nfd].fd = ep->link->cancel_fd;
		pfd[nfd].events = POLLIN;
		link_cancel_at = nfd++;
	}
	if (poll(pfd, (nfds_t)nfd, timeout) < 0) {
		if (errno == EINTR)
			return 0;
		ep_fail(ep, EXIT_FAIL, "poll: %s", strerror(errno));
		return -1;
	}
	if (pfd[0].revents & (POLLIN | POLLERR))
		(void)ep_read_packets(ep);
	if ((cancel_at >= 0 && pfd[cancel_at].revents != 0) ||
	    (link_cancel_at >= 0 && pfd[link_cancel_at].revents != 0)) {
		ep_fail_app(ep, QUIC_APP_INTERNAL, EXIT_FAIL, "%s",
		    o->cancel_reason != NULL ? o->cancel_reason : "cancelled");
		ep->cancelled = 1;	/* now: no closing period */
		if (ep->close.pending)
			ep_send_close(ep);
		return -1;
	}
	if (input_at >= 0 && pfd[input_at].revents & (POLLIN | POLLHUP |
	    POLLERR) && !ep->failed) {
		if (ep->resume.skipping)
			ep_resume_skip(ep);
		else
			ep_input_read(ep);
	}
	if (output_at >= 0 && pfd[output_at].revents != 0)
		ep->rcv.stalled = 0;	/* flushed in the next round */
	return 0;
}

/* ngtcp2's timers: retransmissions, keep-alives, the timeouts. */
static void
handle_expiry_of(struct ep *ep)
{
	int rc;

	if (ep->conn == NULL || ep->failed ||
	    ngtcp2_conn_get_expiry(ep->conn) > ep_now())
		return;
	rc = ngtcp2_conn_handle_expiry(ep->conn, ep_now());
	if (rc == NGTCP2_ERR_IDLE_CLOSE) {
		if (!receiver_delivered(ep, "fell silent"))
			idle_timed_out(ep);
	} else if (rc == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
		ep_fail(ep, EXIT_FAIL, "handshake with %s timed out after %u s "
		    "(--connect-timeout)", ep->peer_text,
		    ep->o->connect_timeout);
	} else if (rc != 0) {
		ngtcp2_ccerr_set_liberr(&ep->close.ccerr, rc, NULL, 0);
		ep->close.pending = 1;
		ep_fail(ep, EXIT_FAIL, "QUIC: %s", ngtcp2_strerror(rc));
	}
}

static void
handle_expiry(struct ep *ep)
{
	if (ep_listening(ep))
		(void)ep_handshakes_each(ep, handle_expiry_of);
	else
		handle_expiry_of(ep);
}

/* Runs the endpoint until the transfer is delivered (0) or failed (-1). */
static int
ep_loop(struct ep *ep)
{
	double accept_deadline = 0;
	int timeout;

	if (ep->is_server && ep->o->accept_timeout > 0)
		accept_deadline = clock_now() + ep->o->accept_timeout;
	for (;;) {
		step_protocol(ep);
		if (peer_gone(ep))
			continue;
		if (ep->failed || ep->xf.done) {
			if (ep->close.pending)
				ep_send_close(ep);
			return ep->xf.done && !ep->failed ? 0 : -1;
		}
		if (poll_timeout(ep, accept_deadline, &timeout) != 0 ||
		    poll_once(ep, timeout) != 0)
			return -1;
		handle_expiry(ep);
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
	/* The WAN figures' choice (bench/README.md): with random loss,
	 * cubic falls to a few percent of the link; BBR keeps most of it. */
	o->cc = QUIC_CC_BBR;
	o->connections = 0;	/* auto: by the round trip (stripe.c) */
}

int
ep_transfer(const struct quic_opts *o, const struct ep_link *link,
    struct quic_stats *st, struct rcp_error *e)
{
	struct quic_identity *eph = NULL;
	struct addrinfo *addrs, *ai;
	struct ep ep;
	int rc = -1, c2s;

	memset(&ep, 0, sizeof(ep));
	ep.o = o;
	ep.link = link;
	ep.data_fd = o->data_fd;
	ep.window = link != NULL && link->window > 0 ? link->window :
	    STREAM_WINDOW;
	ep.snd.size = link != NULL && link->ring > 0 ? link->ring :
	    SEND_RING_SIZE;
	ep.e = e;
	ep.fd = -1;
	ep.sid = -1;
	ep.resume.sid = -1;
	ep.rcv.w.fd = -1;	/* IO_NOWAIT_INIT */
	ep.is_server = o->role == QUIC_LISTEN;
	ep.is_sender = o->dir == QUIC_SEND;
	quic_xfer_init(&ep.xf, ep.is_sender);
	/* The client's order wins: a receiver prefers striping. */
	c2s = ep.is_server != ep.is_sender;
	if (link != NULL && link->alpn_v3)
		ep.auth.alpn[ep.auth.nalpn++] = c2s ? QUIC_ALPN3_C2S :
		    QUIC_ALPN3_S2C;
	if (link != NULL && link->alpn_v2)
		ep.auth.alpn[ep.auth.nalpn++] = c2s ? QUIC_ALPN2_C2S :
		    QUIC_ALPN2_S2C;
	if (link == NULL || link->alpn_v1)
		ep.auth.alpn[ep.auth.nalpn++] = c2s ? QUIC_ALPN_C2S :
		    QUIC_ALPN_S2C;
	ep.auth.expect_pin = ep.is_server ? o->peer_pin : o->pin;
	ngtcp2_ccerr_default(&ep.close.ccerr);
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
	ep.auth.id = o->identity;
	if (ep.auth.id == NULL) {
		if (quic_identity_generate(&eph, e) != 0)
			return -1;
		ep.auth.id = eph;
	}
	ep.udp.txbuf = malloc(TX_BUF_SIZE);
	ep.udp.rxbuf = malloc(RX_BUF_SIZE);
	if (ep.is_sender)
		ep.snd.ring = malloc(ep.snd.size);
	else if ((ep.rcv.buf = mmap(NULL, OUTPUT_BUF_SIZE, PROT_READ |
	    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		ep.rcv.buf = NULL;
	if (ep.udp.txbuf == NULL || ep.udp.rxbuf == NULL ||
	    (ep.is_sender ? ep.snd.ring == NULL : ep.rcv.buf == NULL)) {
		error_set_errno(e, EXIT_FAIL, "buffers");
		goto out;
	}
	if (gnutls_certificate_allocate_credentials(&ep.auth.cred) < 0) {
		error_set(e, EXIT_FAIL, "TLS credentials: out of memory");
		ep.auth.cred = NULL;
		goto out;
	}
	if (quic_identity_set_creds(ep.auth.id, ep.auth.cred, e) != 0)
		goto out;

	if (ep.is_server) {
		if (ep_server_bind(&ep) == 0 && ep_handshakes_init(&ep) == 0)
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
	if (ep.t_end == 0)
		ep.t_end = clock_now();
	if (st != NULL) {
		/* A stripe header is not data. */
		st->bytes = ep.is_sender ? (ep.snd.acked > ep.hdr_len ?
		    ep.snd.acked - ep.hdr_len : 0) : ep.xf.written - ep.hdr_got;
		st->seconds = ep.t_start > 0 ? ep.t_end - ep.t_start : 0;
		st->pkts_sent = ep.pkts_sent;
		st->pkts_recv = ep.pkts_recv;
		st->pkts_lost = ep.lost;
		st->data_failed = ep.data_failed;
		st->cc = o->cc;
		st->connections = 1;
		st->skipped = ep.is_sender ? (ep.resume.decided ?
		    ep.resume.have : 0) : ep.resume.on && ep.hdr_got ==
		    ep.hdr_len ? o->resume_have : 0;
		snprintf(st->peer, sizeof(st->peer), "%s", ep.peer_text);
		if (ep.conn != NULL) {
			ngtcp2_conn_info ci;
			ngtcp2_conn_get_conn_info(ep.conn, &ci);
			st->srtt_ms = (double)ci.smoothed_rtt / 1e6;
			st->min_rtt_ms = ci.min_rtt == UINT64_MAX ? 0 :
			    (double)ci.min_rtt / 1e6;
		}
	}
	ep_handshakes_free(&ep);
	ep_resume_free(&ep);
	io_nowait_close(&ep.rcv.w);
	ep_conn_free(&ep);
	if (ep.auth.cred != NULL)
		gnutls_certificate_free_credentials(ep.auth.cred);
	if (ep.fd >= 0)
		close(ep.fd);
	free(ep.udp.txbuf);
	free(ep.udp.rxbuf);
	free(ep.snd.ring);
	if (ep.rcv.buf != NULL)
		munmap(ep.rcv.buf, OUTPUT_BUF_SIZE);
	wipe(ep.retry_secret, sizeof(ep.retry_secret));
	quic_identity_free(eph);
	return rc;
}

void
quic_stats_format(const struct quic_stats *st, char *buf, size_t size)
{
	static const char *cc_names[] = {
		[QUIC_CC_CUBIC] = "cubic", [QUIC_CC_BBR] = "bbr",
		[QUIC_CC_RENO] = "reno",
	};
	/* Binary units, as --progress shows them. */
	double mibps = st->seconds > 0 ? (double)st->bytes / st->seconds /
	    (1024.0 * 1024.0) : 0;
	size_t n;

	snprintf(buf, size, "stats: bytes=%" PRIu64 " seconds=%.3f "
	    "throughput=%.1fMiB/s rtt=%.3fms min_rtt=%.3fms packets_sent=%"
	    PRIu64 " packets_received=%" PRIu64 " packets_lost=%" PRIu64
	    " peer=%s cc=%s connections=%u", st->bytes, st->seconds, mibps,
	    st->srtt_ms, st->min_rtt_ms, st->pkts_sent, st->pkts_recv,
	    st->pkts_lost, st->peer[0] ? st->peer : "-", cc_names[st->cc],
	    st->connections);
	/* Only a resumed transfer has it: other lines stay as they were. */
	if (st->skipped > 0 && (n = strlen(buf)) < size)
		snprintf(buf + n, size - n, " skipped=%" PRIu64, st->skipped);
}
