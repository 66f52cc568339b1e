/*
 * stream.c: the one data stream.  The sender reads its input into a
 * ring that holds every byte until the peer acknowledges it; the
 * receiver collects stream data in a buffer and writes it out, and
 * extends the flow-control window only for bytes written.
 */
#define _GNU_SOURCE
#include "quic_ep.h"

/* Sender: bytes up to offset+len are acknowledged; ring space is free. */
int
ep_acked_cb(ngtcp2_conn *conn, int64_t sid, uint64_t off, uint64_t len,
    void *ud, void *sud)
{
	struct ep *ep = ud;

	(void)conn;
	(void)sud;
	if (ep->is_sender && sid == ep->sid && off + len > ep->snd.acked) {
		/* A stripe header is not data. */
		uint64_t from = ep->snd.acked > ep->hdr_len ? ep->snd.acked :
		    ep->hdr_len;
		if (ep->o->progress != NULL && off + len > from)
			progress_add(ep->o->progress, off + len - from);
		ep->snd.acked = off + len;
	}
	return 0;
}

/*
 * Our data_fd failed (err): the sender's input or the receiver's output.
 * Our message names it; the peer is told whose data it was, in its terms.
 */
static void
data_failed(struct ep *ep, int err)
{
	const char *op = ep->is_sender ? "read" : "write";
	const char *name = ep->o->data_name != NULL ? ep->o->data_name :
	    ep->is_sender ? "stdin" : "stdout";
	char told[128];

	snprintf(told, sizeof(told), "%s failed: %s: %s", ep->is_sender ?
	    "sender input" : "receiver output", op, strerror(err));
	ep_fail_told(ep, ep->is_sender ? QUIC_APP_SENDER_INPUT :
	    QUIC_APP_RECEIVER_OUTPUT, EXIT_FAIL, told, "%s: %s error: %s",
	    name, op, strerror(err));
	ep->data_failed = 1;
}

/* Receiver: writes what the output takes now, never waiting for it. */
void
ep_output_flush(struct ep *ep)
{
	while (ep->rcv.head < ep->rcv.len && !ep->failed && !ep->rcv.stalled) {
		ssize_t n = io_write_nowait(ep->data_fd, ep->rcv.buf +
		    ep->rcv.head, ep->rcv.len - ep->rcv.head, &ep->rcv.w);

		if (n < 0) {
			data_failed(ep, errno);
			return;
		}
		if (n == 0) {
			ep->rcv.stalled = 1;	/* the reader is slow */
			return;
		}
		ep->rcv.head += (size_t)n;
		quic_xfer_written(&ep->xf, (uint64_t)n);
		/* A stripe's pipe is not the output: stripe.c counts. */
		if (ep->o->progress != NULL && !ep->to_coordinator)
			progress_add(ep->o->progress, (uint64_t)n);
	}
	if (ep->rcv.head < ep->rcv.len)
		return;
	ep->rcv.head = ep->rcv.len = 0;
	/*
	 * A backlog is over: give its pages back, so that a burst of
	 * out-of-order data buffered later by ngtcp2 does not add up with
	 * it in the peak RSS.
	 */
	if (ep->rcv.touched > OUTPUT_KEEP) {
		(void)madvise(ep->rcv.buf + OUTPUT_KEEP, ep->rcv.touched -
		    OUTPUT_KEEP, MADV_DONTNEED);
		ep->rcv.touched = 0;
	}
}

/* Receiver: whether output waits for the reader (or for a write). */
int
ep_output_pending(const struct ep *ep)
{
	return ep->rcv.len > ep->rcv.head;
}

/*
 * Receiver, striping: the stream starts with its header, which the
 * coordinator reads (stripe.c) and which says where the rest goes.
 * Takes what of it *data holds; 0, or -1 when the transfer failed.
 */
static int
take_header(struct ep *ep, const uint8_t **data, size_t *len, uint32_t flags)
{
	size_t n = ep->hdr_len - ep->hdr_got;
	int fd;

	if (n > *len)
		n = *len;
	if (n > 0) {	/* a bare FIN comes with data NULL */
		memcpy(ep->hdr + ep->hdr_got, *data, n);
		ep->hdr_got += n;
		*data += n;
		*len -= n;
	}
	quic_xfer_received(&ep->xf, n, 0);
	quic_xfer_written(&ep->xf, n);	/* taken: the window reopens */
	if (ep->hdr_got < ep->hdr_len) {
		if (!(flags & NGTCP2_STREAM_DATA_FLAG_FIN))
			return 0;
		ep_fail_app(ep, QUIC_APP_PROTOCOL, EXIT_FAIL, "protocol error: "
		    "the stream ended inside its header");
		return -1;
	}
	/* --resume: the sender's answer comes before the stripe header. */
	if (ep->resume.on && ep_resume_answered(ep, ep->hdr) != 0)
		return -1;
	if (ep->link == NULL || ep->link->on_header == NULL ||
	    (fd = ep->link->on_header(ep->link->arg, ep->hdr + ep->hdr_len -
	    QUIC_STRIPE_HDR_LEN, ep->e)) < 0) {
		struct rcp_error he = *ep->e;
		ep_fail_app(ep, QUIC_APP_PROTOCOL, he.status, "%s", he.msg);
		return -1;
	}
	ep->to_coordinator = fd != ep->o->data_fd;
	ep->data_fd = fd;
	return 0;
}

int
ep_recv_stream_data_cb(ngtcp2_conn *conn, uint32_t flags, int64_t sid,
    uint64_t off, const uint8_t *data, size_t len, void *ud, void *sud)
{
	struct ep *ep = ud;

	(void)off;
	(void)sud;
	if (ep->failed)
		return 0;
	if (ep->is_sender) {
		/* --resume: the receiver's request, on a stream of its own. */
		if (ep->resume.on && !ngtcp2_conn_is_local_stream(conn, sid) &&
		    !ngtcp2_is_bidi_stream(sid)) {
			ep_resume_take(ep, data, len,
			    (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0);
			return 0;
		}
		/* Only the confirmation may come back, on our stream. */
		if (sid != ep->sid || quic_xfer_reply(&ep->xf, data, len,
		    (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0) != 0)
			ep_fail_app(ep, QUIC_APP_PROTOCOL, EXIT_FAIL,
			    "protocol error: unexpected data from the "
			    "receiver (is the peer also a sender?)");
		return 0;
	}
	if (ep->sid < 0 && !ngtcp2_conn_is_local_stream(conn, sid) &&
	    ngtcp2_is_bidi_stream(sid))
		ep->sid = sid;
	if (sid != ep->sid) {
		ep_fail_app(ep, QUIC_APP_PROTOCOL, EXIT_FAIL,
		    "protocol error: data on an unexpected stream");
		return 0;
	}
	/* A bare FIN before the whole header is a stream cut short too. */
	if (ep->hdr_got < ep->hdr_len && (len > 0 ||
	    (flags & NGTCP2_STREAM_DATA_FLAG_FIN)) && take_header(ep, &data,
	    &len, flags) != 0)
		return 0;
	if (len > OUTPUT_BUF_SIZE - ep->rcv.len && ep->rcv.head > 0) {
		memmove(ep->rcv.buf, ep->rcv.buf + ep->rcv.head, ep->rcv.len - ep->rcv.head);
		ep->rcv.len -= ep->rcv.head;
		ep->rcv.head = 0;
	}
	if (len > OUTPUT_BUF_SIZE - ep->rcv.len) {
		/* ngtcp2 enforces our flow control: this cannot happen. */
		ep_fail_app(ep, QUIC_APP_PROTOCOL, EXIT_FAIL,
		    "protocol error: more data than the flow-control window");
		return 0;
	}
	if (len > 0)	/* a bare FIN comes with data NULL */
		memcpy(ep->rcv.buf + ep->rcv.len, data, len);
	ep->rcv.len += len;
	quic_xfer_received(&ep->xf, len,
	    (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0);
	if (ep->rcv.len > ep->rcv.touched)
		ep->rcv.touched = ep->rcv.len;
	if (ep->rcv.len - ep->rcv.head >= OUTPUT_FLUSH_AT)
		ep_output_flush(ep);
	return 0;
}

int
ep_stream_close_cb(ngtcp2_conn *conn, uint32_t flags, int64_t sid,
    uint64_t code, void *ud, void *sud)
{
	struct ep *ep = ud;

	(void)conn;
	(void)sud;
	if (sid != ep->sid || ep->failed || ep->xf.done)
		return 0;
	if (flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET && code != 0) {
		ep_fail(ep, EXIT_FAIL, "peer aborted the stream (error %"
		    PRIu64 ")", code);
		return 0;
	}
	/* Receiver: our confirmation and FIN were acknowledged. */
	quic_xfer_acknowledged(&ep->xf);
	if (!ep->is_sender && ep->xf.done) {
		ngtcp2_ccerr_set_application_error(&ep->close.ccerr, QUIC_APP_OK,
		    NULL, 0);
		ep->close.pending = 1;
	}
	return 0;
}

int
ep_stream_reset_cb(ngtcp2_conn *conn, int64_t sid, uint64_t final_size,
    uint64_t code, void *ud, void *sud)
{
	struct ep *ep = ud;

	(void)conn;
	(void)sud;
	if (sid == ep->sid && !ep->xf.done)
		ep_fail(ep, EXIT_FAIL, "peer reset the stream after %" PRIu64
		    " bytes (error %" PRIu64 ")", final_size, code);
	return 0;
}

int
ep_stop_sending_cb(ngtcp2_conn *conn, int64_t sid, uint64_t code, void *ud,
    void *sud)
{
	struct ep *ep = ud;

	(void)conn;
	(void)sud;
	if (sid == ep->sid && !ep->xf.done)
		ep_fail(ep, EXIT_FAIL, "peer stopped reading (error %"
		    PRIu64 ")", code);
	return 0;
}


/* ---- the stream -------------------------------------------------------- */

void
ep_stream_open(struct ep *ep)
{
	int rc;

	if (!ep->is_sender || ep->sid >= 0 || !ep->handshake_done)
		return;
	rc = ngtcp2_conn_open_bidi_stream(ep->conn, &ep->sid, NULL);
	if (rc == NGTCP2_ERR_STREAM_ID_BLOCKED)
		return;		/* the peer will raise its limit */
	if (rc != 0) {
		ep_fail(ep, EXIT_FAIL, "cannot open stream: %s",
		    ngtcp2_strerror(rc));
		ep->sid = -1;
	}
}

/*
 * Fills vec with what we have for the stream and not yet given to
 * ngtcp2.  Returns the count and sets *fin when that includes the end.
 */
size_t
ep_stream_pending(struct ep *ep, ngtcp2_vec vec[2], int *fin, int64_t *sid)
{
	const uint8_t *count;
	size_t count_len;

	*fin = 0;
	if (ep->stream_blocked)
		return (size_t)-1;
	if (ep_resume_pending(ep, vec, sid) != (size_t)-1) {
		*fin = 1;
		return 1;
	}
	*sid = ep->sid;
	if (ep->sid < 0)
		return (size_t)-1;
	if (ep->is_sender) {
		uint64_t len = ep->snd.filled - ep->xf.sent, allowed;
		size_t pos = (size_t)(ep->xf.sent % ep->snd.size), first;

		if (ep->xf.fin_sent)
			return (size_t)-1;
		*fin = ep->snd.in_eof;
		if (len == 0)
			return *fin ? 0 : (size_t)-1;
		if ((allowed = ep_rate_allowance(ep, (size_t)len)) == 0)
			return (size_t)-1;	/* --limit-rate: later */
		if (allowed < len) {
			len = allowed;
			*fin = 0;
		}
		first = ep->snd.size - pos;
		if (first >= len) {
			vec[0].base = ep->snd.ring + pos;
			vec[0].len = (size_t)len;
			return 1;
		}
		vec[0].base = ep->snd.ring + pos;
		vec[0].len = first;
		vec[1].base = ep->snd.ring;
		vec[1].len = (size_t)len - first;
		return 2;
	}
	if ((count_len = quic_xfer_count_pending(&ep->xf, &count)) == 0)
		return (size_t)-1;
	vec[0].base = (uint8_t *)(uintptr_t)count;	/* ngtcp2 only reads */
	vec[0].len = count_len;
	*fin = 1;
	return 1;
}

void
ep_stream_account(struct ep *ep, int64_t sid, ngtcp2_ssize n, int fin,
    size_t total)
{
	if (n < 0)
		return;
	if (sid != ep->sid) {
		ep_resume_sent(ep, (size_t)n);
		return;
	}
	if (ep->is_sender) {
		quic_xfer_sent(&ep->xf, (uint64_t)n, fin && (size_t)n == total);
		ep_rate_spent(ep, (uint64_t)n);
	}
	else
		quic_xfer_count_sent(&ep->xf, (size_t)n);
}

/* ---- the loop ---------------------------------------------------------- */

/* Sender: reads input into free ring space.  Never blocks: poll said so. */
void
ep_input_read(struct ep *ep)
{
	uint64_t used = ep->snd.filled - ep->snd.acked;
	size_t pos = (size_t)(ep->snd.filled % ep->snd.size), room;
	ssize_t n;

	if (used >= ep->snd.size || ep->snd.in_eof)
		return;
	room = ep->snd.size - pos;
	if (room > ep->snd.size - used)
		room = (size_t)(ep->snd.size - used);
	if (room > INPUT_READ_MAX)
		room = INPUT_READ_MAX;
	/* A stripe takes only what it will send soon: the rest is for the
	 * others (stripe.c). */
	if (ep->link != NULL && ep->link->readahead > 0) {
		uint64_t unsent = ep->snd.filled - ep->xf.sent;
		if (unsent >= ep->link->readahead)
			return;
		if (room > ep->link->readahead - unsent)
			room = (size_t)(ep->link->readahead - unsent);
	}
	n = io_read_ready(ep->data_fd, ep->snd.ring + pos, room);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;	/* a non-blocking input: poll again */
	if (n < 0) {
		data_failed(ep, errno);
		return;
	}
	if (n == 0)
		ep->snd.in_eof = 1;	/* stdin EOF becomes the stream FIN */
	ep->snd.filled += (uint64_t)n;
}
