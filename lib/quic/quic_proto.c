/*
 * quic_proto.c: the pure parts of the transfer protocol (quic.h) that
 * handle what a peer sends: the receiver's confirmation, the reason in
 * its CONNECTION_CLOSE, its TLS alert, its ALPN choice.  No sockets, no
 * ngtcp2 state, so they can be fuzzed (fuzz/quic_recv.c).
 */
#include <string.h>

#include "quic_int.h"

void
quic_confirm_encode(uint64_t count, uint8_t out[QUIC_CONFIRM_LEN])
{
	int i;

	for (i = 0; i < QUIC_CONFIRM_LEN; i++)
		out[i] = (uint8_t)(count >> (8 * (QUIC_CONFIRM_LEN - 1 - i)));
}

int
quic_confirm_feed(struct quic_confirm *c, const uint8_t *data, size_t len,
    int fin)
{
	if (c->fin || len > QUIC_CONFIRM_LEN - c->got)
		return -1;
	memcpy(c->buf + c->got, data, len);
	c->got += len;
	if (fin)
		c->fin = 1;
	return 0;
}

int
quic_confirm_count(const struct quic_confirm *c, uint64_t *count)
{
	uint64_t n = 0;
	int i;

	if (c->got != QUIC_CONFIRM_LEN)
		return -1;
	for (i = 0; i < QUIC_CONFIRM_LEN; i++)
		n = n << 8 | c->buf[i];
	*count = n;
	return 0;
}

size_t
quic_reason_text(const uint8_t *reason, size_t len,
    char out[QUIC_REASON_MAX + 1])
{
	size_t i;

	if (len > QUIC_REASON_MAX)
		len = QUIC_REASON_MAX;
	for (i = 0; i < len; i++) {
		unsigned char ch = reason[i];
		out[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	out[len] = '\0';
	return len;
}

const char *
quic_alert_hint(uint8_t alert, int *status)
{
	switch (alert) {
	case 42: case 43: case 44: case 45: case 46: case 48: case 49:
	case 116:
		*status = EXIT_AUTH;
		return "peer refused our certificate";
	case 120:
		*status = EXIT_FAIL;
		return "peer does not speak this protocol direction "
		    "(two senders or two receivers?)";
	default:
		*status = EXIT_FAIL;
		return "TLS handshake failed";
	}
}

int
quic_alpn_match(const void *proto, size_t len, const char *want)
{
	return proto != NULL && len == strlen(want) &&
	    memcmp(proto, want, len) == 0;
}

/* ---- the confirmation's state machine ------------------------------- */

void
quic_xfer_init(struct quic_xfer *x, int is_sender)
{
	memset(x, 0, sizeof(*x));
	x->is_sender = is_sender;
}

void
quic_xfer_sent(struct quic_xfer *x, uint64_t n, int fin)
{
	if (!x->is_sender || x->fin_sent)
		return;
	x->sent += n;
	if (fin)
		x->fin_sent = 1;
}

int
quic_xfer_reply(struct quic_xfer *x, const uint8_t *data, size_t len,
    int fin)
{
	if (!x->is_sender)
		return -1;
	return quic_confirm_feed(&x->reply, data, len, fin);
}

enum quic_xfer_verdict
quic_xfer_check(struct quic_xfer *x, uint64_t *count)
{
	*count = 0;
	if (!x->is_sender || !x->reply.fin)
		return QUIC_XFER_WAIT;
	if (quic_confirm_count(&x->reply, count) != 0)
		return QUIC_XFER_SHORT;
	/* A count before our FIN went cannot confirm a whole stream. */
	if (!x->fin_sent || *count != x->sent)
		return QUIC_XFER_MISMATCH;
	x->done = 1;
	return QUIC_XFER_CONFIRMED;
}

void
quic_xfer_received(struct quic_xfer *x, uint64_t len, int fin)
{
	if (x->is_sender || x->fin_received)
		return;
	x->received += len;
	if (fin)
		x->fin_received = 1;
}

void
quic_xfer_written(struct quic_xfer *x, uint64_t n)
{
	if (x->is_sender || n > x->received - x->written)
		return;
	x->written += n;
}

int
quic_xfer_may_finish(const struct quic_xfer *x)
{
	return !x->is_sender && x->fin_received && !x->finished &&
	    x->written == x->received;
}

void
quic_xfer_finished(struct quic_xfer *x)
{
	if (!quic_xfer_may_finish(x))
		return;
	x->finished = 1;
	quic_confirm_encode(x->written, x->count);
}

size_t
quic_xfer_count_pending(const struct quic_xfer *x, const uint8_t **p)
{
	*p = x->count + x->count_sent;
	if (x->is_sender || !x->finished)
		return 0;
	return QUIC_CONFIRM_LEN - x->count_sent;
}

void
quic_xfer_count_sent(struct quic_xfer *x, size_t n)
{
	if (x->is_sender || !x->finished || n > QUIC_CONFIRM_LEN - x->count_sent)
		return;
	x->count_sent += n;
}

void
quic_xfer_acknowledged(struct quic_xfer *x)
{
	if (!x->is_sender && x->finished && x->count_sent == QUIC_CONFIRM_LEN)
		x->done = 1;
}

int
quic_xfer_peer_gone(struct quic_xfer *x)
{
	if (x->is_sender || !x->finished || x->done)
		return 0;
	x->done = 1;
	return 1;
}
