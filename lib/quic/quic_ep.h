/*
 * quic_ep.h: the QUIC engine's endpoint (struct ep), shared by the files
 * of lib/quic that implement quic_transfer, and by nobody else:
 *
 *   ep.c         failures, the log, addresses, the clock
 *   tls.c        the TLS session and the pin check
 *   conn.c       the ngtcp2 connection: settings, callbacks, packets in
 *   stream.c     the data stream: the sender's ring, the receiver's
 *                buffer, flow control
 *   udp.c        the UDP socket: GSO batches out, GRO trains in
 *   listener.c   --listen: binding, address validation (Retry), the
 *                ready line
 *   handshakes.c --listen: several handshakes at once until one peer
 *                authenticates
 *   connector.c  --connect: each address in turn
 *   quic.c       the poll loop, the end-to-end confirmation, ep_transfer
 *   stripe*.c    quic_transfer: one endpoint, or several in threads of
 *                their own joined by a coordinator (stripe.h)
 *
 * One transfer, listening or connecting, sending or receiving (the
 * protocol is described in quic.h).  One UDP socket, one connection, one
 * poll loop.  The listener runs several handshakes until one peer
 * authenticates, then connect()s its socket to that peer: the kernel filters strangers from then on and an
 * ICMP "port unreachable" from a vanished peer surfaces as ECONNREFUSED.
 *
 * Data path.  The sender reads its input into a ring that holds every
 * byte until the peer acknowledges it (ngtcp2 does not copy stream
 * data); packets are written many at a time and sent with UDP GSO, one
 * sendmsg per batch.  The receiver reads with UDP GRO, collects stream
 * data in a buffer and writes what its output takes without waiting for
 * a pipe's reader (io_write_nowait), so that it keeps answering its peer;
 * the flow control window is extended only for bytes that were written.
 */
#ifndef RCP_QUIC_EP_H
#define RCP_QUIC_EP_H

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

#include "core/clock.h"
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
/*
 * What a socket buffer must hold, below which a user whose kernel caps
 * ours (net.core.rmem_max, wmem_max) is told the sysctl, once (udp.c).
 * Receiving: the bandwidth-delay product of SOCKBUF_RATE at the path's
 * minimum round trip, at most SOCKET_BUF_SIZE, as TCP's autotuning
 * would size it; judged once SOCKBUF_JUDGE_AFTER stream bytes came in,
 * when the round trip was measured on data, not on the handshake's
 * crypto.  Loopback and paths under SOCKBUF_RTT_MIN are not judged: a
 * datagram dropped there costs a few milliseconds at most, and their
 * measured round trip is mostly the two processes' scheduling (a loaded
 * 2-core host measured 0.07-5.7 ms on loopback).  Sending: two GSO
 * batches (unacknowledged data waits in our ring, not in the kernel).
 */
#define SOCKBUF_RATE 125000000u		/* bytes/s: 1 Gbit/s */
#define SOCKBUF_RTT_MIN (10 * NGTCP2_MILLISECONDS)
#define SOCKBUF_JUDGE_AFTER (1u << 20)
#define SOCKBUF_SEND_NEED (2 * TX_BATCH_BYTES)
#define CID_LEN 16
#define REASON_MAX QUIC_REASON_MAX
#define CONFIRM_LEN QUIC_CONFIRM_LEN
#define CLOSE_LINGER_MAX 2.0		/* seconds, closing period at most */
/*
 * --resume (ALPN version 3, quic.h): the receiver's request on a stream
 * of its own, "RCPRESUM", u64 bytes it has, u64 source size it recorded,
 * their SHA-256; the sender's answer before the stripe header on the
 * data stream, "RCPRESOK", u64 bytes skipped, u64 its input's size.
 */
#define RESUME_REQ_MAGIC "RCPRESUM"
#define RESUME_OK_MAGIC "RCPRESOK"
#define RESUME_REQ_LEN 56
#define RESUME_OK_LEN 24
#define EP_HDR_MAX (RESUME_OK_LEN + QUIC_STRIPE_HDR_LEN)
/* How a peer's own reason for closing starts (stripe.c prefers it). */
#define PEER_FAILED "peer failed: "
/*
 * s: a handshake whose peer sent nothing new this long may give way to a
 * newcomer when the table is full.  Long enough for a live peer's
 * retransmission (PTO) and for a loaded host (100 strangers at once
 * under ASan took over a second to answer in CI).
 */
#define HANDSHAKE_YIELD 3.0
#define HANDSHAKE_YIELD_MAX 10.0	/* s, whatever the round trip */
#define HANDSHAKE_AGE_MAX 10.0		/* s: older ones give way too */
#define HS_MAX 16		/* a listener's handshakes at once */
#define HS_PER_ADDR 4		/* of which from one IP address */
#define HS_LOST_REASON "another peer was accepted"
#define HANDSHAKE_YIELD_REASON "handshake too slow: the listener went on " \
	"to another peer"
/* A Retry token proves its holder's address this long (RFC 9000 §8.1). */
#define RETRY_TOKEN_LIFETIME (10 * NGTCP2_SECONDS)

#define TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:" \
	"+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:" \
	"%DISABLE_TLS13_COMPAT_MODE"

typedef union {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
} sockaddr_u;

/* TLS and the pins. */
struct ep_auth {
	gnutls_certificate_credentials_t cred;
	const struct quic_identity *id;
	gnutls_session_t session;
	ngtcp2_crypto_conn_ref ref;
	const char *alpn[3];	/* what we speak, preferred first */
	size_t nalpn;
	const char *expect_pin;	/* NULL: accept any peer */
	char got_pin[QUIC_PIN_SIZE];
	int pin_mismatch;
};

/* --resume: the request, and the sender's check of it (resume.c). */
struct ep_resume {
	int on;			/* ALPN v3 agreed: the receiver asks first */
	int64_t sid;		/* receiver: the request's stream, or -1 */
	uint8_t msg[RESUME_REQ_LEN];	/* the request */
	size_t len;		/* receiver: of it sent; sender: received */
	int skipping;		/* sender: hashing what the receiver has */
	int decided;		/* sender: checked, skipped, on_decide asked */
	uint64_t have, left;	/* sender: the receiver's bytes; to skip */
	uint64_t size;		/* sender: its input's, QUIC_SIZE_UNKNOWN */
	gnutls_hash_hd_t hash;
};

/* Our CONNECTION_CLOSE, once decided. */
struct ep_close {
	ngtcp2_ccerr ccerr;
	int pending;
	char reason[REASON_MAX + 1];
};

/* Sender: the ring of input bytes, kept until acknowledged. */
struct ep_ring {
	uint8_t *ring;
	size_t size;		/* SEND_RING_SIZE, or less for a stripe */
	uint64_t acked, filled;	/* stream offsets; xf.sent went to QUIC */
	int in_eof;
	/* --limit-rate: a token bucket of stream bytes (rate.c). */
	double tokens, t_tokens;
	double rate_wake;	/* data waits on the bucket until then; 0 */
};

/* Receiver: the output buffer; xf.written is how far it went out. */
struct ep_out {
	uint8_t *buf;
	size_t head, len;	/* buf[head..len) not yet written */
	size_t touched;		/* pages used since the last release */
	struct io_nowait w;	/* io_write_nowait's memory of data_fd */
	int stalled;		/* a write took nothing: wait for POLLOUT */
	uint64_t extended;	/* flow-control credit given for writes */
};

/* The UDP socket's buffers and state. */
struct ep_udp {
	uint8_t *txbuf;
	size_t txlen, txseg;	/* a batch that met EAGAIN, to resend */
	int gso;
	uint8_t *rxbuf;
	int peer_gone;		/* its errno: ICMP said the peer is gone */
	/* Granted, in setsockopt's units (half of getsockopt's); 0: unknown. */
	unsigned rcvbuf, sndbuf;
	int buf_judged;		/* ep_sockbuf_advice was asked */
};

struct ep;

/*
 * One connection of a striped transfer (stripe.c) runs as an endpoint
 * with a link to its coordinator; a transfer over one connection has
 * none (NULL).  The hooks run in the endpoint's thread.
 */
struct ep_link {
	void *arg;
	/* The protocols this end speaks (quic.h); v3 is v2 after the
	 * --resume request. */
	int alpn_v1, alpn_v2, alpn_v3;
	int listen_fd;		/* listen: a socket bound already, or -1 */
	/*
	 * listen, after the first connection: its peer's address, which
	 * proved itself already; its next connections skip the Retry.
	 */
	const sockaddr_u *proven;
	size_t readahead;	/* sender: unsent ring bytes at most */
	uint32_t window;	/* flow-control window, 0: STREAM_WINDOW */
	size_t ring;		/* sender's ring, 0: SEND_RING_SIZE */
	/* receiver: poll for POLLIN while o->finish returns 1 (not yet). */
	int finish_fd;
	int cancel_fd;		/* as o->cancel_fd: the coordinator's; -1 */
	int input_fd;		/* sender: the input, read when alone */
	/*
	 * Receiver, striping (ALPN v2): the stream's header arrived.
	 * Returns the fd to write the rest of the stream into (the output
	 * itself when the transfer has one connection), or -1 with *e
	 * filled in.
	 */
	int (*on_header)(void *arg, const uint8_t *hdr, struct rcp_error *e);
	/*
	 * Sender, first connection: the handshake is done and the round
	 * trip sampled.  Returns how many connections the transfer has (1:
	 * this one carries the input itself, after the header the hook
	 * wrote into hdr; hdr NULL: the peer speaks version 1 only, no
	 * header, one connection).
	 */
	unsigned (*on_decide)(void *arg, const struct ep *ep,
	    uint8_t hdr[QUIC_STRIPE_HDR_LEN]);
	/*
	 * Listener, striping: the peer authenticated and its connection
	 * moved to a socket of its own; listen_fd, still bound and
	 * listening, is the hook's to keep or close.
	 */
	void (*on_accepted)(void *arg, int listen_fd, const char *peer_pin,
	    const sockaddr_u *peer);
	/* Connector: the handshake is confirmed (the server finished it). */
	void (*on_confirmed)(void *arg, const struct ep *ep);
};

/* One endpoint: one socket, one connection, one transfer. */
struct ep {
	const struct quic_opts *o;
	const struct ep_link *link;	/* NULL: not striped */
	int data_fd;		/* o->data_fd, or the coordinator's pipe */
	int striped;		/* ALPN v2 was agreed */
	/* Striping: the stream's header, sent or taken in (the first
	 * hdr_len stream bytes are not data: not counted as such). */
	uint8_t hdr[EP_HDR_MAX];	/* v3: the answer to --resume first */
	size_t hdr_len, hdr_got;
	int to_coordinator;	/* receiver: data_fd is a stripe's pipe */
	int finish_pending;	/* receiver: o->finish said "not yet" */
	uint32_t window;	/* flow-control window */
	struct rcp_error *e;
	int failed;		/* e is filled in; stop */
	int is_server, is_sender;
	int fd;
	sockaddr_u local, remote;
	socklen_t locallen, remotelen;
	int connected;		/* fd connect()ed to remote */
	char peer_text[QUIC_HOST_MAX + 8];
	ngtcp2_conn *conn;
	int handshake_done;
	int cancelled;
	int data_failed;	/* our data_fd failed (quic_stats) */

	struct ep_auth auth;
	struct ep_close close;
	int64_t sid;		/* the data stream, -1 until there */
	int stream_blocked;	/* flow control: retry on next write round */
	struct quic_xfer xf;	/* the confirmation; xf.done: delivered */
	struct ep_ring snd;
	struct ep_out rcv;
	struct ep_udp udp;
	struct ep_resume resume;

	/*
	 * --stats' seconds: from the end of the handshake until the
	 * transfer was confirmed (sender) or the output finished and the
	 * confirmation queued (receiver), so that both ends count the same
	 * span, within a round trip.  Not the end of quic_transfer: the
	 * sender's closing period (up to CLOSE_LINGER_MAX) came after it,
	 * which the receiver does not wait out.  A failed run ends at its
	 * failure.
	 */
	double t_start, t_end;
	double t_last_rx;	/* the peer's last packet taken */
	double t_hs_start;	/* server: the current handshake's start */
	double t_hs_progress;	/* server: its peer's last new handshake bytes */
	uint8_t retry_secret[32];	/* server: keys its Retry tokens */
	struct ep_hs *hs;	/* server: handshakes until one wins */
	uint64_t pkts_sent, pkts_recv;
	uint64_t lost;
};

/* rate.c (--limit-rate) */
size_t ep_rate_allowance(struct ep *ep, size_t want);
void ep_rate_spent(struct ep *ep, uint64_t n);
int ep_rate_wait_ms(struct ep *ep);

/* ep.c (failures, the log, addresses, the clock) */
ngtcp2_tstamp ep_now(void);
void ep_log(struct ep *ep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void __attribute__((format(printf, 3, 4))) ep_fail(struct ep *ep, int
    status, const char *fmt, ...);
void ep_fail_app(struct ep *ep, uint64_t code, int status, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
void ep_fail_told(struct ep *ep, uint64_t code, int status, const char *told,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void ep_addr_text(const sockaddr_u *a, char *buf, size_t size);
int ep_addr_eq(const sockaddr_u *a, const sockaddr_u *b);

/* tls.c (TLS) */
int ep_tls_new(struct ep *ep);

/* conn.c (the ngtcp2 connection) */
extern const ngtcp2_callbacks ep_callbacks_client, ep_callbacks_server;
void ep_conn_settings(struct ep *ep, ngtcp2_settings *s,
    ngtcp2_transport_params *p);
void ep_conn_keepalive(struct ep *ep);
void ep_sender_decide(struct ep *ep);
void ep_conn_free(struct ep *ep);
void ep_attempt_forget(struct ep *ep);
void ep_feed(struct ep *ep, const uint8_t *pkt, size_t len);

/* stream.c (the data stream) */
int ep_acked_cb(ngtcp2_conn *conn, int64_t sid, uint64_t off, uint64_t len,
    void *ud, void *sud);
void ep_output_flush(struct ep *ep);
int ep_output_pending(const struct ep *ep);
int ep_recv_stream_data_cb(ngtcp2_conn *conn, uint32_t flags, int64_t sid,
    uint64_t off, const uint8_t *data, size_t len, void *ud, void *sud);
int ep_stream_close_cb(ngtcp2_conn *conn, uint32_t flags, int64_t sid,
    uint64_t code, void *ud, void *sud);
int ep_stream_reset_cb(ngtcp2_conn *conn, int64_t sid, uint64_t final_size,
    uint64_t code, void *ud, void *sud);
int ep_stop_sending_cb(ngtcp2_conn *conn, int64_t sid, uint64_t code,
    void *ud, void *sud);
void ep_stream_open(struct ep *ep);
size_t ep_stream_pending(struct ep *ep, ngtcp2_vec vec[2], int *fin,
    int64_t *sid);
void ep_stream_account(struct ep *ep, int64_t sid, ngtcp2_ssize n, int fin,
    size_t total);
void ep_input_read(struct ep *ep);

/*
 * resume.c (--resume).  Receiver: ep_resume_ask opens the request's
 * stream once the handshake is done; ep_resume_pending gives its bytes
 * to send; ep_resume_answered checks the sender's answer (hdr).
 * Sender: ep_resume_take gathers the request from the peer's stream,
 * ep_resume_input is the fd to poll while ep_resume_skip hashes what
 * the receiver has.  ep_resume_free: the hash, if any.
 */
void ep_resume_ask(struct ep *ep);
size_t ep_resume_pending(struct ep *ep, ngtcp2_vec *vec, int64_t *sid);
void ep_resume_sent(struct ep *ep, size_t n);
int ep_resume_answered(struct ep *ep, const uint8_t *ok);
void ep_resume_take(struct ep *ep, const uint8_t *data, size_t len, int fin);
int ep_resume_input(const struct ep *ep);
void ep_resume_skip(struct ep *ep);
void ep_resume_deadline(struct ep *ep);
void ep_resume_free(struct ep *ep);

/* udp.c (the UDP socket) */
void ep_socket_tune(struct ep *ep);
int ep_sockbuf_advice(int is_sender, unsigned granted, uint64_t min_rtt,
    char *buf, size_t size);
void ep_send_close(struct ep *ep);
int ep_write_packets(struct ep *ep);
int ep_read_packets(struct ep *ep);

/* listener.c (--listen) */
int ep_server_validate(struct ep *ep, const uint8_t *pkt, size_t len,
    ngtcp2_pkt_hd *hd, ngtcp2_cid *odcid);
int ep_server_accept(struct ep *ep, const ngtcp2_pkt_hd *hd,
    const ngtcp2_cid *odcid, int retried);
void ep_server_reset(struct ep *ep);
int ep_server_bind(struct ep *ep);
void ep_server_authenticated(struct ep *ep);

/*
 * handshakes.c (--listen, until a peer authenticates).  ep_listening:
 * the table is there (each call below needs it).  ep_handshakes_each
 * runs fn on each handshake loaded into ep; it returns 1 when one was
 * promoted (the table is gone, the winner loaded).  ep_handshakes_feed
 * takes a datagram from `from`.  ep_handshakes_close ends them all
 * with an application error; ep_handshakes_free just frees.
 */
struct ep_hs;
int ep_handshakes_init(struct ep *ep);
int ep_listening(const struct ep *ep);
int ep_handshakes_each(struct ep *ep, void (*fn)(struct ep *));
ngtcp2_tstamp ep_handshakes_expiry(const struct ep *ep);
void ep_handshakes_feed(struct ep *ep, const sockaddr_u *from,
    socklen_t fromlen, const uint8_t *pkt, size_t len);
void ep_handshakes_close(struct ep *ep, uint64_t app_code);
void ep_handshakes_free(struct ep *ep);

/* connector.c (--connect) */
int ep_client_resolve(struct ep *ep, struct addrinfo **res);
int ep_client_try_next(const struct ep *ep);
void ep_client_reset(struct ep *ep);
int ep_client_start(struct ep *ep, const struct addrinfo *ai);

/* quic.c (the loop) */
int ep_sender_confirmed(struct ep *ep);
/* quic_transfer for one connection, on its own or as a stripe. */
int ep_transfer(const struct quic_opts *o, const struct ep_link *link,
    struct quic_stats *st, struct rcp_error *e);

#endif
