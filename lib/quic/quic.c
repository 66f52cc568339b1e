/*
 * quic.c: one QUIC transfer, listening or connecting, sending or
 * receiving (the protocol is described in quic.h).
 *
 * One UDP socket, one connection, one poll loop.  The listener keeps
 * accepting handshakes until one peer authenticates, then connect()s its
 * socket to that peer: the kernel filters strangers from then on and an
 * ICMP "port unreachable" from a vanished peer surfaces as ECONNREFUSED.
 *
 * Data path.  The sender reads its input into a ring that holds every
 * byte until the peer acknowledges it (ngtcp2 does not copy stream
 * data); packets are written many at a time and sent with UDP GSO, one
 * sendmsg per batch.  The receiver reads with UDP GRO, collects stream
 * data in a buffer and writes it out in large blocking writes; the flow
 * control window is extended only for bytes that were written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include "io.h"
#include "quic.h"
#include "quic_int.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* Buffers and windows (SPEC §5: fill 10 Gbit/s x 1 ms = 1.25 MB). */
#define SEND_RING_SIZE (24u << 20)	/* sender: unacknowledged + read-ahead */
#define INPUT_READ_MAX (2u << 20)	/* sender: one read() at most */
/*
 * Flow-control windows, fixed: 13 times what 10 Gbit/s x 1 ms needs.  No
 * auto-tuning beyond: a larger window buys nothing on loopback but adds
 * to the receiver's backlog and peak RSS (SPEC §1, 64 MiB): 1 GiB into
 * `| cat`, peak RSS was up to 52 MiB with windows growing to 32 MiB,
 * 23 MiB with 16 MiB fixed.
 */
#define STREAM_WINDOW (16u << 20)
/*
 * Receiver: output waits here while the reader is slow.  The peer can
 * send at most the flow-control window beyond what was written, so the
 * buffer never overflows and the connection never waits on the reader.
 * Pages are touched only as far as the backlog reaches: the buffer
 * restarts at its front whenever it is drained.
 */
#define OUTPUT_BUF_SIZE (STREAM_WINDOW + (1u << 20))
#define OUTPUT_FLUSH_AT (1u << 20)	/* try a write within a poll round */
#define OUTPUT_KEEP (4u << 20)		/* kept mapped after a backlog */
#define SOCKET_BUF_SIZE (8u << 20)	/* SO_SNDBUF / SO_RCVBUF wish */
#define TX_BATCH_BYTES 65000u		/* one GSO sendmsg */
#define TX_BATCH_SEGS 64		/* kernel UDP_MAX_SEGMENTS */
#define TX_BUF_SIZE (TX_BATCH_BYTES + 65536u)	/* a batch + one probe */
#define RX_BUF_SIZE 65536u		/* one GRO datagram train */
#define RX_BATCH 64			/* recvmsg calls per poll round */
#define CID_LEN 16
#define REASON_MAX QUIC_REASON_MAX
#define CONFIRM_LEN QUIC_CONFIRM_LEN
#define CLOSE_LINGER_MAX 2.0		/* seconds, closing period at most */
/*
 * s: a handshake whose peer is silent this long gives way.  Long enough
 * for a live peer's retransmission (PTO) and for a loaded host (100
 * strangers at once under ASan took over a second to answer in CI).
 */
#define HANDSHAKE_YIELD 3.0
#define HANDSHAKE_YIELD_REASON "handshake too slow: the listener went on " \
	"to another peer"

#define TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:" \
	"+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:" \
	"%DISABLE_TLS13_COMPAT_MODE"

typedef union {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
} sockaddr_u;

struct ep {
	const struct quic_opts *o;
	struct rcp_error *e;
	int failed;		/* e is filled in; stop */
	int done;		/* transfer confirmed */
	int is_server, is_sender;
	int fd;
	sockaddr_u local, remote;
	socklen_t locallen, remotelen;
	int connected;		/* fd connect()ed to remote */
	char peer_text[QUIC_HOST_MAX + 8];

	gnutls_certificate_credentials_t cred;
	const struct quic_identity *id;
	gnutls_session_t tls;
	ngtcp2_conn *conn;
	ngtcp2_crypto_conn_ref ref;
	const char *alpn;

	const char *expect_pin;	/* NULL: accept any peer */
	char got_pin[QUIC_PIN_SIZE];
	int pin_mismatch;
	int handshake_done;

	/* Our CONNECTION_CLOSE, once decided. */
	ngtcp2_ccerr ccerr;
	int close_pending;
	char reason[REASON_MAX + 1];

	int64_t sid;		/* the data stream, -1 until there */
	int stream_blocked;	/* flow control: retry on next write round */

	/* Sender. */
	uint8_t *ring;
	uint64_t acked, sent, filled;	/* stream offsets */
	int in_eof, fin_sent;
	struct quic_confirm confirm;	/* the receiver's, as it arrives */

	/* Receiver. */
	uint8_t confirm_out[CONFIRM_LEN];
	uint8_t *obuf;
	size_t ohead, olen;	/* obuf[ohead..olen) not yet written */
	size_t otouched;	/* obuf pages used since the last release */
	int out_mode;		/* io_write_nowait's memory of data_fd */
	int out_stalled;	/* a write took nothing: wait for POLLOUT */
	uint64_t received, written, extended;
	int fin_received, finished, confirm_queued;
	size_t confirm_sent;

	/* Socket I/O. */
	uint8_t *txbuf;
	size_t txlen, txseg;	/* a batch that met EAGAIN, to resend */
	int gso;
	uint8_t *rxbuf;
	int peer_gone;		/* its errno: ICMP said the peer is gone */
	int cancelled;

	double t_start, t_end;
	double t_last_rx;	/* the peer's last packet taken */
	double t_hs_start;	/* server: the current handshake's start */
	uint64_t pkts_sent, pkts_recv;
	uint64_t lost;
};

static int sender_confirmed(struct ep *ep);

static ngtcp2_tstamp
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ngtcp2_tstamp)ts.tv_sec * NGTCP2_SECONDS +
	    (ngtcp2_tstamp)ts.tv_nsec;
}

static void
ep_log(struct ep *ep, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (ep->o->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ep->o->log(ep->o->log_arg, msg);
}

/* Records the first failure; later ones are consequences. */
static void __attribute__((format(printf, 3, 4)))
ep_fail(struct ep *ep, int status, const char *fmt, ...)
{
	va_list ap;

	if (ep->failed)
		return;
	ep->failed = 1;
	if (ep->e != NULL) {
		ep->e->status = status;
		va_start(ap, fmt);
		vsnprintf(ep->e->msg, sizeof(ep->e->msg), fmt, ap);
		va_end(ap);
	}
}

/*
 * Fails the transfer and tells the peer why: CONNECTION_CLOSE with an
 * application error code and our message as the reason.
 */
static void
ep_fail_app(struct ep *ep, uint64_t code, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void
ep_fail_app(struct ep *ep, uint64_t code, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (ep->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ep_fail(ep, status, "%s", msg);
	/* The reason travels in one packet: keep it short. */
	msg[REASON_MAX] = '\0';
	memcpy(ep->reason, msg, strlen(msg) + 1);
	ngtcp2_ccerr_set_application_error(&ep->ccerr, code,
	    (const uint8_t *)ep->reason, strlen(ep->reason));
	ep->close_pending = 1;
}

static void
addr_text(const sockaddr_u *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	const void *p;
	unsigned port;

	if (a->sa.sa_family == AF_INET6) {
		p = &a->in6.sin6_addr;
		port = ntohs(a->in6.sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr)) {
			inet_ntop(AF_INET, &a->in6.sin6_addr.s6_addr[12],
			    host, sizeof(host));
			snprintf(buf, size, "%s:%u", host, port);
			return;
		}
		inet_ntop(AF_INET6, p, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, port);
	} else {
		inet_ntop(AF_INET, &a->in.sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(a->in.sin_port));
	}
}

static int
addr_eq(const sockaddr_u *a, const sockaddr_u *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_port == b->in.sin_port &&
		    a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	return a->in6.sin6_port == b->in6.sin6_port &&
	    memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
}

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
	if (quic_pin_of_der(certs[0].data, certs[0].size, ep->got_pin) != 0)
		return -1;
	if (ep->expect_pin != NULL && strcmp(ep->expect_pin, ep->got_pin)) {
		ep->pin_mismatch = 1;
		return -1;
	}
	return 0;
}

static int
tls_new(struct ep *ep)
{
	gnutls_datum_t alpn;
	int rc;

	rc = gnutls_init(&ep->tls, (ep->is_server ? GNUTLS_SERVER :
	    GNUTLS_CLIENT) | GNUTLS_NO_END_OF_EARLY_DATA | GNUTLS_NO_TICKETS);
	if (rc < 0)
		goto fail;
	if ((rc = gnutls_priority_set_direct(ep->tls, TLS_PRIORITY,
	    NULL)) < 0)
		goto fail;
	if ((ep->is_server ?
	    ngtcp2_crypto_gnutls_configure_server_session(ep->tls) :
	    ngtcp2_crypto_gnutls_configure_client_session(ep->tls)) != 0) {
		ep_fail(ep, EXIT_FAIL, "cannot set up QUIC TLS session");
		return -1;
	}
	ep->ref.get_conn = get_conn;
	ep->ref.user_data = ep;
	gnutls_session_set_ptr(ep->tls, &ep->ref);
	if ((rc = gnutls_credentials_set(ep->tls, GNUTLS_CRD_CERTIFICATE,
	    ep->cred)) < 0)
		goto fail;
	alpn.data = (unsigned char *)(uintptr_t)ep->alpn;
	alpn.size = (unsigned)strlen(ep->alpn);
	if ((rc = gnutls_alpn_set_protocols(ep->tls, &alpn, 1,
	    GNUTLS_ALPN_MANDATORY)) < 0)
		goto fail;
	if (ep->is_server)
		gnutls_certificate_server_set_request(ep->tls,
		    GNUTLS_CERT_REQUIRE);
	gnutls_session_set_verify_function(ep->tls, verify_peer);
	return 0;
fail:
	ep_fail(ep, EXIT_FAIL, "TLS: %s", gnutls_strerror(rc));
	return -1;
}

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

	(void)conn;
	if (gnutls_alpn_get_selected_protocol(ep->tls, &proto) != 0 ||
	    !quic_alpn_match(proto.data, proto.size, ep->alpn)) {
		ep_fail(ep, EXIT_FAIL, "peer did not agree on %s", ep->alpn);
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	ep->handshake_done = 1;
	return 0;
}

/* Sender: bytes up to offset+len are acknowledged; ring space is free. */
static int
acked_cb(ngtcp2_conn *conn, int64_t sid, uint64_t off, uint64_t len,
    void *ud, void *sud)
{
	struct ep *ep = ud;

	(void)conn;
	(void)sud;
	if (ep->is_sender && sid == ep->sid && off + len > ep->acked) {
		if (ep->o->progress != NULL)
			progress_add(ep->o->progress, off + len - ep->acked);
		ep->acked = off + len;
	}
	return 0;
}

/* Receiver: writes what the output takes now, never waiting for it. */
static void
output_flush(struct ep *ep)
{
	while (ep->ohead < ep->olen && !ep->failed && !ep->out_stalled) {
		ssize_t n = io_write_nowait(ep->o->data_fd, ep->obuf +
		    ep->ohead, ep->olen - ep->ohead, &ep->out_mode);

		if (n < 0) {
			ep_fail_app(ep, QUIC_APP_RECEIVER_OUTPUT, EXIT_FAIL,
			    "receiver output failed: write: %s",
			    strerror(errno));
			return;
		}
		if (n == 0) {
			ep->out_stalled = 1;	/* the reader is slow */
			return;
		}
		ep->ohead += (size_t)n;
		ep->written += (uint64_t)n;
		if (ep->o->progress != NULL)
			progress_add(ep->o->progress, (uint64_t)n);
	}
	if (ep->ohead < ep->olen)
		return;
	ep->ohead = ep->olen = 0;
	/*
	 * A backlog is over: give its pages back, so that a burst of
	 * out-of-order data buffered later by ngtcp2 does not add up with
	 * it in the peak RSS.
	 */
	if (ep->otouched > OUTPUT_KEEP) {
		(void)madvise(ep->obuf + OUTPUT_KEEP, ep->otouched -
		    OUTPUT_KEEP, MADV_DONTNEED);
		ep->otouched = 0;
	}
}

/* Receiver: whether output waits for the reader (or for a write). */
static int
output_pending(const struct ep *ep)
{
	return ep->olen > ep->ohead;
}

static int
recv_stream_data_cb(ngtcp2_conn *conn, uint32_t flags, int64_t sid,
    uint64_t off, const uint8_t *data, size_t len, void *ud, void *sud)
{
	struct ep *ep = ud;

	(void)off;
	(void)sud;
	if (ep->failed)
		return 0;
	if (ep->is_sender) {
		/* Only the confirmation may come back, on our stream. */
		if (sid != ep->sid || quic_confirm_feed(&ep->confirm, data,
		    len, (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0) != 0)
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
	if (len > OUTPUT_BUF_SIZE - ep->olen && ep->ohead > 0) {
		memmove(ep->obuf, ep->obuf + ep->ohead, ep->olen - ep->ohead);
		ep->olen -= ep->ohead;
		ep->ohead = 0;
	}
	if (len > OUTPUT_BUF_SIZE - ep->olen) {
		/* ngtcp2 enforces our flow control: this cannot happen. */
		ep_fail_app(ep, QUIC_APP_PROTOCOL, EXIT_FAIL,
		    "protocol error: more data than the flow-control window");
		return 0;
	}
	if (len > 0)	/* a bare FIN comes with data NULL */
		memcpy(ep->obuf + ep->olen, data, len);
	ep->olen += len;
	ep->received += len;
	if (ep->olen > ep->otouched)
		ep->otouched = ep->olen;
	if (ep->olen - ep->ohead >= OUTPUT_FLUSH_AT)
		output_flush(ep);
	if (flags & NGTCP2_STREAM_DATA_FLAG_FIN)
		ep->fin_received = 1;
	return 0;
}

static int
stream_close_cb(ngtcp2_conn *conn, uint32_t flags, int64_t sid,
    uint64_t code, void *ud, void *sud)
{
	struct ep *ep = ud;

	(void)conn;
	(void)sud;
	if (sid != ep->sid || ep->failed || ep->done)
		return 0;
	if (flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET && code != 0) {
		ep_fail(ep, EXIT_FAIL, "peer aborted the stream (error %"
		    PRIu64 ")", code);
		return 0;
	}
	/* Receiver: our confirmation and FIN were acknowledged. */
	if (!ep->is_sender && ep->confirm_queued &&
	    ep->confirm_sent == CONFIRM_LEN) {
		ep->done = 1;
		ngtcp2_ccerr_set_application_error(&ep->ccerr, QUIC_APP_OK,
		    NULL, 0);
		ep->close_pending = 1;
	}
	return 0;
}

static int
stream_reset_cb(ngtcp2_conn *conn, int64_t sid, uint64_t final_size,
    uint64_t code, void *ud, void *sud)
{
	struct ep *ep = ud;

	(void)conn;
	(void)sud;
	if (sid == ep->sid && !ep->done)
		ep_fail(ep, EXIT_FAIL, "peer reset the stream after %" PRIu64
		    " bytes (error %" PRIu64 ")", final_size, code);
	return 0;
}

static int
stop_sending_cb(ngtcp2_conn *conn, int64_t sid, uint64_t code, void *ud,
    void *sud)
{
	struct ep *ep = ud;

	(void)conn;
	(void)sud;
	if (sid == ep->sid && !ep->done)
		ep_fail(ep, EXIT_FAIL, "peer stopped reading (error %"
		    PRIu64 ")", code);
	return 0;
}

static const ngtcp2_callbacks callbacks_client = {
	.client_initial = ngtcp2_crypto_client_initial_cb,
	.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
	.handshake_completed = handshake_completed_cb,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = ngtcp2_crypto_decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.recv_stream_data = recv_stream_data_cb,
	.acked_stream_data_offset = acked_cb,
	.stream_close = stream_close_cb,
	.recv_retry = ngtcp2_crypto_recv_retry_cb,
	.rand = rand_cb,
	.get_new_connection_id = new_cid_cb,
	.update_key = ngtcp2_crypto_update_key_cb,
	.stream_reset = stream_reset_cb,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.stream_stop_sending = stop_sending_cb,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
};

static const ngtcp2_callbacks callbacks_server = {
	.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb,
	.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
	.handshake_completed = handshake_completed_cb,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = ngtcp2_crypto_decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.recv_stream_data = recv_stream_data_cb,
	.acked_stream_data_offset = acked_cb,
	.stream_close = stream_close_cb,
	.rand = rand_cb,
	.get_new_connection_id = new_cid_cb,
	.update_key = ngtcp2_crypto_update_key_cb,
	.stream_reset = stream_reset_cb,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.stream_stop_sending = stop_sending_cb,
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

static void
conn_settings(struct ep *ep, ngtcp2_settings *s, ngtcp2_transport_params *p)
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
	s->initial_ts = now_ns();
	s->cc_algo = cc[ep->o->cc];
	s->max_window = STREAM_WINDOW;
	s->max_stream_window = STREAM_WINDOW;
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
	if (getenv("RCP_QUIC_DEBUG") != NULL)
		s->log_printf = debug_printf;

	ngtcp2_transport_params_default(p);
	p->initial_max_stream_data_bidi_local = STREAM_WINDOW;
	p->initial_max_stream_data_bidi_remote = STREAM_WINDOW;
	p->initial_max_data = STREAM_WINDOW;
	p->initial_max_streams_bidi = 1;
	p->initial_max_streams_uni = 0;
	p->max_idle_timeout = (ngtcp2_duration)ep->o->idle_timeout *
	    NGTCP2_SECONDS;
	p->active_connection_id_limit = 2;
}

/* Keep-alives well inside the idle timeout, so silence is not death. */
static void
conn_keepalive(struct ep *ep)
{
	ngtcp2_duration ka = (ngtcp2_duration)ep->o->idle_timeout *
	    NGTCP2_SECONDS / 3;

	if (ka < NGTCP2_SECONDS / 2)
		ka = NGTCP2_SECONDS / 2;
	ngtcp2_conn_set_keep_alive_timeout(ep->conn, ka);
}

static void
conn_free(struct ep *ep)
{
	if (ep->conn != NULL) {
		ngtcp2_conn_del(ep->conn);
		ep->conn = NULL;
	}
	if (ep->tls != NULL) {
		gnutls_deinit(ep->tls);
		ep->tls = NULL;
	}
}

/*
 * Forgets a handshake that failed: its connection and its error, so that
 * the next one (another peer, another address) starts clean.
 */
static void
attempt_forget(struct ep *ep)
{
	conn_free(ep);
	ep->failed = 0;
	ep->close_pending = 0;
	ep->peer_gone = 0;
	ep->txlen = 0;
	ngtcp2_ccerr_default(&ep->ccerr);
	if (ep->e != NULL) {
		ep->e->status = 0;
		ep->e->msg[0] = '\0';
	}
}

/* ---- sockets --------------------------------------------------------- */

static void
socket_tune(struct ep *ep)
{
	int one = 1, sz = SOCKET_BUF_SIZE, probe = IP_PMTUDISC_PROBE;
	int probe6 = IPV6_PMTUDISC_PROBE;

	/* Root may exceed net.core.[rw]mem_max; others get what they can. */
	if (setsockopt(ep->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz,
	    sizeof(sz)) != 0)
		(void)setsockopt(ep->fd, SOL_SOCKET, SO_RCVBUF, &sz,
		    sizeof(sz));
	if (setsockopt(ep->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz,
	    sizeof(sz)) != 0)
		(void)setsockopt(ep->fd, SOL_SOCKET, SO_SNDBUF, &sz,
		    sizeof(sz));
	(void)setsockopt(ep->fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
	/*
	 * Don't fragment: PMTUD probes must fail when too large, not arrive
	 * in pieces.
	 */
	(void)setsockopt(ep->fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe,
	    sizeof(probe));
	if (ep->local.sa.sa_family == AF_INET6)
		(void)setsockopt(ep->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER,
		    &probe6, sizeof(probe6));
	ep->gso = getenv("RCP_QUIC_NO_GSO") == NULL;
}

/*
 * Sends len bytes of txbuf as datagrams of seg bytes (the last may be
 * shorter).  Returns 0 (sent, or kept for POLLOUT), or -1 on failure.
 */
static int
send_batch(struct ep *ep, const uint8_t *buf, size_t len, size_t seg)
{
	char cbuf[CMSG_SPACE(sizeof(uint16_t))];
	struct iovec iov;
	struct msghdr msg;
	ssize_t n;

	while (len > 0) {
		size_t chunk = ep->gso ? len : (seg < len ? seg : len);

		memset(&msg, 0, sizeof(msg));
		iov.iov_base = (void *)(uintptr_t)buf;
		iov.iov_len = chunk;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (!ep->connected) {
			msg.msg_name = &ep->remote;
			msg.msg_namelen = ep->remotelen;
		}
		if (ep->gso && chunk > seg) {
			struct cmsghdr *cm;
			memset(cbuf, 0, sizeof(cbuf));
			msg.msg_control = cbuf;
			msg.msg_controllen = sizeof(cbuf);
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			*(uint16_t *)(void *)CMSG_DATA(cm) = (uint16_t)seg;
		}
		n = sendmsg(ep->fd, &msg, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (buf != ep->txbuf)
					memmove(ep->txbuf, buf, len);
				ep->txlen = len;
				ep->txseg = seg;
				return 0;
			}
			if (ep->gso && chunk > seg && (errno == EIO ||
			    errno == EINVAL || errno == ENOPROTOOPT ||
			    errno == EOPNOTSUPP)) {
				ep->gso = 0;	/* quietly, as SPEC style asks */
				continue;
			}
			if (errno == ECONNREFUSED || (!ep->handshake_done &&
			    (errno == EHOSTUNREACH || errno == ENETUNREACH))) {
				ep->peer_gone = errno;
				return 0;
			}
			if (errno == EMSGSIZE || errno == EPERM ||
			    errno == ENOBUFS) {
				/*
				 * A probe over the path MTU, a firewall drop
				 * (EPERM from netfilter), a full queue: the
				 * datagram is lost, and QUIC recovers from
				 * loss.  A lasting block ends in the idle
				 * timeout.
				 */
				buf += chunk;
				len -= chunk;
				continue;
			}
			ep_fail(ep, EXIT_FAIL, "send: %s", strerror(errno));
			return -1;
		}
		ep->pkts_sent += (chunk + seg - 1) / seg;
		buf += chunk;
		len -= chunk;
	}
	ep->txlen = 0;
	return 0;
}

/*
 * The closing period (RFC 9000 §10.2.1): for three PTOs after our
 * CONNECTION_CLOSE, every datagram from the peer is answered with the
 * same packet again, so that one lost close does not leave the peer
 * waiting for an acknowledgement it will never get (a receiver whose
 * confirmation we took, retransmitting it).  Ends early when the peer
 * closes its side (ICMP unreachable).  Bounded by CLOSE_LINGER_MAX.
 */
static void
close_linger(struct ep *ep, const uint8_t *pkt, size_t len)
{
	ngtcp2_duration pto = ngtcp2_conn_get_pto(ep->conn);
	double end = progress_now() + (double)(3 * pto) / NGTCP2_SECONDS;
	double max = progress_now() + CLOSE_LINGER_MAX;

	if (end > max)
		end = max;
	for (;;) {
		struct pollfd pfd = { .fd = ep->fd, .events = POLLIN };
		double left = end - progress_now();
		int got = 0, gone = 0;
		ssize_t n;

		if (left <= 0)
			return;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (pfd.revents == 0)
			continue;
		/* Drain: one answer per burst, not one per datagram. */
		for (;;) {
			sockaddr_u from;
			socklen_t fl = sizeof(from);
			n = recvfrom(ep->fd, ep->rxbuf, RX_BUF_SIZE, 0,
			    &from.sa, &fl);
			if (n >= 0) {
				if (ep->connected || addr_eq(&from,
				    &ep->remote))
					got = 1;
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno == ECONNREFUSED)
				gone = 1;
			break;
		}
		if (gone)
			return;
		if (got) {
			ep->txlen = 0;
			(void)send_batch(ep, pkt, len, len);
		}
	}
}

/* Writes our CONNECTION_CLOSE once and sends it, best effort. */
static void
send_close(struct ep *ep)
{
	ngtcp2_path_storage ps;
	ngtcp2_pkt_info pi;
	uint8_t buf[NGTCP2_MAX_UDP_PAYLOAD_SIZE];
	ngtcp2_ssize n;

	ep->close_pending = 0;
	if (ep->conn == NULL || ngtcp2_conn_in_closing_period(ep->conn) ||
	    ngtcp2_conn_in_draining_period(ep->conn))
		return;
	ngtcp2_path_storage_zero(&ps);
	n = ngtcp2_conn_write_connection_close(ep->conn, &ps.path, &pi, buf,
	    sizeof(buf), &ep->ccerr, now_ns());
	if (n > 0) {
		ep->txlen = 0;
		(void)send_batch(ep, buf, (size_t)n, (size_t)n);
		/*
		 * A receiver's clean close follows the sender's acknowledgement
		 * of the confirmation: nothing is left for the sender to need.
		 */
		if (ep->handshake_done && !ep->peer_gone && !ep->cancelled &&
		    !(ep->done && !ep->is_sender))
			close_linger(ep, buf, (size_t)n);
	}
}

/* ---- the stream -------------------------------------------------------- */

static void
stream_open(struct ep *ep)
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
static size_t
stream_pending(struct ep *ep, ngtcp2_vec vec[2], int *fin)
{
	*fin = 0;
	if (ep->sid < 0 || ep->stream_blocked)
		return (size_t)-1;
	if (ep->is_sender) {
		uint64_t len = ep->filled - ep->sent;
		size_t pos = (size_t)(ep->sent % SEND_RING_SIZE), first;

		if (ep->fin_sent)
			return (size_t)-1;
		*fin = ep->in_eof;
		if (len == 0)
			return *fin ? 0 : (size_t)-1;
		first = SEND_RING_SIZE - pos;
		if (first >= len) {
			vec[0].base = ep->ring + pos;
			vec[0].len = (size_t)len;
			return 1;
		}
		vec[0].base = ep->ring + pos;
		vec[0].len = first;
		vec[1].base = ep->ring;
		vec[1].len = (size_t)len - first;
		return 2;
	}
	if (!ep->confirm_queued || ep->confirm_sent == CONFIRM_LEN)
		return (size_t)-1;
	vec[0].base = ep->confirm_out + ep->confirm_sent;
	vec[0].len = CONFIRM_LEN - ep->confirm_sent;
	*fin = 1;
	return 1;
}

static void
stream_account(struct ep *ep, ngtcp2_ssize n, int fin, size_t total)
{
	if (n < 0)
		return;
	if (ep->is_sender) {
		ep->sent += (uint64_t)n;
		if (fin && (size_t)n == total)
			ep->fin_sent = 1;
	} else {
		ep->confirm_sent += (size_t)n;
	}
}

/*
 * Writes every packet ngtcp2 is willing to send now (congestion and
 * pacing permitting), in GSO batches.  Returns 0 or -1 (fatal).
 */
static int
write_packets(struct ep *ep)
{
	ngtcp2_path_storage ps;
	ngtcp2_pkt_info pi;
	ngtcp2_tstamp ts = now_ns();
	size_t maxpl, destlen, quantum, off = 0, seg = 0, nseg = 0, total = 0;

	if (ep->txlen > 0) {
		if (send_batch(ep, ep->txbuf, ep->txlen, ep->txseg) != 0)
			return -1;
		if (ep->txlen > 0)
			return 0;	/* still EAGAIN: wait for POLLOUT */
	}
	ngtcp2_path_storage_zero(&ps);
	/*
	 * Packets are the path's size, but ngtcp2 needs room for its largest
	 * PMTUD probe or it never probes.
	 */
	maxpl = ngtcp2_conn_get_path_max_tx_udp_payload_size(ep->conn);
	destlen = ngtcp2_conn_get_max_tx_udp_payload_size(ep->conn);
	quantum = ngtcp2_conn_get_send_quantum(ep->conn);
	if (quantum < maxpl)
		quantum = maxpl;
	ep->stream_blocked = 0;
	for (;;) {
		ngtcp2_vec vec[2];
		ngtcp2_ssize n, datalen = -1;
		size_t nvec, vtotal = 0, i;
		int fin;
		int64_t sid;
		uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;

		nvec = stream_pending(ep, vec, &fin);
		if (nvec == (size_t)-1) {
			sid = -1;
			nvec = 0;
			fin = 0;
		} else {
			sid = ep->sid;
			if (fin)
				flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
		}
		for (i = 0; i < nvec; i++)
			vtotal += vec[i].len;
		n = ngtcp2_conn_writev_stream(ep->conn, &ps.path, &pi,
		    ep->txbuf + off, destlen, &datalen, flags, sid,
		    nvec ? vec : NULL, nvec, ts);
		if (n < 0) {
			switch (n) {
			case NGTCP2_ERR_WRITE_MORE:
				stream_account(ep, datalen, fin, vtotal);
				continue;
			case NGTCP2_ERR_STREAM_DATA_BLOCKED:
			case NGTCP2_ERR_STREAM_SHUT_WR:
			case NGTCP2_ERR_STREAM_NOT_FOUND:
				ep->stream_blocked = 1;
				continue;
			case NGTCP2_ERR_DRAINING:
			case NGTCP2_ERR_CLOSING:
				if (!ep->failed && !ep->done)
					ep_fail(ep, EXIT_FAIL, "connection "
					    "closed");
				return -1;
			default:
				ngtcp2_ccerr_set_liberr(&ep->ccerr, (int)n,
				    NULL, 0);
				ep->close_pending = 1;
				ep_fail(ep, EXIT_FAIL, "QUIC: %s",
				    ngtcp2_strerror((int)n));
				return -1;
			}
		}
		stream_account(ep, datalen, fin, vtotal);
		if (n == 0)
			break;
		if (nseg == 0 || (size_t)n == seg) {
			if (nseg == 0)
				seg = (size_t)n;
			off += (size_t)n;
			nseg++;
		} else if ((size_t)n < seg) {
			off += (size_t)n;
			nseg++;
			/* A short datagram ends a GSO batch. */
			if (send_batch(ep, ep->txbuf, off, seg) != 0)
				return -1;
			off = nseg = 0;
		} else {
			if (send_batch(ep, ep->txbuf, off, seg) != 0)
				return -1;
			if (ep->txlen > 0) {
				/*
				 * EAGAIN: the unsent rest of the batch now sits
				 * at the front of txbuf, where this datagram
				 * would go.  Let it count as lost; QUIC's loss
				 * recovery sends its frames again.
				 */
				break;
			}
			memmove(ep->txbuf, ep->txbuf + off, (size_t)n);
			off = seg = (size_t)n;
			nseg = 1;
		}
		total += (size_t)n;
		if (ep->txlen > 0)
			break;
		if (nseg > 0 && (nseg == TX_BATCH_SEGS ||
		    off + maxpl > TX_BATCH_BYTES)) {
			if (send_batch(ep, ep->txbuf, off, seg) != 0)
				return -1;
			off = nseg = 0;
			if (ep->txlen > 0)
				break;
		}
		if (total >= quantum)
			break;
	}
	if (off > 0 && ep->txlen == 0 &&
	    send_batch(ep, ep->txbuf, off, seg) != 0)
		return -1;
	ngtcp2_conn_update_pkt_tx_time(ep->conn, ts);
	return 0;
}

/* ---- incoming ---------------------------------------------------------- */

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
			if (ep->is_sender && !ep->done && ep->confirm.fin &&
			    sender_confirmed(ep) == 0)
				return;
			if (!ep->is_sender && ep->confirm_queued &&
			    ep->confirm_sent == CONFIRM_LEN)
				ep->done = 1;
			if (ep->done || ep->failed)
				return;
			ep_fail(ep, EXIT_FAIL, "peer closed the connection "
			    "before the transfer was complete");
			return;
		}
		ep_fail(ep, EXIT_FAIL, "peer failed: %s", rl ? reason :
		    "no reason given");
		return;
	}
	if (cc->type == NGTCP2_CCERR_TYPE_TRANSPORT &&
	    cc->error_code >= NGTCP2_CRYPTO_ERROR &&
	    cc->error_code <= NGTCP2_CRYPTO_ERROR + 0xff) {
		uint8_t alert = (uint8_t)(cc->error_code - NGTCP2_CRYPTO_ERROR);
		int status;
		const char *hint = quic_alert_hint(alert, &status);
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

	ngtcp2_ccerr_set_tls_alert(&ep->ccerr, alert, NULL, 0);
	ep->close_pending = 1;
	if (ep->pin_mismatch) {
		if (ep->is_server)
			ep_fail(ep, EXIT_AUTH, "client certificate "
			    "fingerprint mismatch: expected %s, got %s",
			    ep->expect_pin, ep->got_pin);
		else
			ep_fail(ep, EXIT_AUTH, "server certificate "
			    "fingerprint mismatch: expected %s, got %s",
			    ep->expect_pin, ep->got_pin);
		return;
	}
	ep_fail(ep, EXIT_FAIL, "TLS handshake failed (alert %u)%s", alert,
	    alert == 120 ? ": peer does not speak this protocol direction "
	    "(two senders or two receivers?)" : "");
}

static int server_accept(struct ep *ep, const uint8_t *pkt, size_t len);

static void
feed(struct ep *ep, const uint8_t *pkt, size_t len)
{
	ngtcp2_path path;
	ngtcp2_pkt_info pi = { 0 };
	int rc;

	if (ep->conn == NULL) {
		if (server_accept(ep, pkt, len) != 0)
			return;
	}
	path.local.addr = &ep->local.sa;
	path.local.addrlen = ep->locallen;
	path.remote.addr = &ep->remote.sa;
	path.remote.addrlen = ep->remotelen;
	path.user_data = NULL;
	ep->pkts_recv++;
	rc = ngtcp2_conn_read_pkt(ep->conn, &path, &pi, pkt, len, now_ns());
	if (rc == 0) {
		ep->t_last_rx = progress_now();
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
		ngtcp2_ccerr_set_liberr(&ep->ccerr, rc, NULL, 0);
		ep->close_pending = 1;
		break;
	default:
		ngtcp2_ccerr_set_liberr(&ep->ccerr, rc, NULL, 0);
		ep->close_pending = 1;
		ep_fail(ep, EXIT_FAIL, "QUIC: %s", ngtcp2_strerror(rc));
	}
}

static void server_reset(struct ep *ep);

/*
 * A listener serves one handshake at a time.  One whose peer has been
 * silent for HANDSHAKE_YIELD (or four measured round trips, if longer)
 * gives way to a new peer's Initial packet (pkt): a peer that starts a
 * handshake and stalls, or a spoofed Initial, cannot hold the listener
 * until --connect-timeout while the pinned peer waits; a slow but live
 * handshake (a lossy path: its peer retransmits) is not cut short.
 * Returns 1 when the current handshake was dropped, 0 when the packet
 * must wait.
 */
static int
server_handshake_yields(struct ep *ep, const sockaddr_u *from,
    const uint8_t *pkt, size_t len)
{
	ngtcp2_conn_info ci;
	ngtcp2_pkt_hd hd;
	char who[QUIC_HOST_MAX + 8];
	double now = progress_now(), limit = HANDSHAKE_YIELD;

	if (!ep->is_server || ep->handshake_done)
		return 0;
	ngtcp2_conn_get_conn_info(ep->conn, &ci);
	if (ci.min_rtt != UINT64_MAX &&
	    4.0 * (double)ci.smoothed_rtt / 1e9 > limit)
		limit = 4.0 * (double)ci.smoothed_rtt / 1e9;
	if (now - ep->t_last_rx < limit || ngtcp2_accept(&hd, pkt, len) != 0)
		return 0;
	addr_text(from, who, sizeof(who));
	ep_fail(ep, EXIT_FAIL, "silent for %.1f s, %.1f s into the "
	    "handshake, and %s is waiting", now - ep->t_last_rx,
	    now - ep->t_hs_start, who);
	/* Tell the stalled peer, should it wake up: it fails at once. */
	ngtcp2_ccerr_set_transport_error(&ep->ccerr,
	    NGTCP2_CONNECTION_REFUSED, (const uint8_t *)HANDSHAKE_YIELD_REASON,
	    sizeof(HANDSHAKE_YIELD_REASON) - 1);
	ep->close_pending = 1;
	server_reset(ep);
	return 1;
}

/* Reads what the socket has, up to a batch.  Returns 0 or -1. */
static int
read_packets(struct ep *ep)
{
	char cbuf[CMSG_SPACE(sizeof(int)) * 2];
	int i;

	for (i = 0; i < RX_BATCH && !ep->failed && !ep->done; i++) {
		sockaddr_u from;
		struct iovec iov = { ep->rxbuf, RX_BUF_SIZE };
		struct msghdr msg;
		struct cmsghdr *cm;
		ssize_t n;
		size_t seg, off;

		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		n = recvmsg(ep->fd, &msg, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == ECONNREFUSED || (!ep->handshake_done &&
			    (errno == EHOSTUNREACH || errno == ENETUNREACH))) {
				/*
				 * The kernel reports the ICMP error before
				 * the datagrams still queued, such as the
				 * peer's CONNECTION_CLOSE: read on.  Before
				 * the handshake, the next address may do.
				 */
				ep->peer_gone = errno;
				continue;
			}
			ep_fail(ep, EXIT_FAIL, "receive: %s", strerror(errno));
			return -1;
		}
		seg = (size_t)n;
		for (cm = CMSG_FIRSTHDR(&msg); cm != NULL;
		    cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_UDP &&
			    cm->cmsg_type == UDP_GRO) {
				int g;
				memcpy(&g, CMSG_DATA(cm), sizeof(g));
				if (g > 0)
					seg = (size_t)g;
			}
		if (ep->conn != NULL && !ep->connected &&
		    !addr_eq(&from, &ep->remote) &&
		    !server_handshake_yields(ep, &from, ep->rxbuf,
		    seg < (size_t)n ? seg : (size_t)n))
			continue;	/* busy with another peer's handshake */
		if (ep->conn == NULL) {
			ep->remote = from;
			ep->remotelen = msg.msg_namelen;
		}
		for (off = 0; off < (size_t)n && !ep->failed && !ep->done;
		    off += seg) {
			size_t len = (size_t)n - off < seg ?
			    (size_t)n - off : seg;
			feed(ep, ep->rxbuf + off, len);
			if (ep->conn == NULL)
				break;
		}
	}
	return 0;
}

/* ---- endpoints --------------------------------------------------------- */

static int
server_accept(struct ep *ep, const uint8_t *pkt, size_t len)
{
	ngtcp2_pkt_hd hd;
	ngtcp2_settings s;
	ngtcp2_transport_params p;
	ngtcp2_cid scid;
	ngtcp2_path path;
	uint8_t cid[CID_LEN];
	int rc;

	if (ngtcp2_accept(&hd, pkt, len) != 0)
		return -1;	/* not an Initial we can take: drop it */
	conn_settings(ep, &s, &p);
	p.original_dcid = hd.dcid;
	p.original_dcid_present = 1;
	if (gnutls_rnd(GNUTLS_RND_RANDOM, cid, sizeof(cid)) < 0 ||
	    gnutls_rnd(GNUTLS_RND_RANDOM, p.stateless_reset_token,
	    sizeof(p.stateless_reset_token)) < 0)
		return -1;
	p.stateless_reset_token_present = 1;
	ngtcp2_cid_init(&scid, cid, sizeof(cid));
	path.local.addr = &ep->local.sa;
	path.local.addrlen = ep->locallen;
	path.remote.addr = &ep->remote.sa;
	path.remote.addrlen = ep->remotelen;
	path.user_data = NULL;
	ep->handshake_done = 0;
	ep->pin_mismatch = 0;
	ep->got_pin[0] = '\0';
	ep->t_hs_start = ep->t_last_rx = progress_now();
	if (tls_new(ep) != 0)
		return -1;
	rc = ngtcp2_conn_server_new(&ep->conn, &hd.scid, &scid, &path,
	    hd.version, &callbacks_server, &s, &p, NULL, ep);
	if (rc != 0) {
		conn_free(ep);
		ep_fail(ep, EXIT_FAIL, "QUIC: %s", ngtcp2_strerror(rc));
		return -1;
	}
	ngtcp2_conn_set_tls_native_handle(ep->conn, ep->tls);
	conn_keepalive(ep);
	addr_text(&ep->remote, ep->peer_text, sizeof(ep->peer_text));
	return 0;
}

/*
 * A handshake that failed before the peer was authenticated costs the
 * listener nothing: say so, answer with the close, and wait for the next
 * one (SPEC §5: "keeps waiting for the right one").
 */
static void
server_reset(struct ep *ep)
{
	ep_log(ep, "handshake with %s failed, still listening: %s",
	    ep->peer_text,
	    ep->e != NULL ? ep->e->msg : "handshake failed");
	if (ep->close_pending)
		send_close(ep);
	attempt_forget(ep);
}

static int
ready_line(struct ep *ep)
{
	const struct quic_opts *o = ep->o;
	char host[INET6_ADDRSTRLEN], line[QUIC_READY_MAX + 2];
	const char *h = host;
	uint16_t port;
	size_t len;

	if (ep->local.sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &ep->local.in6.sin6_addr, host,
		    sizeof(host));
		port = ntohs(ep->local.in6.sin6_port);
		if (IN6_IS_ADDR_UNSPECIFIED(&ep->local.in6.sin6_addr) &&
		    o->advertise != NULL)
			h = o->advertise;
	} else {
		inet_ntop(AF_INET, &ep->local.in.sin_addr, host, sizeof(host));
		port = ntohs(ep->local.in.sin_port);
		if (ep->local.in.sin_addr.s_addr == htonl(INADDR_ANY) &&
		    o->advertise != NULL)
			h = o->advertise;
	}
	if (quic_ready_format(line, sizeof(line) - 1, h, port,
	    quic_identity_pin(ep->id)) != 0) {
		ep_fail(ep, EXIT_USAGE, "--advertise %s: too long", h);
		return -1;
	}
	if (o->on_ready != NULL)
		o->on_ready(o->on_ready_arg, line);
	if (o->ready_fd >= 0) {
		len = strlen(line);
		line[len++] = '\n';
		if (io_write_full(o->ready_fd, line, len) != 0) {
			ep_fail(ep, EXIT_FAIL, "ready line: write to fd %d: %s",
			    o->ready_fd, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Binds to o->host and o->port (or a free port of the ranges). */
static int
server_bind(struct ep *ep)
{
	const struct quic_opts *o = ep->o;
	struct addrinfo hints, *res = NULL;
	const char *host = (o->host != NULL && o->host[0] != '\0') ?
	    o->host : NULL;
	int rc, zero = 0;
	size_t r, tries, span = 0;
	uint32_t start = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (host == NULL) {
		hints.ai_family = AF_INET6;	/* dual-stack wildcard */
		rc = getaddrinfo(NULL, "0", &hints, &res);
		if (rc != 0) {
			hints.ai_family = AF_INET;
			rc = getaddrinfo(NULL, "0", &hints, &res);
		}
	} else {
		rc = getaddrinfo(host, "0", &hints, &res);
	}
	if (rc != 0)
		return ep_fail(ep, EXIT_USAGE, "%s: %s", host ? host : "*",
		    gai_strerror(rc)), -1;
	ep->fd = socket(res->ai_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (ep->fd < 0) {
		freeaddrinfo(res);
		ep_fail(ep, EXIT_FAIL, "socket: %s", strerror(errno));
		return -1;
	}
	if (res->ai_family == AF_INET6 && host == NULL)
		(void)setsockopt(ep->fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		    sizeof(zero));
	memcpy(&ep->local, res->ai_addr, res->ai_addrlen);
	ep->locallen = res->ai_addrlen;
	freeaddrinfo(res);

	for (r = 0; r < o->nranges; r++)
		span += (size_t)o->ranges[r].hi - o->ranges[r].lo + 1;
	if (o->port == 0 && span > 0)
		(void)gnutls_rnd(GNUTLS_RND_NONCE, &start, sizeof(start));
	tries = (o->port == 0 && span > 0) ? span : 1;
	for (size_t t = 0; t < tries; t++) {
		uint16_t port = o->port;
		if (o->port == 0 && span > 0) {
			size_t k = (start + t) % span;
			for (r = 0; k >= (size_t)o->ranges[r].hi -
			    o->ranges[r].lo + 1; r++)
				k -= (size_t)o->ranges[r].hi -
				    o->ranges[r].lo + 1;
			port = (uint16_t)(o->ranges[r].lo + k);
		}
		if (ep->local.sa.sa_family == AF_INET6)
			ep->local.in6.sin6_port = htons(port);
		else
			ep->local.in.sin_port = htons(port);
		if (bind(ep->fd, &ep->local.sa, ep->locallen) == 0)
			goto bound;
		if (errno != EADDRINUSE || tries == 1) {
			char a[QUIC_HOST_MAX + 8];
			addr_text(&ep->local, a, sizeof(a));
			ep_fail(ep, EXIT_FAIL, "bind %s: %s", a,
			    strerror(errno));
			return -1;
		}
	}
	ep_fail(ep, EXIT_FAIL, "--port-range: no free port");
	return -1;
bound:
	ep->locallen = sizeof(ep->local);
	if (getsockname(ep->fd, &ep->local.sa, &ep->locallen) != 0) {
		ep_fail(ep, EXIT_FAIL, "getsockname: %s", strerror(errno));
		return -1;
	}
	socket_tune(ep);
	return ready_line(ep);
}

/* The addresses --connect names, in getaddrinfo's order. */
static int
client_resolve(struct ep *ep, struct addrinfo **res)
{
	struct addrinfo hints;
	char portstr[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)ep->o->port);
	rc = getaddrinfo(ep->o->host, portstr, &hints, res);
	if (rc != 0) {
		ep_fail(ep, EXIT_FAIL, "%s: %s", ep->o->host, gai_strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * Whether the attempt on one address failed in a way the next address
 * may not: nothing listening there (ICMP unreachable), or no socket or
 * route for its family.  A pin mismatch, a timeout or a cancel is final.
 */
static int
client_try_next(const struct ep *ep)
{
	return !ep->handshake_done && !ep->cancelled && !ep->pin_mismatch &&
	    (ep->peer_gone || ep->conn == NULL);
}

/* Back to the state before client_start, for the next address. */
static void
client_reset(struct ep *ep)
{
	attempt_forget(ep);
	if (ep->fd >= 0)
		close(ep->fd);
	ep->fd = -1;
	ep->connected = 0;
}

static int
client_start(struct ep *ep, const struct addrinfo *ai)
{
	ngtcp2_settings s;
	ngtcp2_transport_params p;
	ngtcp2_cid dcid, scid;
	ngtcp2_path path;
	uint8_t d[CID_LEN], c[CID_LEN];
	int rc;

	memcpy(&ep->remote, ai->ai_addr, ai->ai_addrlen);
	ep->remotelen = ai->ai_addrlen;
	ep->fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	addr_text(&ep->remote, ep->peer_text, sizeof(ep->peer_text));
	if (ep->fd < 0) {
		ep_fail(ep, EXIT_FAIL, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(ep->fd, &ep->remote.sa, ep->remotelen) != 0) {
		ep_fail(ep, EXIT_FAIL, "connect %s: %s", ep->peer_text,
		    strerror(errno));
		return -1;
	}
	ep->connected = 1;
	ep->locallen = sizeof(ep->local);
	if (getsockname(ep->fd, &ep->local.sa, &ep->locallen) != 0) {
		ep_fail(ep, EXIT_FAIL, "getsockname: %s", strerror(errno));
		return -1;
	}
	socket_tune(ep);

	conn_settings(ep, &s, &p);
	if (gnutls_rnd(GNUTLS_RND_RANDOM, d, sizeof(d)) < 0 ||
	    gnutls_rnd(GNUTLS_RND_RANDOM, c, sizeof(c)) < 0) {
		ep_fail(ep, EXIT_FAIL, "no randomness");
		return -1;
	}
	ngtcp2_cid_init(&dcid, d, sizeof(d));
	ngtcp2_cid_init(&scid, c, sizeof(c));
	path.local.addr = &ep->local.sa;
	path.local.addrlen = ep->locallen;
	path.remote.addr = &ep->remote.sa;
	path.remote.addrlen = ep->remotelen;
	path.user_data = NULL;
	if (tls_new(ep) != 0)
		return -1;
	rc = ngtcp2_conn_client_new(&ep->conn, &dcid, &scid, &path,
	    NGTCP2_PROTO_VER_V1, &callbacks_client, &s, &p, NULL, ep);
	if (rc != 0) {
		ep_fail(ep, EXIT_FAIL, "QUIC: %s", ngtcp2_strerror(rc));
		return -1;
	}
	ngtcp2_conn_set_tls_native_handle(ep->conn, ep->tls);
	conn_keepalive(ep);
	return 0;
}

/* ---- the loop ---------------------------------------------------------- */

/* Sender: reads input into free ring space.  Never blocks: poll said so. */
static void
input_read(struct ep *ep)
{
	uint64_t used = ep->filled - ep->acked;
	size_t pos = (size_t)(ep->filled % SEND_RING_SIZE), room;
	ssize_t n;

	if (used >= SEND_RING_SIZE || ep->in_eof)
		return;
	room = SEND_RING_SIZE - pos;
	if (room > SEND_RING_SIZE - used)
		room = (size_t)(SEND_RING_SIZE - used);
	if (room > INPUT_READ_MAX)
		room = INPUT_READ_MAX;
	n = io_read_ready(ep->o->data_fd, ep->ring + pos, room);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;	/* a non-blocking input: poll again */
	if (n < 0) {
		ep_fail_app(ep, QUIC_APP_SENDER_INPUT, EXIT_FAIL,
		    "sender input failed: read: %s", strerror(errno));
		return;
	}
	if (n == 0)
		ep->in_eof = 1;	/* stdin EOF becomes the stream FIN */
	ep->filled += (uint64_t)n;
}

/*
 * Sender: the receiver's confirmation and FIN are in.  Sets done when
 * they confirm every byte we sent; else fails.  Returns 0 or -1.
 */
static int
sender_confirmed(struct ep *ep)
{
	uint64_t count = 0;

	if (quic_confirm_count(&ep->confirm, &count) != 0) {
		ep_fail_app(ep, QUIC_APP_PROTOCOL, EXIT_FAIL,
		    "protocol error: short confirmation");
		return -1;
	}
	if (!ep->fin_sent || count != ep->filled) {
		ep_fail_app(ep, QUIC_APP_PROTOCOL, EXIT_FAIL, "receiver "
		    "confirmed %" PRIu64 " bytes, %" PRIu64 " were sent",
		    count, ep->filled);
		return -1;
	}
	/* Every byte reached the receiver's output: count as delivered
	 * what ACKs still in flight have not yet told us. */
	if (ep->o->progress != NULL && ep->filled > ep->acked)
		progress_add(ep->o->progress, ep->filled - ep->acked);
	ep->acked = ep->filled;
	ep->done = 1;
	return 0;
}

/* Things to do between poll rounds once the peer is authenticated. */
static void
progress_protocol(struct ep *ep)
{
	if (ep->is_sender) {
		stream_open(ep);
		if (ep->sid >= 0) {
			/* The count goes with the stream: keep the last. */
			uint64_t n = ngtcp2_conn_get_stream_loss_count(
			    ep->conn, ep->sid);
			if (n > ep->lost)
				ep->lost = n;
		}
		if (ep->confirm.fin && !ep->done && !ep->failed &&
		    sender_confirmed(ep) == 0) {
			ngtcp2_ccerr_set_application_error(&ep->ccerr,
			    QUIC_APP_OK, NULL, 0);
			ep->close_pending = 1;
		}
		return;
	}
	/* Receiver: consumed bytes reopen the window. */
	output_flush(ep);
	if (ep->sid >= 0 && ep->written > ep->extended) {
		uint64_t d = ep->written - ep->extended;
		ngtcp2_conn_extend_max_stream_offset(ep->conn, ep->sid, d);
		ngtcp2_conn_extend_max_offset(ep->conn, d);
		ep->extended = ep->written;
	}
	if (ep->fin_received && !ep->finished && !ep->failed &&
	    !output_pending(ep)) {
		struct rcp_error fe;

		ep->finished = 1;
		fe.status = EXIT_FAIL;
		fe.msg[0] = '\0';
		if (ep->o->finish != NULL &&
		    ep->o->finish(ep->o->finish_arg, &fe) != 0) {
			ep_fail_app(ep, QUIC_APP_RECEIVER_OUTPUT, fe.status,
			    "receiver output failed: %s", fe.msg);
			return;
		}
		/* Output finished: the confirmation may go. */
		quic_confirm_encode(ep->received, ep->confirm_out);
		ep->confirm_queued = 1;
	}
}

/*
 * Receiver: the sender vanished (ICMP unreachable) or fell silent after
 * our output was finished and the confirmation queued.  Everything up
 * to the sender's FIN is out, so the transfer is delivered; what was
 * lost is only the sender's acknowledgement of our confirmation (its
 * CONNECTION_CLOSE, dropped on the way).  Sets done and returns 1 then;
 * else returns 0.
 */
static int
receiver_delivered(struct ep *ep, const char *what)
{
	if (ep->is_sender || !ep->confirm_queued || ep->failed || ep->done)
		return 0;
	ep_log(ep, "warning: sender %s %s before acknowledging the "
	    "confirmation; the output is complete", ep->peer_text, what);
	ep->done = 1;
	return 1;
}

/*
 * The idle timeout in force is the shorter of the two ends' (RFC 9000
 * §10.1): name the one that fired.  The silence itself is longer: each
 * keep-alive we send restarts the timer, so it is measured, not assumed.
 */
static void
idle_timed_out(struct ep *ep)
{
	const ngtcp2_transport_params *rp =
	    ngtcp2_conn_get_remote_transport_params(ep->conn);
	unsigned secs = ep->o->idle_timeout;
	const char *whose = "--idle-timeout";
	double silent = progress_now() - ep->t_last_rx;

	if (!ep->handshake_done) {
		ep_fail(ep, EXIT_FAIL, "handshake with %s timed out",
		    ep->peer_text);
		return;
	}
	if (rp != NULL && rp->max_idle_timeout > 0 &&
	    rp->max_idle_timeout < (ngtcp2_duration)secs * NGTCP2_SECONDS) {
		secs = (unsigned)((rp->max_idle_timeout + NGTCP2_SECONDS / 2) /
		    NGTCP2_SECONDS);
		whose = "the peer's --idle-timeout";
	}
	ep_fail(ep, EXIT_FAIL, "connection timed out: nothing from %s for "
	    "%.0f s (idle timeout %u s, %s)", ep->peer_text, silent, secs,
	    whose);
}

static int
ep_loop(struct ep *ep)
{
	const struct quic_opts *o = ep->o;
	double accept_deadline = 0;

	if (ep->is_server && o->accept_timeout > 0)
		accept_deadline = progress_now() + o->accept_timeout;
	for (;;) {
		struct pollfd pfd[3];
		ngtcp2_tstamp expiry, now;
		int timeout, nfd = 1, want_input, cancel_at = -1;
		int output_at = -1;

		if (ep->conn != NULL && !ep->failed && !ep->done) {
			if (ep->handshake_done) {
				if (ep->is_server && !ep->connected) {
					/* Authenticated: this is our peer. */
					if (connect(ep->fd, &ep->remote.sa,
					    ep->remotelen) == 0)
						ep->connected = 1;
					if (ep->expect_pin == NULL)
						ep_log(ep, "accepted peer %s "
						    "with certificate %s",
						    ep->peer_text,
						    ep->got_pin);
				}
				if (ep->t_start == 0)
					ep->t_start = progress_now();
				progress_protocol(ep);
			}
			if (!ep->failed && !ep->close_pending && !ep->done)
				(void)write_packets(ep);
		}
		if (ep->peer_gone && !ep->failed && !ep->done)
			(void)read_packets(ep);	/* its last words first */
		if (ep->peer_gone && !ep->failed && !ep->done &&
		    receiver_delivered(ep, "went away"))
			continue;
		if (ep->peer_gone && !ep->failed && !ep->done) {
			if (ep->handshake_done)
				ep_fail(ep, EXIT_FAIL, "peer %s is gone "
				    "(connection refused)", ep->peer_text);
			else if (ep->peer_gone == ECONNREFUSED)
				ep_fail(ep, EXIT_FAIL, "%s: connection refused "
				    "(nothing listening?)", ep->peer_text);
			else
				ep_fail(ep, EXIT_FAIL, "%s: %s", ep->peer_text,
				    strerror(ep->peer_gone));
		}
		if (ep->failed || ep->done) {
			if (ep->is_server && !ep->handshake_done &&
			    !ep->done && ep->conn != NULL) {
				server_reset(ep);
				continue;
			}
			if (ep->close_pending)
				send_close(ep);
			return ep->done && !ep->failed ? 0 : -1;
		}

		now = now_ns();
		timeout = -1;
		if (ep->conn != NULL) {
			expiry = ngtcp2_conn_get_expiry(ep->conn);
			if (expiry <= now)
				timeout = 0;
			else if (expiry != UINT64_MAX)
				timeout = (int)((expiry - now + 999999) /
				    1000000);
		}
		if (ep->is_server && !ep->handshake_done &&
		    accept_deadline > 0) {
			double left = accept_deadline - progress_now();
			int ms;
			if (left <= 0) {
				ep_fail(ep, EXIT_FAIL, "no peer within %u s "
				    "(--accept-timeout)", o->accept_timeout);
				if (ep->conn != NULL) {
					ngtcp2_ccerr_set_application_error(
					    &ep->ccerr, QUIC_APP_INTERNAL,
					    NULL, 0);
					send_close(ep);
				}
				return -1;
			}
			ms = (int)(left * 1000) + 1;
			if (timeout < 0 || ms < timeout)
				timeout = ms;
		}
		pfd[0].fd = ep->fd;
		pfd[0].events = POLLIN | (ep->txlen > 0 ? POLLOUT : 0);
		want_input = ep->is_sender && ep->handshake_done &&
		    !ep->in_eof && ep->filled - ep->acked < SEND_RING_SIZE;
		if (want_input) {
			pfd[1].fd = o->data_fd;
			pfd[1].events = POLLIN;
			nfd = 2;
		}
		if (ep->out_stalled && !ep->failed) {
			pfd[nfd].fd = o->data_fd;
			pfd[nfd].events = POLLOUT;
			output_at = nfd++;
		}
		if (o->cancel_fd >= 0) {
			pfd[nfd].fd = o->cancel_fd;
			pfd[nfd].events = POLLIN;
			cancel_at = nfd++;
		}
		if (poll(pfd, (nfds_t)nfd, timeout) < 0) {
			if (errno == EINTR)
				continue;
			ep_fail(ep, EXIT_FAIL, "poll: %s", strerror(errno));
			return -1;
		}
		if (pfd[0].revents & (POLLIN | POLLERR))
			(void)read_packets(ep);
		if (cancel_at >= 0 && pfd[cancel_at].revents != 0) {
			ep_fail_app(ep, QUIC_APP_INTERNAL, EXIT_FAIL,
			    "cancelled");
			ep->cancelled = 1;	/* now: no closing period */
			if (ep->close_pending)
				send_close(ep);
			return -1;
		}
		if (want_input && pfd[1].revents & (POLLIN | POLLHUP |
		    POLLERR) && !ep->failed)
			input_read(ep);
		if (output_at >= 0 && pfd[output_at].revents != 0)
			ep->out_stalled = 0;	/* flushed at the loop's top */
		if (ep->conn != NULL && !ep->failed &&
		    ngtcp2_conn_get_expiry(ep->conn) <= now_ns()) {
			int rc = ngtcp2_conn_handle_expiry(ep->conn, now_ns());
			if (rc == NGTCP2_ERR_IDLE_CLOSE &&
			    receiver_delivered(ep, "fell silent")) {
				continue;
			} else if (rc == NGTCP2_ERR_IDLE_CLOSE) {
				idle_timed_out(ep);
			} else if (rc == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
				ep_fail(ep, EXIT_FAIL, "handshake with %s timed "
				    "out after %u s (--connect-timeout)",
				    ep->peer_text, o->connect_timeout);
			} else if (rc != 0) {
				ngtcp2_ccerr_set_liberr(&ep->ccerr, rc, NULL,
				    0);
				ep->close_pending = 1;
				ep_fail(ep, EXIT_FAIL, "QUIC: %s",
				    ngtcp2_strerror(rc));
			}
		}
	}
}

void
quic_opts_init(struct quic_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->data_fd = -1;
	o->ready_fd = -1;
	o->cancel_fd = -1;
	o->accept_timeout = QUIC_DEFAULT_ACCEPT_TIMEOUT;
	o->connect_timeout = QUIC_DEFAULT_CONNECT_TIMEOUT;
	o->idle_timeout = QUIC_DEFAULT_IDLE_TIMEOUT;
	o->cc = QUIC_CC_CUBIC;
}

int
quic_transfer(const struct quic_opts *o, struct quic_stats *st,
    struct rcp_error *e)
{
	struct quic_identity *eph = NULL;
	struct addrinfo *addrs, *ai;
	struct ep ep;
	int rc = -1;

	memset(&ep, 0, sizeof(ep));
	ep.o = o;
	ep.e = e;
	ep.fd = -1;
	ep.sid = -1;
	ep.is_server = o->role == QUIC_LISTEN;
	ep.is_sender = o->dir == QUIC_SEND;
	ep.alpn = (ep.is_server != ep.is_sender) ? QUIC_ALPN_C2S :
	    QUIC_ALPN_S2C;
	ep.expect_pin = ep.is_server ? o->peer_pin : o->pin;
	ngtcp2_ccerr_default(&ep.ccerr);
	if (e != NULL) {
		e->status = 0;
		e->msg[0] = '\0';
	}
	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if (!ep.is_server && o->pin == NULL) {
		error_set(e, EXIT_USAGE, "connecting needs the server's pin");
		return -1;
	}
	if (o->idle_timeout == 0) {
		error_set(e, EXIT_USAGE, "idle timeout must be at least 1 s");
		return -1;
	}
	ep.id = o->identity;
	if (ep.id == NULL) {
		if (quic_identity_generate(&eph, e) != 0)
			return -1;
		ep.id = eph;
	}
	ep.txbuf = malloc(TX_BUF_SIZE);
	ep.rxbuf = malloc(RX_BUF_SIZE);
	if (ep.is_sender)
		ep.ring = malloc(SEND_RING_SIZE);
	else if ((ep.obuf = mmap(NULL, OUTPUT_BUF_SIZE, PROT_READ |
	    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		ep.obuf = NULL;
	if (ep.txbuf == NULL || ep.rxbuf == NULL ||
	    (ep.is_sender ? ep.ring == NULL : ep.obuf == NULL)) {
		error_set_errno(e, EXIT_FAIL, "buffers");
		goto out;
	}
	if (gnutls_certificate_allocate_credentials(&ep.cred) < 0) {
		error_set(e, EXIT_FAIL, "TLS credentials: out of memory");
		ep.cred = NULL;
		goto out;
	}
	if (quic_identity_set_creds(ep.id, ep.cred, e) != 0)
		goto out;

	if (ep.is_server) {
		if (server_bind(&ep) == 0)
			rc = ep_loop(&ep);
	} else if (client_resolve(&ep, &addrs) == 0) {
		/* Like ssh: each address in turn while nothing answers. */
		for (ai = addrs; ai != NULL; ai = ai->ai_next) {
			if (client_start(&ep, ai) == 0)
				rc = ep_loop(&ep);
			if (rc == 0 || ai->ai_next == NULL ||
			    !client_try_next(&ep))
				break;
			client_reset(&ep);
		}
		freeaddrinfo(addrs);
	}
out:
	ep.t_end = progress_now();
	if (st != NULL) {
		st->bytes = ep.is_sender ? ep.acked : ep.written;
		st->seconds = ep.t_start > 0 ? ep.t_end - ep.t_start : 0;
		st->pkts_sent = ep.pkts_sent;
		st->pkts_recv = ep.pkts_recv;
		st->pkts_lost = ep.lost;
		snprintf(st->peer, sizeof(st->peer), "%s", ep.peer_text);
		if (ep.conn != NULL) {
			ngtcp2_conn_info ci;
			ngtcp2_conn_get_conn_info(ep.conn, &ci);
			st->srtt_ms = (double)ci.smoothed_rtt / 1e6;
			st->min_rtt_ms = ci.min_rtt == UINT64_MAX ? 0 :
			    (double)ci.min_rtt / 1e6;
		}
	}
	conn_free(&ep);
	if (ep.cred != NULL)
		gnutls_certificate_free_credentials(ep.cred);
	if (ep.fd >= 0)
		close(ep.fd);
	free(ep.txbuf);
	free(ep.rxbuf);
	free(ep.ring);
	if (ep.obuf != NULL)
		munmap(ep.obuf, OUTPUT_BUF_SIZE);
	quic_identity_free(eph);
	return rc;
}

void
quic_stats_format(const struct quic_stats *st, char *buf, size_t size)
{
	double mbps = st->seconds > 0 ? (double)st->bytes / st->seconds /
	    1e6 : 0;

	snprintf(buf, size, "stats: bytes=%" PRIu64 " seconds=%.3f "
	    "throughput=%.1fMB/s rtt=%.3fms min_rtt=%.3fms packets_sent=%"
	    PRIu64 " packets_received=%" PRIu64 " packets_lost=%" PRIu64
	    " peer=%s", st->bytes, st->seconds, mbps, st->srtt_ms,
	    st->min_rtt_ms, st->pkts_sent, st->pkts_recv, st->pkts_lost,
	    st->peer[0] ? st->peer : "-");
}
