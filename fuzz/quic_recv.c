/*
 * libFuzzer target: what a QUIC peer sends that lib/quic/quic_proto.c parses
 * (the ngtcp2 state machine and the sockets around it are not driven
 * here).  The input is split by its first byte:
 *   - the rest, cut into stream-data pieces (each piece's length is one
 *     byte, its top bit the FIN flag), fed to the sender's confirmation
 *     parser, as recv_stream_data would;
 *   - the rest as a CONNECTION_CLOSE reason;
 *   - its second byte as a TLS alert, the rest as a negotiated ALPN.
 * Invariants: never more than 8 bytes or anything after FIN taken; a
 * complete confirmation decodes to what encodes back to the same bytes;
 * a reason comes out printable, bounded and NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quic/quic_int.h"

static void
confirm(const uint8_t *p, size_t n)
{
	struct quic_confirm c;
	uint8_t again[QUIC_CONFIRM_LEN];
	uint64_t count;
	size_t taken = 0;
	int refused = 0;

	memset(&c, 0, sizeof(c));
	while (n > 0 && !refused) {
		size_t len = p[0] & 0x7f;
		int fin = (p[0] & 0x80) != 0;

		p++, n--;
		if (len > n)
			len = n;
		if (quic_confirm_feed(&c, p, len, fin) != 0) {
			refused = 1;
			break;
		}
		taken += len;
		p += len;
		n -= len;
	}
	if (c.got != taken || c.got > QUIC_CONFIRM_LEN)
		abort();
	if (quic_confirm_count(&c, &count) == 0) {
		if (c.got != QUIC_CONFIRM_LEN)
			abort();
		quic_confirm_encode(count, again);
		if (memcmp(again, c.buf, QUIC_CONFIRM_LEN) != 0)
			abort();
	} else if (c.got == QUIC_CONFIRM_LEN) {
		abort();
	}
}

static void
reason(const uint8_t *p, size_t n)
{
	char out[QUIC_REASON_MAX + 1];
	size_t len = quic_reason_text(p, n, out), i;

	if (len > QUIC_REASON_MAX || len != (n < QUIC_REASON_MAX ? n :
	    QUIC_REASON_MAX) || strlen(out) != len)
		abort();
	for (i = 0; i < len; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			abort();
}

static void
alert_alpn(const uint8_t *p, size_t n)
{
	int status = -1;
	const char *hint;

	if (n == 0)
		return;
	hint = quic_alert_hint(p[0], &status);
	if (hint == NULL || (status != EXIT_AUTH && status != EXIT_FAIL))
		abort();
	p++, n--;
	if (quic_alpn_match(p, n, QUIC_ALPN_C2S) !=
	    (n == strlen(QUIC_ALPN_C2S) && memcmp(p, QUIC_ALPN_C2S, n) == 0))
		abort();
	if (quic_alpn_match(p, n, QUIC_ALPN_S2C) &&
	    quic_alpn_match(p, n, QUIC_ALPN_C2S))
		abort();
	if (quic_alpn_match(NULL, 0, QUIC_ALPN_C2S))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		confirm(data + 1, size - 1);
		break;
	case 1:
		reason(data + 1, size - 1);
		break;
	default:
		alert_alpn(data + 1, size - 1);
	}
	return 0;
}
