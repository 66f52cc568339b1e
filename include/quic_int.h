/*
 * quic_int.h: what the lib/quic*.c files share and nobody else needs.
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

#endif
