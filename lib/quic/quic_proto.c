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
