/*
 * quic_int.h: what the files of lib/quic share and nobody else needs.
 */
#ifndef RCP_QUIC_INT_H
#define RCP_QUIC_INT_H

#include <gnutls/gnutls.h>

#include "quic.h"

/* out = "sha256:<hex>" of der.  Returns 0, or -1 if hashing failed. */
int quic_pin_of_der(const void *der, size_t len, char out[QUIC_PIN_SIZE]);
/* Puts id's key and certificate into cred.  Returns 0 or -1 (e). */
int quic_identity_set_creds(const struct quic_identity *id,
    gnutls_certificate_credentials_t cred, struct rcp_error *e);

/* ---- the pure protocol parts (quic_proto.c) ----------------------- */

#define QUIC_CONFIRM_LEN 8	/* receiver -> sender: big-endian count */
#define QUIC_REASON_MAX 200	/* reason text in CONNECTION_CLOSE */

/* The receiver's confirmation as it arrives on the sender's stream. */
struct quic_confirm {
	uint8_t buf[QUIC_CONFIRM_LEN];
	size_t got;
	int fin;
};

/*
 * The end-to-end confirmation of quic.h as one state machine per
 * endpoint, fed by the events below (the callers are the stream and the
 * loop).  No sockets and no ngtcp2 state: fuzz/quic_confirm.c drives it
 * with any sequence of events.  The invariant: done implies, on the
 * receiver, that the output was finished and the count it sent is the
 * number of bytes written; on the sender, that the receiver's count is
 * the number of bytes sent, FIN included.
 */
struct quic_xfer {
	int is_sender;
	int done;		/* delivered and confirmed */
	/* Sender. */
	uint64_t sent;		/* stream bytes handed to QUIC */
	int fin_sent;		/* ... and the FIN after them */
	struct quic_confirm reply;	/* the receiver's count */
	/* Receiver. */
	uint64_t received;	/* stream bytes taken in */
	uint64_t written;	/* ... and written to the output */
	int fin_received;
	int finished;		/* the output was finished without error */
	uint8_t count[QUIC_CONFIRM_LEN];	/* our confirmation */
	size_t count_sent;	/* of count (and its FIN), handed to QUIC */
};

/* What a sender makes of the receiver's reply. */
enum quic_xfer_verdict {
	QUIC_XFER_WAIT,		/* the reply is not complete yet */
	QUIC_XFER_CONFIRMED,	/* every byte sent was written: done */
	QUIC_XFER_SHORT,	/* FIN before the whole count */
	QUIC_XFER_MISMATCH,	/* a count other than what we sent */
};

void quic_xfer_init(struct quic_xfer *x, int is_sender);
/* Sender: n more bytes (and, with fin, the FIN) were handed to QUIC. */
void quic_xfer_sent(struct quic_xfer *x, uint64_t n, int fin);
/*
 * Sender: stream data from the receiver.  Returns 0, or -1 for a
 * protocol violation (more than the count, data after its FIN).
 */
int quic_xfer_reply(struct quic_xfer *x, const uint8_t *data, size_t len,
    int fin);
/* Sender: judges the reply once its FIN is in; sets done if confirmed. */
enum quic_xfer_verdict quic_xfer_check(struct quic_xfer *x,
    uint64_t *count);
/* Receiver: len stream bytes taken in (fin: the sender's FIN with them). */
void quic_xfer_received(struct quic_xfer *x, uint64_t len, int fin);
/* Receiver: n bytes were written to the output. */
void quic_xfer_written(struct quic_xfer *x, uint64_t n);
/* Receiver: 1 when the output holds everything up to the FIN. */
int quic_xfer_may_finish(const struct quic_xfer *x);
/* Receiver: the output was finished; the count may go. */
void quic_xfer_finished(struct quic_xfer *x);
/*
 * Receiver: the part of the count not yet handed to QUIC (with the FIN),
 * or 0 bytes when there is none; *p points into x.
 */
size_t quic_xfer_count_pending(const struct quic_xfer *x,
    const uint8_t **p);
/* Receiver: n bytes of the count were handed to QUIC. */
void quic_xfer_count_sent(struct quic_xfer *x, size_t n);
/*
 * Receiver: the peer acknowledged our count and FIN (the stream closed,
 * or it closed the connection cleanly): done once all of it went.
 */
void quic_xfer_acknowledged(struct quic_xfer *x);
/*
 * Receiver: the sender vanished or went silent.  Once the count is
 * queued, everything up to its FIN is out: done, returns 1; else 0.
 */
int quic_xfer_peer_gone(struct quic_xfer *x);

void quic_confirm_encode(uint64_t count, uint8_t out[QUIC_CONFIRM_LEN]);
/*
 * Takes stream data from the receiver (fin: it ends there).  Returns 0,
 * or -1 for a protocol violation: more than QUIC_CONFIRM_LEN bytes, or
 * data after the FIN.
 */
int quic_confirm_feed(struct quic_confirm *c, const uint8_t *data,
    size_t len, int fin);
/* The count, once all QUIC_CONFIRM_LEN bytes are in: 0; else -1. */
int quic_confirm_count(const struct quic_confirm *c, uint64_t *count);
/*
 * A peer's CONNECTION_CLOSE reason made printable: at most
 * QUIC_REASON_MAX bytes, anything outside ASCII 0x20..0x7e as '?',
 * NUL-terminated.  Returns the length.
 */
size_t quic_reason_text(const uint8_t *reason, size_t len,
    char out[QUIC_REASON_MAX + 1]);
/* What the peer's TLS alert means to a user; *status: 4 or 1. */
const char *quic_alert_hint(uint8_t alert, int *status);
/* 1 when the negotiated ALPN (proto, len; may be NULL) is want. */
int quic_alpn_match(const void *proto, size_t len, const char *want);

#endif
