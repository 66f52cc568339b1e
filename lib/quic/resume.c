/*
 * resume.c: --resume, ALPN version 3 (quic.h).  The receiver tells the
 * sender how many bytes its partial output holds and their SHA-256,
 * before any data flows; the sender reads and hashes that many bytes of
 * its input, and either answers and goes on from there or refuses with
 * QUIC_APP_RESUME.  The digest is what makes it safe: a regular file is
 * read too, not just seeked, so that a changed source is never joined
 * to the old one's bytes.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include "core/be.h"
#include "quic_ep.h"

/* ---- receiver ---------------------------------------------------------- */

void
ep_resume_ask(struct ep *ep)
{
	const struct quic_opts *o = ep->o;
	int rc;

	if (!ep->resume.on || ep->resume.sid >= 0 || ep->failed)
		return;
	rc = ngtcp2_conn_open_uni_stream(ep->conn, &ep->resume.sid, NULL);
	if (rc == NGTCP2_ERR_STREAM_ID_BLOCKED) {
		ep->resume.sid = -1;
		return;		/* the peer will raise its limit */
	}
	if (rc != 0) {
		ep->resume.sid = -1;
		ep_fail(ep, EXIT_FAIL, "cannot open stream: %s",
		    ngtcp2_strerror(rc));
		return;
	}
	memcpy(ep->resume.msg, RESUME_REQ_MAGIC, 8);
	be64_put(ep->resume.msg + 8, o->resume_have);
	be64_put(ep->resume.msg + 16, o->resume_size);
	memcpy(ep->resume.msg + 24, o->resume_sha256, 32);
	ep->resume.len = 0;
}

/* The request's bytes not yet given to ngtcp2 (1 vec, FIN), or -1. */
size_t
ep_resume_pending(struct ep *ep, ngtcp2_vec *vec, int64_t *sid)
{
	if (ep->is_sender || ep->resume.sid < 0 ||
	    ep->resume.len > RESUME_REQ_LEN)
		return (size_t)-1;
	vec->base = ep->resume.msg + ep->resume.len;
	vec->len = RESUME_REQ_LEN - ep->resume.len;
	*sid = ep->resume.sid;
	return 1;
}

void
ep_resume_sent(struct ep *ep, size_t n)
{
	ep->resume.len += n;
	if (ep->resume.len == RESUME_REQ_LEN)
		ep->resume.len++;	/* and its FIN: done */
}

/*
 * The sender's answer, first on the data stream: it skipped what we
 * have.  Its size goes to o->on_resume, to be recorded for next time.
 * 0, or -1 with the transfer failed.
 */
int
ep_resume_answered(struct ep *ep, const uint8_t *ok)
{
	const struct quic_opts *o = ep->o;
	uint64_t skipped = be64_get(ok + 8), size = be64_get(ok + 16);
	struct rcp_error e;

	if (memcmp(ok, RESUME_OK_MAGIC, 8) != 0 || skipped != o->resume_have) {
		ep_fail_app(ep, QUIC_APP_PROTOCOL, EXIT_FAIL, "protocol error: "
		    "bad answer to --resume");
		return -1;
	}
	if (size != QUIC_SIZE_UNKNOWN && o->resume_size != QUIC_SIZE_UNKNOWN &&
	    size != o->resume_size) {
		ep_fail_told(ep, QUIC_APP_RESUME, EXIT_DATA, "the source "
		    "changed since the partial transfer", "cannot resume: the "
		    "source changed since the partial transfer (it had %"
		    PRIu64 " bytes, now %" PRIu64 ")", o->resume_size, size);
		return -1;
	}
	ep->t_start = clock_now();	/* as the sender's: after the skip */
	if (o->on_resume != NULL && o->on_resume(o->on_resume_arg, size,
	    &e) != 0) {
		ep_fail_told(ep, QUIC_APP_RECEIVER_OUTPUT, e.status,
		    "receiver output failed", "%s", e.msg);
		ep->data_failed = 1;
		return -1;
	}
	return 0;
}

/* ---- sender ------------------------------------------------------------ */

/*
 * A receiver that never says what it has would hold the sender (and
 * its producer) for as long as keep-alives last: it gets
 * --connect-timeout from the handshake, as a handshake does.
 */
void
ep_resume_deadline(struct ep *ep)
{
	unsigned secs = ep->o->connect_timeout ? ep->o->connect_timeout :
	    QUIC_DEFAULT_CONNECT_TIMEOUT;

	if (!ep->is_sender || !ep->resume.on || ep->resume.len ==
	    RESUME_REQ_LEN || ep->t_start == 0 || ep->failed ||
	    clock_now() - ep->t_start < secs)
		return;
	ep_fail_app(ep, QUIC_APP_PROTOCOL, EXIT_FAIL, "protocol error: no "
	    "--resume request from the receiver within %u s "
	    "(--connect-timeout)", secs);
}

/* The input: the caller's, even while a stripe's pipe is data_fd. */
int
ep_resume_input(const struct ep *ep)
{
	return ep->link != NULL ? ep->link->input_fd : ep->data_fd;
}

static void
refuse(struct ep *ep, const char *why)
{
	ep_fail_told(ep, QUIC_APP_RESUME, EXIT_DATA, why, "cannot resume: %s",
	    why);
}

/* A regular file's bytes from here to its end; else unknown. */
static uint64_t
input_size(int fd)
{
	struct stat sb;
	off_t at;

	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (at = lseek(fd, 0, SEEK_CUR)) < 0 || at > sb.st_size)
		return QUIC_SIZE_UNKNOWN;
	return (uint64_t)(sb.st_size - at);
}

static void skip_done(struct ep *ep);

/* The request is whole: check what can be checked without reading. */
static void
request_taken(struct ep *ep)
{
	const uint8_t *m = ep->resume.msg;
	uint64_t recorded = be64_get(m + 16);
	char why[REASON_MAX + 1];

	if (memcmp(m, RESUME_REQ_MAGIC, 8) != 0) {
		ep_fail_app(ep, QUIC_APP_PROTOCOL, EXIT_FAIL, "protocol error: "
		    "bad --resume request");
		return;
	}
	ep->resume.have = ep->resume.left = be64_get(m + 8);
	ep->resume.size = input_size(ep_resume_input(ep));
	if (ep->resume.size != QUIC_SIZE_UNKNOWN &&
	    recorded != QUIC_SIZE_UNKNOWN && recorded != ep->resume.size) {
		snprintf(why, sizeof(why), "the source changed since the "
		    "partial transfer (it had %" PRIu64 " bytes, now %" PRIu64
		    ")", recorded, ep->resume.size);
		refuse(ep, why);
		return;
	}
	if (ep->resume.size != QUIC_SIZE_UNKNOWN &&
	    ep->resume.have > ep->resume.size) {
		snprintf(why, sizeof(why), "the partial output holds %" PRIu64
		    " bytes, more than the source's %" PRIu64,
		    ep->resume.have, ep->resume.size);
		refuse(ep, why);
		return;
	}
	if (gnutls_hash_init(&ep->resume.hash, GNUTLS_DIG_SHA256) < 0) {
		ep->resume.hash = NULL;
		ep_fail_app(ep, QUIC_APP_INTERNAL, EXIT_FAIL, "SHA-256: "
		    "cannot start");
		return;
	}
	ep->resume.skipping = 1;
	if (ep->resume.have == 0) {
		skip_done(ep);
		return;
	}
	if (ep->o->progress != NULL)
		progress_phase(ep->o->progress, "verifying", 1,
		    ep->resume.have);
	/* The reads wait for poll: a producer may pause for minutes
	 * (a BGSAVE), while the connection is kept alive meanwhile. */
}

void
ep_resume_take(struct ep *ep, const uint8_t *data, size_t len, int fin)
{
	size_t n = RESUME_REQ_LEN - ep->resume.len;

	if (len == 0 && fin && ep->resume.len == RESUME_REQ_LEN)
		return;		/* a bare FIN after the request: legal */
	if (ep->resume.len == RESUME_REQ_LEN || len > n ||
	    (fin && ep->resume.len + len < RESUME_REQ_LEN)) {
		ep_fail_app(ep, QUIC_APP_PROTOCOL, EXIT_FAIL, "protocol error: "
		    "bad --resume request");
		return;
	}
	if (len > 0)
		memcpy(ep->resume.msg + ep->resume.len, data, len);
	ep->resume.len += len;
	if (ep->resume.len == RESUME_REQ_LEN)
		request_taken(ep);
}

/* Every skipped byte hashed: the same as the receiver's, or refused. */
static void
skip_done(struct ep *ep)
{
	uint8_t digest[32];
	const struct quic_opts *o = ep->o;

	gnutls_hash_deinit(ep->resume.hash, digest);
	ep->resume.hash = NULL;
	ep->resume.skipping = 0;
	if (memcmp(digest, ep->resume.msg + 24, sizeof(digest)) != 0) {
		refuse(ep, "the source changed since the partial transfer");
		return;
	}
	/* --stats' seconds count the data, not the hashing before it. */
	ep->t_start = clock_now();
	memcpy(ep->hdr, RESUME_OK_MAGIC, 8);
	be64_put(ep->hdr + 8, ep->resume.have);
	be64_put(ep->hdr + 16, ep->resume.size);
	memcpy(ep->snd.ring, ep->hdr, RESUME_OK_LEN);
	ep->snd.filled = RESUME_OK_LEN;
	if (o->progress != NULL && ep->resume.have > 0)
		progress_phase(o->progress, "resumed",
		    ep->resume.size != QUIC_SIZE_UNKNOWN,
		    ep->resume.size != QUIC_SIZE_UNKNOWN ?
		    ep->resume.size - ep->resume.have : 0);
	ep_sender_decide(ep);
}

/*
 * Reads and hashes what the receiver has, once poll says the input is
 * readable, INPUT_READ_MAX at a time into the ring (which holds nothing
 * yet), so that the connection is served in between.
 */
void
ep_resume_skip(struct ep *ep)
{
	size_t want;
	ssize_t n;
	char why[REASON_MAX + 1];

	if (!ep->resume.skipping || ep->failed)
		return;
	if (ep->resume.left == 0) {
		skip_done(ep);
		return;
	}
	want = ep->resume.left < INPUT_READ_MAX ? (size_t)ep->resume.left :
	    INPUT_READ_MAX;
	n = io_read_ready(ep_resume_input(ep), ep->snd.ring, want);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n < 0) {
		int err = errno;
		/* Told as stream.c tells it: the receiver prints why. */
		snprintf(why, sizeof(why), "sender input failed: read: %s",
		    strerror(err));
		ep_fail_told(ep, QUIC_APP_SENDER_INPUT, EXIT_FAIL, why,
		    "%s: read error: %s", ep->o->data_name != NULL ?
		    ep->o->data_name : "stdin", strerror(err));
		ep->data_failed = 1;
		return;
	}
	if (n == 0) {
		snprintf(why, sizeof(why), "the source ended after %" PRIu64
		    " bytes, before the %" PRIu64 " the partial output holds",
		    ep->resume.have - ep->resume.left, ep->resume.have);
		refuse(ep, why);
		return;
	}
	if (gnutls_hash(ep->resume.hash, ep->snd.ring, (size_t)n) < 0) {
		ep_fail_app(ep, QUIC_APP_INTERNAL, EXIT_FAIL, "SHA-256 failed");
		return;
	}
	ep->resume.left -= (uint64_t)n;
	if (ep->o->progress != NULL)
		progress_add(ep->o->progress, (uint64_t)n);
	if (ep->resume.left == 0)
		skip_done(ep);
}

void
ep_resume_free(struct ep *ep)
{
	if (ep->resume.hash != NULL) {
		gnutls_hash_deinit(ep->resume.hash, NULL);
		ep->resume.hash = NULL;
	}
}
