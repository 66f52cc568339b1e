/*
 * conn.c: the ngtcp2 connection: its callbacks, settings and
 * keep-alives, and what each incoming packet means.
 */
#define _GNU_SOURCE
#include "quic_ep.h"

/* ---- ngtcp2 callbacks ------------------------------------------------ */

static void
rand_cb(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	(void)gnutls_rnd(GNUTLS_RND_RANDOM, dest, len);
}

static int
new_cid_cb(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t len,
    void *ud)
{
	uint8_t buf[NGTCP2_MAX_CIDLEN];

	(void)conn;
	(void)ud;
	if (len > sizeof(buf) ||
	    gnutls_rnd(GNUTLS_RND_RANDOM, buf, len) < 0 ||
	    gnutls_rnd(GNUTLS_RND_RANDOM, token,
	    NGTCP2_STATELESS_RESET_TOKENLEN) < 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	ngtcp2_cid_init(cid, buf, len);
	return 0;
}

static int
handshake_completed_cb(ngtcp2_conn *conn, void *ud)
{
	struct ep *ep = ud;
	gnutls_datum_t proto;
	size_t i;

	(void)conn;
	for (i = 0; i < ep->auth.nalpn; i++)
		if (gnutls_alpn_get_selected_protocol(ep->auth.session,
		    &proto) == 0 && quic_alpn_match(proto.data, proto.size,
		    ep->auth.alpn[i]))
			break;
	if (i == ep->auth.nalpn) {
		ep_fail(ep, EXIT_FAIL, "peer did not agree on %s",
		    ep->auth.alpn[0]);
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	ep->resume.on = strstr(ep->auth.alpn[i], "/3/") != NULL;
	/* Never append a whole stream to a partial file: a receiver asked
	 * to resume goes on only with the request said (TLS ensures it). */
	if (!ep->is_sender && ep->link != NULL && ep->link->alpn_v3 &&
	    !ep->resume.on) {
		ep_fail(ep, EXIT_FAIL, "protocol error: %s agreed without "
		    "--resume", ep->auth.alpn[i]);
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	ep->striped = ep->resume.on || strstr(ep->auth.alpn[i], "/2/") != NULL;
	if (ep->striped)
		ep->hdr_len = QUIC_STRIPE_HDR_LEN +
		    (ep->resume.on ? RESUME_OK_LEN : 0);
	/* With --resume, the sender decides once it skipped (resume.c). */
	if (ep->is_sender && !ep->resume.on)
		ep_sender_decide(ep);
	ep->handshake_done = 1;
	return 0;
}

/*
 * A striping sender learns how many connections to use; with one, it
 * sends the input itself after the header, which goes first in the
 * ring (after the answer to --resume, there already).
 */
void
ep_sender_decide(struct ep *ep)
{
	size_t at = ep->resume.on ? RESUME_OK_LEN : 0;

	ep->resume.decided = 1;
	if (ep->link == NULL || ep->link->on_decide == NULL ||
	    ep->link->on_decide(ep->link->arg, ep, ep->striped ? ep->hdr + at :
	    NULL) != 1)
		return;
	if (ep->striped) {
		memcpy(ep->snd.ring + at, ep->hdr + at, QUIC_STRIPE_HDR_LEN);
		ep->snd.filled = at + QUIC_STRIPE_HDR_LEN;
	}
	ep->data_fd = ep->link->input_fd;
}

static int
handshake_confirmed_cb(ngtcp2_conn *conn, void *ud)
{
	struct ep *ep = ud;

	(void)conn;
	if (ep->link != NULL && ep->link->on_confirmed != NULL)
		ep->link->on_confirmed(ep->link->arg, ep);
	return 0;
}

const ngtcp2_callbacks ep_callbacks_client = {
	.client_initial = ngtcp2_crypto_client_initial_cb,
	.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
	.handshake_completed = handshake_completed_cb,
	.handshake_confirmed = handshake_confirmed_cb,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = ngtcp2_crypto_decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.recv_stream_data = ep_recv_stream_data_cb,
	.acked_stream_data_offset = ep_acked_cb,
	.stream_close = ep_stream_close_cb,
	.recv_retry = ngtcp2_crypto_recv_retry_cb,
	.rand = rand_cb,
	.get_new_connection_id = new_cid_cb,
	.update_key = ngtcp2_crypto_update_key_cb,
	.stream_reset = ep_stream_reset_cb,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.stream_stop_sending = ep_stop_sending_cb,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
};

/*
 * Server: new handshake bytes from the peer are the only sign of a live
 * handshake.  ngtcp2 hands each crypto byte over once, so a replayed or
 * duplicated packet is not progress (handshakes.c).
 */
static int
server_recv_crypto_data_cb(ngtcp2_conn *conn,
    ngtcp2_encryption_level level, uint64_t offset, const uint8_t *data,
    size_t datalen, void *ud)
{
	struct ep *ep = ud;

	ep->t_hs_progress = clock_now();
	return ngtcp2_crypto_recv_crypto_data_cb(conn, level, offset, data,
	    datalen, ud);
}

const ngtcp2_callbacks ep_callbacks_server = {
	.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb,
	.recv_crypto_data = server_recv_crypto_data_cb,
	.handshake_completed = handshake_completed_cb,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = ngtcp2_crypto_decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.recv_stream_data = ep_recv_stream_data_cb,
	.acked_stream_data_offset = ep_acked_cb,
	.stream_close = ep_stream_close_cb,
	.rand = rand_cb,
	.get_new_connection_id = new_cid_cb,
	.update_key = ngtcp2_crypto_update_key_cb,
	.stream_reset = ep_stream_reset_cb,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.stream_stop_sending = ep_stop_sending_cb,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
};

static void
debug_printf(void *ud, const char *fmt, ...)
{
	va_list ap;

	(void)ud;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
ep_conn_settings(struct ep *ep, ngtcp2_settings *s, ngtcp2_transport_params *p)
{
	static const ngtcp2_cc_algo cc[] = {
		[QUIC_CC_CUBIC] = NGTCP2_CC_ALGO_CUBIC,
		[QUIC_CC_BBR] = NGTCP2_CC_ALGO_BBR,
		[QUIC_CC_RENO] = NGTCP2_CC_ALGO_RENO,
	};

	static const uint16_t pmtud_probes[] = {
		1452, 4096, 8192, 16384, 32768, 65000
	};

	ngtcp2_settings_default(s);
	s->initial_ts = ep_now();
	s->cc_algo = cc[ep->o->cc];
	s->max_window = ep->window;
	s->max_stream_window = ep->window;
	s->handshake_timeout = (ngtcp2_duration)(ep->o->connect_timeout ?
	    ep->o->connect_timeout : QUIC_DEFAULT_CONNECT_TIMEOUT) *
	    NGTCP2_SECONDS;
	/*
	 * Start at 1200 bytes and let PMTUD climb: a 1500-byte Ethernet path
	 * stops at 1452, jumbo frames at 8192, loopback goes to 65000, where
	 * per-packet costs (crypto setup, ACKs, syscalls) almost vanish.
	 */
	s->max_tx_udp_payload_size = pmtud_probes[
	    sizeof(pmtud_probes) / sizeof(pmtud_probes[0]) - 1];
	s->pmtud_probes = pmtud_probes;
	s->pmtud_probeslen = sizeof(pmtud_probes) / sizeof(pmtud_probes[0]);
	if (ep->o->debug)
		s->log_printf = debug_printf;

	ngtcp2_transport_params_default(p);
	p->initial_max_stream_data_bidi_local = ep->window;
	p->initial_max_stream_data_bidi_remote = ep->window;
	p->initial_max_data = ep->window;
	p->initial_max_streams_bidi = 1;
	/* A sender takes the receiver's --resume request (resume.c). */
	p->initial_max_streams_uni = ep->is_sender ? 1 : 0;
	p->initial_max_stream_data_uni = ep->is_sender ? RESUME_REQ_LEN : 0;
	p->max_idle_timeout = (ngtcp2_duration)ep->o->idle_timeout *
	    NGTCP2_SECONDS;
	p->active_connection_id_limit = 2;
}

/* Keep-alives well inside the idle timeout, so silence is not death. */
void
ep_conn_keepalive(struct ep *ep)
{
	ngtcp2_duration ka = (ngtcp2_duration)ep->o->idle_timeout *
	    NGTCP2_SECONDS / 3;

	if (ka < NGTCP2_SECONDS / 2)
		ka = NGTCP2_SECONDS / 2;
	ngtcp2_conn_set_keep_alive_timeout(ep->conn, ka);
}

void
ep_conn_free(struct ep *ep)
{
	if (ep->conn != NULL) {
		ngtcp2_conn_del(ep->conn);
		ep->conn = NULL;
	}
	if (ep->auth.session != NULL) {
		gnutls_deinit(ep->auth.session);
		ep->auth.session = NULL;
	}
}

/*
 * Forgets a handshake that failed: its connection and its error, so that
 * the next one (another peer, another address) starts clean.
 */
void
ep_attempt_forget(struct ep *ep)
{
	ep_conn_free(ep);
	ep->failed = 0;
	ep->close.pending = 0;
	ep->udp.peer_gone = 0;
	ep->udp.txlen = 0;
	ngtcp2_ccerr_default(&ep->close.ccerr);
	if (ep->e != NULL) {
		ep->e->status = 0;
		ep->e->msg[0] = '\0';
	}
}


/* ---- incoming ---------------------------------------------------------- */

/*
 * A --resume receiver offers version 3 alone on its first connection,
 * so a peer without it fails the handshake (no_application_protocol):
 * an older sender, most likely.  Sets the failure and returns 1 then.
 */
static int
resume_unspoken(struct ep *ep, uint8_t alert)
{
	if (alert != 120 || ep->is_sender || ep->auth.nalpn != 1 ||
	    strstr(ep->auth.alpn[0], "/3/") == NULL)
		return 0;
	ep_fail(ep, EXIT_FAIL, "the peer does not speak %s: a sender too "
	    "old to resume (upgrade it, or run without --resume), or not a "
	    "sender", ep->auth.alpn[0]);
	return 1;
}

/*
 * The peer closed the connection (we are draining): decide what that
 * means for us.
 */
static void
peer_closed(struct ep *ep)
{
	const ngtcp2_ccerr *cc = ngtcp2_conn_get_ccerr(ep->conn);
	char reason[REASON_MAX + 1];
	size_t rl = quic_reason_text(cc->reason, cc->reasonlen, reason);
	if (cc->type == NGTCP2_CCERR_TYPE_APPLICATION) {
		if (cc->error_code == QUIC_APP_OK) {
			if (ep->is_sender && !ep->xf.done &&
			    ep_sender_confirmed(ep) == 0)
				return;
			quic_xfer_acknowledged(&ep->xf);
			if (ep->xf.done || ep->failed)
				return;
			ep_fail(ep, EXIT_FAIL, "peer closed the connection "
			    "before the transfer was complete");
			return;
		}
		if (cc->error_code == QUIC_APP_RESUME && !ep->is_sender) {
			ep_fail(ep, EXIT_DATA, "sender cannot resume: %s",
			    rl ? reason : "no reason given");
			return;
		}
		ep_fail(ep, EXIT_FAIL, PEER_FAILED "%s", rl ? reason :
		    "no reason given");
		return;
	}
	if (cc->type == NGTCP2_CCERR_TYPE_TRANSPORT &&
	    cc->error_code >= NGTCP2_CRYPTO_ERROR &&
	    cc->error_code <= NGTCP2_CRYPTO_ERROR + 0xff) {
		uint8_t alert = (uint8_t)(cc->error_code - NGTCP2_CRYPTO_ERROR);
		int status;
		const char *hint = quic_alert_hint(alert, &status);
		if (!resume_unspoken(ep, alert))
			ep_fail(ep, status, "%s (TLS alert %u)", hint, alert);
		return;
	}
	ep_fail(ep, EXIT_FAIL, "peer closed the connection: transport error "
	    "0x%" PRIx64 "%s%s", cc->error_code, rl ? ": " : "", reason);
}

/* Our side of the TLS handshake failed: tell why, and tell the peer. */
static void
local_crypto_error(struct ep *ep)
{
	uint8_t alert = ngtcp2_conn_get_tls_alert(ep->conn);

	ngtcp2_ccerr_set_tls_alert(&ep->close.ccerr, alert, NULL, 0);
	ep->close.pending = 1;
	if (ep->auth.pin_mismatch) {
		if (ep->is_server)
			ep_fail(ep, EXIT_AUTH, "client certificate "
			    "fingerprint mismatch: expected %s, got %s",
			    ep->auth.expect_pin, ep->auth.got_pin);
		else
			ep_fail(ep, EXIT_AUTH, "server certificate "
			    "fingerprint mismatch: expected %s, got %s",
			    ep->auth.expect_pin, ep->auth.got_pin);
		return;
	}
	if (resume_unspoken(ep, alert))
		return;
	ep_fail(ep, EXIT_FAIL, "TLS handshake failed (alert %u)%s", alert,
	    alert == 120 ? ": peer does not speak this protocol direction "
	    "(two senders or two receivers?)" : "");
}


void
ep_feed(struct ep *ep, const uint8_t *pkt, size_t len)
{
	ngtcp2_path path;
	ngtcp2_pkt_info pi = { 0 };
	int rc;

	if (ep->conn == NULL)
		return;
	path.local.addr = &ep->local.sa;
	path.local.addrlen = ep->locallen;
	path.remote.addr = &ep->remote.sa;
	path.remote.addrlen = ep->remotelen;
	path.user_data = NULL;
	ep->pkts_recv++;
	rc = ngtcp2_conn_read_pkt(ep->conn, &path, &pi, pkt, len, ep_now());
	if (rc == 0) {
		ep->t_last_rx = clock_now();
		return;
	}
	switch (rc) {
	case NGTCP2_ERR_DRAINING:
		peer_closed(ep);
		break;
	case NGTCP2_ERR_CRYPTO:
		local_crypto_error(ep);
		break;
	case NGTCP2_ERR_DROP_CONN:
		ep_fail(ep, EXIT_FAIL, "connection dropped");
		break;
	case NGTCP2_ERR_DISCARD_PKT:
		break;
	case NGTCP2_ERR_CALLBACK_FAILURE:
		if (!ep->failed)
			ep_fail(ep, EXIT_FAIL, "QUIC: callback failed");
		ngtcp2_ccerr_set_liberr(&ep->close.ccerr, rc, NULL, 0);
		ep->close.pending = 1;
		break;
	default:
		ngtcp2_ccerr_set_liberr(&ep->close.ccerr, rc, NULL, 0);
		ep->close.pending = 1;
		ep_fail(ep, EXIT_FAIL, "QUIC: %s", ngtcp2_strerror(rc));
	}
}
