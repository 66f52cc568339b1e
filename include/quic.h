/*
 * quic.h: the QUIC endpoint behind rcp-quic-send, rcp-quic-recv and
 * rcp-launch --pull/--push (SPEC §5).  ngtcp2 with GnuTLS, TLS 1.3.
 *
 * The protocol (documented for users in rcp-quic-send(1)):
 *  - ALPN "rcp-entropy/1/c2s" when the client sends the data,
 *    "rcp-entropy/1/s2c" when the server does, so that two senders or two
 *    receivers fail the handshake instead of waiting for each other.
 *  - Both ends present a certificate; each checks the other's SHA-256
 *    certificate fingerprint (the "pin") in a GnuTLS verify callback.
 *    There is no CA chain.
 *  - The sender opens one bidirectional stream and writes the data, then
 *    FIN.  The receiver, once its output is finished (written, flushed,
 *    closed or committed), writes the 8-byte big-endian count of bytes it
 *    received, then FIN, on the same stream.  The sender checks the count
 *    and closes the connection with NO_ERROR; only then is the transfer
 *    delivered.
 *  - Striping (--connections N, N > 1): the sender spreads the data over
 *    N connections, each with its own congestion control, so that one
 *    loss slows one of them only.  ALPN "rcp-entropy/2/..." says so.
 *    The connecting side opens them one after another, each once the
 *    previous one's handshake is confirmed, to the address the first
 *    one reached; the listener takes each on its port (SO_REUSEPORT,
 *    a connected socket per connection), and only from the certificate
 *    the first one showed.  Each connection's stream starts with a
 *    header, QUIC_STRIPE_HDR_LEN bytes: "RCPSTRIP", u16 index, u16
 *    count, u32 block size, 16 random bytes naming the transfer (all
 *    big-endian); then blocks: u64 offset, u32 length, the data.  Every
 *    block but the last of the whole stream is the block size long;
 *    each offset is a multiple of it.  A header with a count of 1 is
 *    followed by the data itself, unframed: a sender that found the
 *    path short decided so after the handshake.  Each connection ends and is
 *    confirmed as above (its own stream's count), and a receiver
 *    confirms none of them before the whole output is finished.
 *  - --resume (ALPN "rcp-entropy/3/..." on the first connection: version
 *    2, the receiver speaking first): the receiver's unidirectional
 *    stream carries "RCPRESUM", u64 bytes its partial output holds, u64
 *    the source size an earlier run recorded (QUIC_SIZE_UNKNOWN: none),
 *    their SHA-256; FIN.  The sender sends nothing before it; it reads
 *    and hashes that many input bytes and refuses with QUIC_APP_RESUME
 *    when they differ, or else starts its data stream with "RCPRESOK",
 *    u64 bytes skipped, u64 its input's size, and goes on as in version
 *    2 with the rest of its input.
 *  - Any other end is a failure: CONNECTION_CLOSE carries one of the
 *    QUIC_APP_* codes below and a short reason, an idle timeout or a
 *    peer that vanished (ICMP unreachable) fails both sides.
 *
 * Every function returns 0, or -1 with *e filled in (status from SPEC §1:
 * 1 failure, 2 configuration, 4 authentication); none of them prints.
 */
#ifndef RCP_QUIC_H
#define RCP_QUIC_H

#include <stddef.h>
#include <stdint.h>

#include "progress.h"
#include "rcp.h"

/* Application error codes in CONNECTION_CLOSE. */
enum {
	QUIC_APP_OK = 0,		/* transfer confirmed, clean close */
	QUIC_APP_SENDER_INPUT = 1,	/* sender could not read its input */
	QUIC_APP_RECEIVER_OUTPUT = 2,	/* receiver could not write/commit */
	QUIC_APP_PROTOCOL = 3,		/* peer broke the protocol above */
	QUIC_APP_INTERNAL = 4,		/* local failure (memory, crypto) */
	QUIC_APP_RESUME = 5,		/* sender: the partial output is not
					   a prefix of this input */
};

#define QUIC_ALPN_C2S "rcp-entropy/1/c2s"
#define QUIC_ALPN_S2C "rcp-entropy/1/s2c"
#define QUIC_ALPN2_C2S "rcp-entropy/2/c2s"
#define QUIC_ALPN2_S2C "rcp-entropy/2/s2c"
#define QUIC_ALPN3_C2S "rcp-entropy/3/c2s"
#define QUIC_ALPN3_S2C "rcp-entropy/3/s2c"
#define QUIC_STRIPE_HDR_LEN 32
#define QUIC_STRIPE_BLOCK_HDR_LEN 12
#define QUIC_CONNECTIONS_MAX 16
#define QUIC_AUTO_CONNECTIONS 8
#define QUIC_AUTO_RTT_MS 10
#define QUIC_AUTO_BYTES_PER_CONNECTION (8u << 20)	/* of a file */

/* Defaults of SPEC §5, in seconds. */
#define QUIC_DEFAULT_ACCEPT_TIMEOUT 120
#define QUIC_DEFAULT_CONNECT_TIMEOUT 15
#define QUIC_DEFAULT_IDLE_TIMEOUT 30

/* "sha256:" and 64 lowercase hex digits, plus the NUL. */
#define QUIC_PIN_PREFIX "sha256:"
#define QUIC_PIN_LEN (7 + 64)
#define QUIC_PIN_SIZE (QUIC_PIN_LEN + 1)

/* Longest host text we handle (DNS name or address literal). */
#define QUIC_HOST_MAX 256
/* Ready line: QUIC_READY_TAG host ":" port " " pin, without newline. */
#define QUIC_READY_TAG "RCP_QUIC "
#define QUIC_READY_MAX (sizeof(QUIC_READY_TAG) - 1 + 2 + QUIC_HOST_MAX + \
	6 + 1 + QUIC_PIN_LEN + 2)

/* ---- identities -------------------------------------------------------- */

/*
 * A private key and its self-signed certificate.  Opaque; key material
 * is wiped by quic_identity_free.
 */
struct quic_identity;

/* A fresh ECDSA P-256 key and certificate, in memory only. */
int quic_identity_generate(struct quic_identity **out, struct rcp_error *e);
/*
 * PEM private key (PKCS#8 or SEC1) plus PEM certificate, in either order,
 * from a file (may be /dev/fd/N) or a buffer.  A missing part, or a key
 * that does not belong to the certificate, is status 2.
 */
int quic_identity_load_file(struct quic_identity **out, const char *path,
    struct rcp_error *e);
int quic_identity_load_pem(struct quic_identity **out, const void *pem,
    size_t len, struct rcp_error *e);
/*
 * The identity as PEM text (key, then certificate), NUL-terminated, in
 * *pem (length without the NUL in *len).  Release it with quic_pem_free,
 * which wipes it.
 */
int quic_identity_export_pem(const struct quic_identity *id, char **pem,
    size_t *len, struct rcp_error *e);
void quic_pem_free(char *pem, size_t len);
/*
 * Writes the PEM to a new file, mode 0600; an existing file is refused
 * (status 2) unless force, which replaces it atomically.
 */
int quic_identity_write_file(const struct quic_identity *id,
    const char *path, int force, struct rcp_error *e);
/* "sha256:<64 lowercase hex>" of the certificate's DER; lives with id. */
const char *quic_identity_pin(const struct quic_identity *id);
void quic_identity_free(struct quic_identity *id);

/*
 * Checks a pin given by a user ("sha256:" and 64 hex digits, either
 * case) and writes it normalised to lowercase into out.  Status 2.
 */
int quic_pin_parse(const char *s, char out[QUIC_PIN_SIZE],
    struct rcp_error *e);

/* ---- addresses and the ready line ------------------------------------ */

/*
 * Splits "HOST:PORT", "[V6]:PORT", or (allow_bare_port) "PORT" alone.
 * host gets "" for a bare port; brackets are removed.  Status 2.
 */
int quic_parse_hostport(const char *s, int allow_bare_port,
    char host[QUIC_HOST_MAX], uint16_t *port, struct rcp_error *e);

#define QUIC_PORT_RANGES_MAX 16
struct quic_port_range {
	uint16_t lo, hi;	/* inclusive, 1 <= lo <= hi */
};
/* "LO-HI[,LO-HI...]" (a single "P" means P-P).  Status 2. */
int quic_parse_port_ranges(const char *s, struct quic_port_range *r,
    size_t *n, struct rcp_error *e);

/*
 * "RCP_QUIC <host>:<port> <pin>" without a newline; an IPv6 literal host
 * is bracketed.  Returns 0, or -1 if buf is too small or host empty.
 */
int quic_ready_format(char *buf, size_t size, const char *host,
    uint16_t port, const char *pin);
/*
 * Strict parse of one ready line (a trailing "\n" or "\r\n" allowed,
 * nothing else): host (brackets removed), port 1..65535, pin.  Status 1
 * (it comes from a peer, not from the user).
 */
int quic_ready_parse(const char *line, char host[QUIC_HOST_MAX],
    uint16_t *port, char pin[QUIC_PIN_SIZE], struct rcp_error *e);

/* ---- the transfer ------------------------------------------------------ */

enum quic_role { QUIC_LISTEN, QUIC_CONNECT };
enum quic_dir { QUIC_SEND, QUIC_RECV };
enum quic_cc { QUIC_CC_CUBIC, QUIC_CC_BBR, QUIC_CC_RENO };

struct quic_opts {
	enum quic_role role;
	enum quic_dir dir;
	/*
	 * listen: the address to bind ("" or NULL: the wildcard, dual-stack
	 * "::" where available); connect: a host name or address literal.
	 */
	const char *host;
	uint16_t port;		/* listen: 0 = ephemeral (or ranges) */
	const struct quic_port_range *ranges;	/* listen, port 0 only */
	size_t nranges;
	const char *pin;	/* connect: required, normalised server pin */
	const char *peer_pin;	/* listen: NULL accepts any client */
	/* Our certificate; NULL makes an ephemeral one.  Not taken over. */
	const struct quic_identity *identity;
	/* QUIC_SEND: read until EOF; QUIC_RECV: write everything here. */
	int data_fd;
	/* data_fd's name in our own messages; NULL: stdin or stdout. */
	const char *data_name;
	/* listen: the ready line (with "\n") goes here once bound; -1 none. */
	int ready_fd;
	/* listen: called with the ready line (no "\n") once bound; or NULL. */
	void (*on_ready)(void *arg, const char *line);
	void *on_ready_arg;
	const char *advertise;	/* host printed instead of a wildcard */
	unsigned accept_timeout;	/* seconds, 0 = forever (listen) */
	unsigned connect_timeout;	/* seconds, handshake bound */
	unsigned idle_timeout;		/* seconds, >= 1 */
	enum quic_cc cc;
	/* QUIC_SEND: stream bytes per second at most (0: no limit). */
	uint64_t limit_rate;
	/*
	 * QUIC_SEND: connections to stripe the data over, 1 to
	 * QUIC_CONNECTIONS_MAX, or 0 (the default): QUIC_AUTO_CONNECTIONS
	 * when the handshake's round trip is QUIC_AUTO_RTT_MS or more, else
	 * one; and for a regular file, no more than one per
	 * QUIC_AUTO_BYTES_PER_CONNECTION left to send.  The receiver takes
	 * what the sender says.
	 */
	unsigned connections;
	struct progress *progress;	/* or NULL */
	/*
	 * QUIC_RECV: called once the sender's FIN arrived and every byte was
	 * written to data_fd, before the confirmation goes out.  Finish the
	 * output here (close, fsync, atomic commit); return 0, or -1 with *e
	 * filled in to fail the transfer (the sender is told).  NULL: the
	 * library only checks that the writes succeeded.
	 */
	int (*finish)(void *arg, struct rcp_error *e);
	void *finish_arg;
	/*
	 * Non-fatal events (a refused peer while listening, "accepting any
	 * peer" is the caller's to print).  NULL: silent.
	 */
	void (*log)(void *arg, const char *msg);
	void *log_arg;
	/*
	 * -1, or an fd another thread makes readable (or closes the other
	 * end of) to cancel: quic_transfer closes the connection with
	 * QUIC_APP_INTERNAL and returns -1, status 1, "cancelled".
	 */
	int cancel_fd;
	const char *cancel_reason;	/* sent to the peer; NULL: "cancelled" */
	/* Debugging switches, off by default; the programs set them from
	 * RCP_QUIC_DEBUG and RCP_QUIC_NO_GSO. */
	int debug;		/* ngtcp2's own log on stderr */
	int no_gso;		/* one datagram per sendmsg */
	/*
	 * QUIC_RECV, --resume: the output already holds resume_have bytes
	 * of an earlier, failed transfer (a partial file), whose SHA-256 is
	 * resume_sha256; resume_size is the size the sender gave for its
	 * input then (QUIC_SIZE_UNKNOWN: none recorded).  The receiver
	 * offers ALPN version 3 only and tells the sender this before any
	 * data flows; the stream then carries the input from that offset.
	 */
	int resume;
	uint64_t resume_have;
	uint8_t resume_sha256[32];
	uint64_t resume_size;
	/*
	 * QUIC_RECV with resume: called once the sender accepted, before
	 * any data, with the size of its input (QUIC_SIZE_UNKNOWN for a
	 * pipe).  Return 0, or -1 with *e filled in to fail the transfer.
	 * NULL: nothing to do.
	 */
	int (*on_resume)(void *arg, uint64_t source_size,
	    struct rcp_error *e);
	void *on_resume_arg;
};

#define QUIC_SIZE_UNKNOWN UINT64_MAX

/* Fills o with the defaults above: ports, pins and fds still to set. */
void quic_opts_init(struct quic_opts *o);

struct quic_stats {
	uint64_t bytes;		/* stream payload sent or received */
	double seconds;		/* handshake done to delivery (quic_ep.h) */
	double srtt_ms, min_rtt_ms;
	uint64_t pkts_sent, pkts_recv, pkts_lost;
	char peer[QUIC_HOST_MAX + 8];	/* "addr:port" of the peer */
	int data_failed;	/* data_fd failed here: e names it */
	enum quic_cc cc;	/* the congestion control in force */
	unsigned connections;	/* how many carried the data */
	/* --resume: input bytes the sender skipped (receiver: the bytes
	 * its partial output already held). */
	uint64_t skipped;
};

/*
 * Runs one whole transfer: listen (one authenticated peer, then no
 * more) or connect, then send data_fd to EOF or receive into it.
 * Returns 0 only when the transfer is confirmed end to end (see the top
 * of this file); else -1 with *e: 4 for a pin mismatch or a refusal by
 * the peer, 1 for everything else (timeouts, network, peer failures,
 * local I/O), 2 for an unusable local address or identity.  st (may be
 * NULL) is filled in either way.
 */
int quic_transfer(const struct quic_opts *o, struct quic_stats *st,
    struct rcp_error *e);

/*
 * --resume, receiver: the SHA-256 of the first len bytes of fd (read
 * with pread from offset 0; the file offset is not moved) into out.
 * 0, or -1 with *e (status 1; a file shorter than len is an error).
 */
int quic_resume_digest(int fd, uint64_t len, uint8_t out[32],
    struct rcp_error *e);

/* One line, no newline: "bytes=... seconds=... throughput=... ..." */
void quic_stats_format(const struct quic_stats *st, char *buf, size_t size);

#endif
