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
