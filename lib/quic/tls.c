/*
 * tls.c: the TLS 1.3 session of an endpoint, and the pin check that
 * replaces certificate chains.
 */
#define _GNU_SOURCE
#include "quic_ep.h"

/* ---- TLS ------------------------------------------------------------- */

static ngtcp2_conn *
get_conn(ngtcp2_crypto_conn_ref *ref)
{
	return ((struct ep *)ref->user_data)->conn;
}

/*
 * Certificate verification is by pin only: the peer's leaf certificate
 * must hash to the expected fingerprint.  TLS itself has already checked
 * that the peer holds the key (CertificateVerify).
 */
static int
verify_peer(gnutls_session_t s)
{
	ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(s);
	struct ep *ep = ref->user_data;
	const gnutls_datum_t *certs;
	unsigned n = 0;

	certs = gnutls_certificate_get_peers(s, &n);
	if (certs == NULL || n == 0)
		return -1;
	if (quic_pin_of_der(certs[0].data, certs[0].size, ep->auth.got_pin) != 0)
		return -1;
	if (ep->auth.expect_pin != NULL && strcmp(ep->auth.expect_pin, ep->auth.got_pin)) {
		ep->auth.pin_mismatch = 1;
		return -1;
	}
	return 0;
}

int
ep_tls_new(struct ep *ep)
{
	gnutls_datum_t alpn[sizeof(ep->auth.alpn) / sizeof(ep->auth.alpn[0])];
	size_t i;
	int rc;

	rc = gnutls_init(&ep->auth.session, (ep->is_server ? GNUTLS_SERVER :
	    GNUTLS_CLIENT) | GNUTLS_NO_END_OF_EARLY_DATA | GNUTLS_NO_TICKETS);
	if (rc < 0)
		goto fail;
	if ((rc = gnutls_priority_set_direct(ep->auth.session, TLS_PRIORITY,
	    NULL)) < 0)
		goto fail;
	if ((ep->is_server ?
	    ngtcp2_crypto_gnutls_configure_server_session(ep->auth.session) :
	    ngtcp2_crypto_gnutls_configure_client_session(ep->auth.session)) != 0) {
		ep_fail(ep, EXIT_FAIL, "cannot set up QUIC TLS session");
		return -1;
	}
	ep->auth.ref.get_conn = get_conn;
	ep->auth.ref.user_data = ep;
	gnutls_session_set_ptr(ep->auth.session, &ep->auth.ref);
	if ((rc = gnutls_credentials_set(ep->auth.session, GNUTLS_CRD_CERTIFICATE,
	    ep->auth.cred)) < 0)
		goto fail;
	for (i = 0; i < ep->auth.nalpn; i++) {
		alpn[i].data = (unsigned char *)(uintptr_t)ep->auth.alpn[i];
		alpn[i].size = (unsigned)strlen(ep->auth.alpn[i]);
	}
	if ((rc = gnutls_alpn_set_protocols(ep->auth.session, alpn,
	    (unsigned)ep->auth.nalpn, GNUTLS_ALPN_MANDATORY)) < 0)
		goto fail;
	if (ep->is_server)
		gnutls_certificate_server_set_request(ep->auth.session,
		    GNUTLS_CERT_REQUIRE);
	gnutls_session_set_verify_function(ep->auth.session, verify_peer);
	return 0;
fail:
	ep_fail(ep, EXIT_FAIL, "TLS: %s", gnutls_strerror(rc));
	return -1;
}
