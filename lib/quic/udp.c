/*
 * udp.c: the endpoint's UDP socket: buffers, packets out in GSO
 * batches, packets in as GRO trains, the closing period.
 */
#define _GNU_SOURCE
#include "quic_ep.h"

/* ---- sockets --------------------------------------------------------- */

/*
 * A buffer's size as granted: what setsockopt asked and the kernel kept,
 * in the units of net.core.[rw]mem_max, which is half of what getsockopt
 * reports (the kernel doubles the value to cover its own bookkeeping).
 * 0 when unknown.
 */
static unsigned
sockbuf_granted(int fd, int name)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, name, &v, &len) != 0 || v <= 0)
		return 0;
	return (unsigned)v / 2;
}

void
ep_socket_tune(struct ep *ep)
{
	int one = 1, sz = SOCKET_BUF_SIZE, probe = IP_PMTUDISC_PROBE;
	int probe6 = IPV6_PMTUDISC_PROBE;

	/* Root may exceed net.core.[rw]mem_max; others get what they can. */
	if (setsockopt(ep->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz,
	    sizeof(sz)) != 0)
		(void)setsockopt(ep->fd, SOL_SOCKET, SO_RCVBUF, &sz,
		    sizeof(sz));
	if (setsockopt(ep->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz,
	    sizeof(sz)) != 0)
		(void)setsockopt(ep->fd, SOL_SOCKET, SO_SNDBUF, &sz,
		    sizeof(sz));
	ep->udp.rcvbuf = sockbuf_granted(ep->fd, SO_RCVBUF);
	ep->udp.sndbuf = sockbuf_granted(ep->fd, SO_SNDBUF);
	(void)setsockopt(ep->fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
	/*
	 * Don't fragment: PMTUD probes must fail when too large, not arrive
	 * in pieces.
	 */
	(void)setsockopt(ep->fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe,
	    sizeof(probe));
	if (ep->local.sa.sa_family == AF_INET6)
		(void)setsockopt(ep->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER,
		    &probe6, sizeof(probe6));
	ep->udp.gso = !ep->o->no_gso;
}

/* "208 KiB", "4.8 MiB" */
static void
sockbuf_size_text(uint64_t n, char *buf, size_t size)
{
	if (n < (1u << 20))
		snprintf(buf, size, "%u KiB", (unsigned)(n >> 10));
	else
		snprintf(buf, size, "%.1f MiB", (double)n / (1u << 20));
}

/*
 * The policy of the warning (SOCKBUF_* in quic_ep.h), a pure function:
 * is_sender judges the send buffer against SOCKBUF_SEND_NEED, else the
 * receive buffer against SOCKBUF_RATE times min_rtt (ns, UINT64_MAX: not
 * measured), from SOCKBUF_RTT_MIN on.  granted is in setsockopt's
 * units, 0: unknown.  Returns 1 with the warning in buf (without the
 * program's name), or 0.
 */
int
ep_sockbuf_advice(int is_sender, unsigned granted, uint64_t min_rtt,
    char *buf, size_t size)
{
	const char *sysctl = is_sender ? "net.core.wmem_max" :
	    "net.core.rmem_max";
	char got[32], want[32];
	uint64_t need;

	if (granted == 0 || granted >= SOCKET_BUF_SIZE)
		return 0;
	if (is_sender) {
		need = SOCKBUF_SEND_NEED;
	} else {
		double bdp;

		if (min_rtt == UINT64_MAX || min_rtt < SOCKBUF_RTT_MIN)
			return 0;
		bdp = (double)SOCKBUF_RATE * (double)min_rtt / NGTCP2_SECONDS;
		need = bdp < SOCKET_BUF_SIZE ? (uint64_t)bdp : SOCKET_BUF_SIZE;
	}
	if (granted >= need)
		return 0;
	sockbuf_size_text(granted, got, sizeof(got));
	sockbuf_size_text(need, want, sizeof(want));
	if (is_sender)
		snprintf(buf, size, "warning: UDP send buffer capped at %s by "
		    "%s, below the %s sending needs; for full speed: "
		    "sysctl -w %s=%u", got, sysctl, want, sysctl,
		    SOCKET_BUF_SIZE);
	else
		snprintf(buf, size, "warning: UDP receive buffer capped at %s "
		    "by %s, below the %s that 1 Gbit/s needs at this path's "
		    "%.1f ms round trip; for full speed: sysctl -w %s=%u",
		    got, sysctl, want, (double)min_rtt / 1e6, sysctl,
		    SOCKET_BUF_SIZE);
	return 1;
}

/* The peer is on this host's loopback: 127/8, ::1, ::ffff:127.0.0.0/104. */
static int
peer_loopback(const sockaddr_u *a)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *b;

	if (a->sa.sa_family == AF_INET)
		return (ntohl(a->in.sin_addr.s_addr) >> 24) == 127;
	if (a->sa.sa_family != AF_INET6)
		return 0;
	b = a->in6.sin6_addr.s6_addr;
	return IN6_IS_ADDR_LOOPBACK(&a->in6.sin6_addr) ||
	    (memcmp(b, v4mapped, sizeof(v4mapped)) == 0 && b[12] == 127);
}

/*
 * Once per transfer, the buffer this end's data goes through: the
 * sender's send buffer once connected, the receiver's receive buffer
 * once SOCKBUF_JUDGE_AFTER bytes came in, unless its peer is on
 * loopback.  The other two carry only acknowledgements and flow control.
 */
static void
sockbuf_judge(struct ep *ep)
{
	ngtcp2_conn_info ci;
	char msg[320];

	if (ep->udp.buf_judged || !ep->handshake_done || ep->conn == NULL ||
	    ep_listening(ep))
		return;
	if (!ep->is_sender && ep->xf.received < SOCKBUF_JUDGE_AFTER)
		return;
	ep->udp.buf_judged = 1;
	if (!ep->is_sender && peer_loopback(&ep->remote))
		return;
	ngtcp2_conn_get_conn_info(ep->conn, &ci);
	if (ep_sockbuf_advice(ep->is_sender, ep->is_sender ? ep->udp.sndbuf :
	    ep->udp.rcvbuf, ci.min_rtt, msg, sizeof(msg)))
		ep_log(ep, "%s", msg);
}

/*
 * Sends len bytes of txbuf as datagrams of seg bytes (the last may be
 * shorter).  Returns 0 (sent, or kept for POLLOUT), or -1 on failure.
 */
static int
send_batch(struct ep *ep, const uint8_t *buf, size_t len, size_t seg)
{
	char cbuf[CMSG_SPACE(sizeof(uint16_t))];
	struct iovec iov;
	struct msghdr msg;
	ssize_t n;

	while (len > 0) {
		size_t chunk = ep->udp.gso ? len : (seg < len ? seg : len);

		memset(&msg, 0, sizeof(msg));
		iov.iov_base = (void *)(uintptr_t)buf;
		iov.iov_len = chunk;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (!ep->connected) {
			msg.msg_name = &ep->remote;
			msg.msg_namelen = ep->remotelen;
		}
		if (ep->udp.gso && chunk > seg) {
			struct cmsghdr *cm;
			memset(cbuf, 0, sizeof(cbuf));
			msg.msg_control = cbuf;
			msg.msg_controllen = sizeof(cbuf);
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			*(uint16_t *)(void *)CMSG_DATA(cm) = (uint16_t)seg;
		}
		n = sendmsg(ep->fd, &msg, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (buf != ep->udp.txbuf)
					memmove(ep->udp.txbuf, buf, len);
				ep->udp.txlen = len;
				ep->udp.txseg = seg;
				return 0;
			}
			if (ep->udp.gso && chunk > seg && (errno == EIO ||
			    errno == EINVAL || errno == ENOPROTOOPT ||
			    errno == EOPNOTSUPP)) {
				ep->udp.gso = 0;	/* quietly, as SPEC style asks */
				continue;
			}
			if (errno == ECONNREFUSED || (!ep->handshake_done &&
			    (errno == EHOSTUNREACH || errno == ENETUNREACH))) {
				ep->udp.peer_gone = errno;
				return 0;
			}
			if (errno == EMSGSIZE || errno == EPERM ||
			    errno == ENOBUFS) {
				/*
				 * A probe over the path MTU, a firewall drop
				 * (EPERM from netfilter), a full queue: the
				 * datagram is lost, and QUIC recovers from
				 * loss.  A lasting block ends in the idle
				 * timeout.
				 */
				buf += chunk;
				len -= chunk;
				continue;
			}
			ep_fail(ep, EXIT_FAIL, "send: %s", strerror(errno));
			return -1;
		}
		ep->pkts_sent += (chunk + seg - 1) / seg;
		buf += chunk;
		len -= chunk;
	}
	ep->udp.txlen = 0;
	return 0;
}

/*
 * The closing period (RFC 9000 §10.2.1): for three PTOs after our
 * CONNECTION_CLOSE, every datagram from the peer is answered with the
 * same packet again, so that one lost close does not leave the peer
 * waiting for an acknowledgement it will never get (a receiver whose
 * confirmation we took, retransmitting it).  Ends early when the peer
 * closes its side (ICMP unreachable).  Bounded by CLOSE_LINGER_MAX.
 */
static void
close_linger(struct ep *ep, const uint8_t *pkt, size_t len)
{
	ngtcp2_duration pto = ngtcp2_conn_get_pto(ep->conn);
	double end = clock_now() + (double)(3 * pto) / NGTCP2_SECONDS;
	double max = clock_now() + CLOSE_LINGER_MAX;

	if (end > max)
		end = max;
	for (;;) {
		struct pollfd pfd = { .fd = ep->fd, .events = POLLIN };
		double left = end - clock_now();
		int got = 0, gone = 0;
		ssize_t n;

		if (left <= 0)
			return;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (pfd.revents == 0)
			continue;
		/* Drain: one answer per burst, not one per datagram. */
		for (;;) {
			sockaddr_u from;
			socklen_t fl = sizeof(from);
			n = recvfrom(ep->fd, ep->udp.rxbuf, RX_BUF_SIZE, 0,
			    &from.sa, &fl);
			if (n >= 0) {
				if (ep->connected || ep_addr_eq(&from,
				    &ep->remote))
					got = 1;
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno == ECONNREFUSED)
				gone = 1;
			break;
		}
		if (gone)
			return;
		if (got) {
			ep->udp.txlen = 0;
			(void)send_batch(ep, pkt, len, len);
		}
	}
}

/* Writes our CONNECTION_CLOSE once and sends it, best effort. */
void
ep_send_close(struct ep *ep)
{
	ngtcp2_path_storage ps;
	ngtcp2_pkt_info pi;
	uint8_t buf[NGTCP2_MAX_UDP_PAYLOAD_SIZE];
	ngtcp2_ssize n;

	ep->close.pending = 0;
	if (ep->conn == NULL || ngtcp2_conn_in_closing_period(ep->conn) ||
	    ngtcp2_conn_in_draining_period(ep->conn))
		return;
	ngtcp2_path_storage_zero(&ps);
	n = ngtcp2_conn_write_connection_close(ep->conn, &ps.path, &pi, buf,
	    sizeof(buf), &ep->close.ccerr, ep_now());
	if (n > 0) {
		ep->udp.txlen = 0;
		(void)send_batch(ep, buf, (size_t)n, (size_t)n);
		/*
		 * A receiver's clean close follows the sender's acknowledgement
		 * of the confirmation: nothing is left for the sender to need.
		 */
		if (ep->handshake_done && !ep->udp.peer_gone && !ep->cancelled &&
		    !(ep->xf.done && !ep->is_sender))
			close_linger(ep, buf, (size_t)n);
	}
}



/*
 * Writes every packet ngtcp2 is willing to send now (congestion and
 * pacing permitting), in GSO batches.  Returns 0 or -1 (fatal).
 */
int
ep_write_packets(struct ep *ep)
{
	ngtcp2_path_storage ps;
	ngtcp2_pkt_info pi;
	ngtcp2_tstamp ts = ep_now();
	size_t maxpl, destlen, quantum, off = 0, seg = 0, nseg = 0, total = 0;

	if (ep->udp.txlen > 0) {
		if (send_batch(ep, ep->udp.txbuf, ep->udp.txlen, ep->udp.txseg) != 0)
			return -1;
		if (ep->udp.txlen > 0)
			return 0;	/* still EAGAIN: wait for POLLOUT */
	}
	ngtcp2_path_storage_zero(&ps);
	/*
	 * Packets are the path's size, but ngtcp2 needs room for its largest
	 * PMTUD probe or it never probes.
	 */
	maxpl = ngtcp2_conn_get_path_max_tx_udp_payload_size(ep->conn);
	destlen = ngtcp2_conn_get_max_tx_udp_payload_size(ep->conn);
	quantum = ngtcp2_conn_get_send_quantum(ep->conn);
	if (quantum < maxpl)
		quantum = maxpl;
	ep->stream_blocked = 0;
	for (;;) {
		ngtcp2_vec vec[2];
		ngtcp2_ssize n, datalen = -1;
		size_t nvec, vtotal = 0, i;
		int fin;
		int64_t sid;
		uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;

		nvec = ep_stream_pending(ep, vec, &fin, &sid);
		if (nvec == (size_t)-1) {
			sid = -1;
			nvec = 0;
			fin = 0;
		} else if (fin)
			flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
		for (i = 0; i < nvec; i++)
			vtotal += vec[i].len;
		n = ngtcp2_conn_writev_stream(ep->conn, &ps.path, &pi,
		    ep->udp.txbuf + off, destlen, &datalen, flags, sid,
		    nvec ? vec : NULL, nvec, ts);
		if (n < 0) {
			switch (n) {
			case NGTCP2_ERR_WRITE_MORE:
				ep_stream_account(ep, sid, datalen, fin, vtotal);
				continue;
			case NGTCP2_ERR_STREAM_DATA_BLOCKED:
			case NGTCP2_ERR_STREAM_SHUT_WR:
			case NGTCP2_ERR_STREAM_NOT_FOUND:
				ep->stream_blocked = 1;
				continue;
			case NGTCP2_ERR_DRAINING:
			case NGTCP2_ERR_CLOSING:
				if (!ep->failed && !ep->xf.done)
					ep_fail(ep, EXIT_FAIL, "connection "
					    "closed");
				return -1;
			default:
				ngtcp2_ccerr_set_liberr(&ep->close.ccerr, (int)n,
				    NULL, 0);
				ep->close.pending = 1;
				ep_fail(ep, EXIT_FAIL, "QUIC: %s",
				    ngtcp2_strerror((int)n));
				return -1;
			}
		}
		ep_stream_account(ep, sid, datalen, fin, vtotal);
		if (n == 0)
			break;
		if ((size_t)n > maxpl) {
			/*
			 * A path-MTU probe, larger than the path is known to
			 * carry, goes alone: in a GSO batch, its EMSGSIZE
			 * would lose the data packets sent with it.
			 */
			if (nseg > 0) {
				if (send_batch(ep, ep->udp.txbuf, off, seg) != 0)
					return -1;
				if (ep->udp.txlen > 0)
					break;	/* EAGAIN: the probe is lost */
				memmove(ep->udp.txbuf, ep->udp.txbuf + off,
				    (size_t)n);
			}
			if (send_batch(ep, ep->udp.txbuf, (size_t)n,
			    (size_t)n) != 0)
				return -1;
			off = nseg = seg = 0;
			total += (size_t)n;
			if (ep->udp.txlen > 0)
				break;
			continue;
		}
		if (nseg == 0 || (size_t)n == seg) {
			if (nseg == 0)
				seg = (size_t)n;
			off += (size_t)n;
			nseg++;
		} else if ((size_t)n < seg) {
			off += (size_t)n;
			nseg++;
			/* A short datagram ends a GSO batch. */
			if (send_batch(ep, ep->udp.txbuf, off, seg) != 0)
				return -1;
			off = nseg = 0;
		} else {
			if (send_batch(ep, ep->udp.txbuf, off, seg) != 0)
				return -1;
			if (ep->udp.txlen > 0) {
				/*
				 * EAGAIN: the unsent rest of the batch now sits
				 * at the front of txbuf, where this datagram
				 * would go.  Let it count as lost; QUIC's loss
				 * recovery sends its frames again.
				 */
				break;
			}
			memmove(ep->udp.txbuf, ep->udp.txbuf + off, (size_t)n);
			off = seg = (size_t)n;
			nseg = 1;
		}
		total += (size_t)n;
		if (ep->udp.txlen > 0)
			break;
		if (nseg > 0 && (nseg == TX_BATCH_SEGS ||
		    off + maxpl > TX_BATCH_BYTES)) {
			if (send_batch(ep, ep->udp.txbuf, off, seg) != 0)
				return -1;
			off = nseg = 0;
			if (ep->udp.txlen > 0)
				break;
		}
		if (total >= quantum)
			break;
	}
	if (off > 0 && ep->udp.txlen == 0 &&
	    send_batch(ep, ep->udp.txbuf, off, seg) != 0)
		return -1;
	ngtcp2_conn_update_pkt_tx_time(ep->conn, ts);
	return 0;
}



/* Reads what the socket has, up to a batch.  Returns 0 or -1. */
int
ep_read_packets(struct ep *ep)
{
	char cbuf[CMSG_SPACE(sizeof(int)) * 2];
	int i;

	sockbuf_judge(ep);
	for (i = 0; i < RX_BATCH && !ep->failed && !ep->xf.done; i++) {
		sockaddr_u from;
		struct iovec iov = { ep->udp.rxbuf, RX_BUF_SIZE };
		struct msghdr msg;
		struct cmsghdr *cm;
		ssize_t n;
		size_t seg, off;

		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		n = recvmsg(ep->fd, &msg, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == ECONNREFUSED || (!ep->handshake_done &&
			    (errno == EHOSTUNREACH || errno == ENETUNREACH))) {
				/*
				 * The kernel reports the ICMP error before
				 * the datagrams still queued, such as the
				 * peer's CONNECTION_CLOSE: read on.  Before
				 * the handshake, the next address may do.
				 */
				ep->udp.peer_gone = errno;
				continue;
			}
			ep_fail(ep, EXIT_FAIL, "receive: %s", strerror(errno));
			return -1;
		}
		seg = (size_t)n;
		for (cm = CMSG_FIRSTHDR(&msg); cm != NULL;
		    cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_UDP &&
			    cm->cmsg_type == UDP_GRO) {
				int g;
				memcpy(&g, CMSG_DATA(cm), sizeof(g));
				if (g > 0)
					seg = (size_t)g;
			}
		/* Once a listener chose its peer, the others are strangers. */
		if (!ep_listening(ep) && !ep->connected &&
		    !ep_addr_eq(&from, &ep->remote))
			continue;
		for (off = 0; off < (size_t)n && !ep->failed && !ep->xf.done;
		    off += seg) {
			size_t len = (size_t)n - off < seg ?
			    (size_t)n - off : seg;
			if (ep_listening(ep))
				ep_handshakes_feed(ep, &from, msg.msg_namelen,
				    ep->udp.rxbuf + off, len);
			else
				ep_feed(ep, ep->udp.rxbuf + off, len);
		}
	}
	return 0;
}
