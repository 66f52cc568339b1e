/*
 * libFuzzer target: the end-to-end confirmation's state machine
 * (struct quic_xfer, lib/quic/quic_proto.c) driven by any sequence of
 * events, as the stream callbacks and the loop would feed it, a hostile
 * peer's stream data included.  The first byte picks the sender or the
 * receiver; then each event is one byte (its low 3 bits the kind) and,
 * for some, the byte after it (a length, with the FIN in its top bit).
 * The invariant after every event: done implies, on the receiver, that
 * the sender's FIN came, every byte taken in was written, the output was
 * finished and the count sent says exactly that many bytes; on the
 * sender, that the FIN went and the receiver's count is the bytes sent.
 */
#include <stdint.h>
#include <stdlib.h>

#include "quic/quic_int.h"

static uint64_t
decode(const uint8_t b[QUIC_CONFIRM_LEN])
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < QUIC_CONFIRM_LEN; i++)
		n = n << 8 | b[i];
	return n;
}

static void
check_receiver(const struct quic_xfer *x)
{
	if (x->written > x->received || x->count_sent > QUIC_CONFIRM_LEN)
		abort();
	if (x->count_sent > 0 && !x->finished)
		abort();
	if (x->finished && (!x->fin_received || decode(x->count) !=
	    x->written || x->written != x->received))
		abort();
	if (x->done && (!x->finished || decode(x->count) != x->written))
		abort();
}

static void
check_sender(const struct quic_xfer *x)
{
	uint64_t count;
	struct quic_xfer copy = *x;

	if (x->reply.got > QUIC_CONFIRM_LEN)
		abort();
	if (x->done && (!x->fin_sent || quic_confirm_count(&x->reply,
	    &count) != 0 || count != x->sent))
		abort();
	/* Judging again never changes a verdict. */
	if (x->done && quic_xfer_check(&copy, &count) != QUIC_XFER_CONFIRMED)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
	struct quic_xfer x;
	const uint8_t *count;
	uint64_t v;
	size_t len;

	if (n < 1)
		return 0;
	quic_xfer_init(&x, p[0] & 1);
	p++, n--;
	while (n > 0) {
		uint8_t ev = p[0], arg = n > 1 ? p[1] : 0;
		int fin = (arg & 0x80) != 0;

		len = arg & 0x7f;
		p++, n--;
		switch (ev & 7) {
		case 0:		/* stream bytes handed to QUIC */
			quic_xfer_sent(&x, len, fin);
			if (n > 0)
				p++, n--;
			break;
		case 1:		/* the peer's stream data */
			if (n > 0)
				p++, n--;
			if (len > n)
				len = n;
			if (x.is_sender)
				(void)quic_xfer_reply(&x, p, len, fin);
			else
				quic_xfer_received(&x, len, fin);
			p += len, n -= len;
			break;
		case 2:		/* the sender judges the reply */
			(void)quic_xfer_check(&x, &v);
			break;
		case 3:		/* output written */
			quic_xfer_written(&x, len);
			if (n > 0)
				p++, n--;
			break;
		case 4:		/* the loop finishes the output when it may */
			if (quic_xfer_may_finish(&x))
				quic_xfer_finished(&x);
			break;
		case 5:		/* part of the count handed to QUIC */
			if (len > quic_xfer_count_pending(&x, &count))
				len = quic_xfer_count_pending(&x, &count);
			quic_xfer_count_sent(&x, len);
			if (n > 0)
				p++, n--;
			break;
		case 6:
			quic_xfer_acknowledged(&x);
			break;
		case 7:
			(void)quic_xfer_peer_gone(&x);
			break;
		}
		if (x.is_sender)
			check_sender(&x);
		else
			check_receiver(&x);
	}
	return 0;
}
