/*
 * frame.c: reading and writing the entropy stream (SPEC §2).
 *
 * The reader keeps one buffer of FRAME_READ_BUF bytes.  Headers are parsed
 * from contiguous bytes in it; payload is handed out as spans so that a
 * relay can write many chunks with one writev(2).  Every offset reported
 * in a message is the byte offset in the stream, counted from 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "core/be.h"
#include "frame.h"
#include "io.h"
#include "progress.h"

uint32_t
frame_default_cipher_size(uint32_t buffer_size)
{
	uint64_t c = (uint64_t)buffer_size + FRAME_CIPHER_EXTRA;

	return c > FRAME_CIPHER_MAX ? FRAME_CIPHER_MAX : (uint32_t)c;
}

int
frame_check_sizes(uint32_t header_size, uint32_t buffer_size,
    uint32_t cipher_size, struct rcp_error *e)
{
	if (header_size < FRAME_HEADER_MIN || header_size > FRAME_HEADER_MAX)
		return error_set(e, EXIT_USAGE, "header_size %" PRIu32
		    ": must be %u..%u", header_size, FRAME_HEADER_MIN,
		    FRAME_HEADER_MAX);
	if (buffer_size < 1 || buffer_size >= FRAME_BUFFER_MAX)
		return error_set(e, EXIT_USAGE, "buffer_size %" PRIu32
		    ": must be 1..%u (cipher_size must exceed it)", buffer_size,
		    FRAME_BUFFER_MAX - 1);
	if (cipher_size <= buffer_size || cipher_size > FRAME_CIPHER_MAX)
		return error_set(e, EXIT_USAGE, "cipher_size %" PRIu32
		    ": must be greater than buffer_size %" PRIu32
		    " and at most %u", cipher_size, buffer_size,
		    FRAME_CIPHER_MAX);
	return 0;
}

size_t
frame_encode_headers(const struct frame_header *h, unsigned char *out)
{
	be32_put(out, h->magic);
	be32_put(out + 4, h->command);
	be32_put(out + 8, h->header_size);
	be32_put(out + 12, h->buffer_size);
	be32_put(out + 16, h->cipher_size);
	memset(out + FRAME_NEG_LEN, 0, h->header_size);
	be32_put(out + 20, h->total_len);
	be32_put(out + 24, h->encrypted);
	return FRAME_NEG_LEN + h->header_size;
}

int
frame_reader_init(struct frame_reader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->buf = malloc(FRAME_READ_BUF);
	if (r->buf == NULL)
		return -1;
	return 0;
}

void
frame_reader_free(struct frame_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* As frame_fill, reading at most max bytes. */
static int
frame_fill_upto(struct frame_reader *r, size_t max, struct rcp_error *e)
{
	ssize_t n;

	if (r->eof)
		return 0;
	if (r->pos == r->end) {
		r->pos = r->end = 0;
	} else if (FRAME_READ_BUF - r->end < FRAME_READ_BUF / 4) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->end -= r->pos;
		r->pos = 0;
	}
	if (max > FRAME_READ_BUF - r->end)
		max = FRAME_READ_BUF - r->end;
	n = io_read_some(r->fd, r->buf + r->end, max);
	if (n < 0)
		return error_set_errno(e, EXIT_FAIL, "read error at offset %"
		    PRIu64, r->offset + (r->end - r->pos));
	if (n == 0) {
		r->eof = 1;
		return 0;
	}
	r->end += (size_t)n;
	return 1;
}

int
frame_fill(struct frame_reader *r, struct rcp_error *e)
{
	return frame_fill_upto(r, FRAME_READ_BUF, e);
}

/* Makes n contiguous bytes available; returns how many are (< n at EOF). */
static int
frame_need(struct frame_reader *r, size_t n, size_t *avail,
    struct rcp_error *e)
{
	while (r->end - r->pos < n && !r->eof) {
		if (FRAME_READ_BUF - r->pos < n) {
			memmove(r->buf, r->buf + r->pos, r->end - r->pos);
			r->end -= r->pos;
			r->pos = 0;
		}
		/* Lean: not one byte of payload, which splice will move. */
		if (frame_fill_upto(r, r->lean ? n - (r->end - r->pos) :
		    FRAME_READ_BUF, e) < 0)
			return -1;
	}
	*avail = r->end - r->pos;
	return 0;
}

static void
frame_advance(struct frame_reader *r, size_t n)
{
	r->pos += n;
	r->offset += n;
}

int
frame_read_header(struct frame_reader *r, struct frame_header *h,
    unsigned char *raw, struct rcp_error *e)
{
	const unsigned char *p;
	size_t avail;

	if (frame_need(r, FRAME_NEG_LEN, &avail, e) < 0)
		return -1;
	if (avail < FRAME_NEG_LEN)
		return error_set(e, EXIT_DATA, "truncated stream: negotiation "
		    "header: %zu of %u bytes received", avail, FRAME_NEG_LEN);
	p = r->buf + r->pos;
	h->magic = be32_get(p);
	h->command = be32_get(p + 4);
	h->header_size = be32_get(p + 8);
	h->buffer_size = be32_get(p + 12);
	h->cipher_size = be32_get(p + 16);
	if (h->magic != FRAME_MAGIC && h->magic != FRAME_MAGIC_DYNOMITE)
		return error_set(e, EXIT_DATA, "bad magic at offset 0: 0x%08"
		    PRIx32 " (expected 0x%08x or 0x%08x)", h->magic,
		    FRAME_MAGIC, FRAME_MAGIC_DYNOMITE);
	if (h->command != FRAME_CMD_SEND)
		return error_set(e, EXIT_DATA, "bad command at offset 4: %"
		    PRIu32 " (expected %u, SEND)", h->command, FRAME_CMD_SEND);
	if (h->header_size < FRAME_HEADER_MIN ||
	    h->header_size > FRAME_HEADER_MAX)
		return error_set(e, EXIT_DATA, "bad header_size at offset 8: %"
		    PRIu32 " (must be %u..%u)", h->header_size,
		    FRAME_HEADER_MIN, FRAME_HEADER_MAX);
	if (h->buffer_size < 1 || h->buffer_size > FRAME_BUFFER_MAX)
		return error_set(e, EXIT_DATA, "bad buffer_size at offset 12: %"
		    PRIu32 " (must be 1..%u)", h->buffer_size,
		    FRAME_BUFFER_MAX);
	if (h->cipher_size <= h->buffer_size ||
	    h->cipher_size > FRAME_CIPHER_MAX)
		return error_set(e, EXIT_DATA, "bad cipher_size at offset 16: %"
		    PRIu32 " (must be greater than buffer_size %" PRIu32
		    " and at most %u)", h->cipher_size, h->buffer_size,
		    FRAME_CIPHER_MAX);

	if (frame_need(r, FRAME_NEG_LEN + h->header_size, &avail, e) < 0)
		return -1;
	if (avail < FRAME_NEG_LEN + h->header_size)
		return error_set(e, EXIT_DATA, "truncated stream: snapshot "
		    "header: %zu of %" PRIu32 " bytes received",
		    avail - FRAME_NEG_LEN, h->header_size);
	p = r->buf + r->pos;
	h->total_len = be32_get(p + 20);
	h->encrypted = be32_get(p + 24);
	if (h->total_len > FRAME_TOTAL_MAX)
		return error_set(e, EXIT_DATA, "bad total_len at offset 20: %"
		    PRIu32 " (must be at most %u)", h->total_len,
		    FRAME_TOTAL_MAX);
	if (h->encrypted > 1)
		return error_set(e, EXIT_DATA, "bad encrypt_flag at offset 24: %"
		    PRIu32 " (must be 0 or 1)", h->encrypted);
	if (raw != NULL)
		memcpy(raw, p, FRAME_NEG_LEN + h->header_size);
	frame_advance(r, FRAME_NEG_LEN + h->header_size);
	r->hdr = *h;
	return 0;
}

/* The largest ciphertext one plaintext chunk of at most M bytes yields. */
static uint32_t
frame_max_cipher_chunk(const struct frame_header *h)
{
	uint64_t m = (uint64_t)h->buffer_size / FRAME_CBC_BLOCK *
	    FRAME_CBC_BLOCK + FRAME_CBC_BLOCK;

	return m < h->cipher_size ? (uint32_t)m : h->cipher_size;
}

int
frame_next_chunk(struct frame_reader *r, uint32_t *len, struct rcp_error *e)
{
	const struct frame_header *h = &r->hdr;
	uint64_t left = (uint64_t)h->total_len - r->carried;
	size_t avail;
	uint32_t n;

	if (left == 0 && !r->blind) {
		/* All of L carried: the stream must end here. */
		if (frame_need(r, 1, &avail, e) < 0)
			return -1;
		if (avail > 0)
			return error_set(e, EXIT_DATA, "trailing data at offset %"
			    PRIu64 ": all %" PRIu32 " bytes of total_len were "
			    "carried, the stream should end", r->offset,
			    h->total_len);
		return 0;
	}
	if (frame_need(r, 4, &avail, e) < 0)
		return -1;
	if (avail == 0 && r->blind)
		return 0;
	if (avail < 4) {
		if (avail == 0)
			return frame_truncated(r, e);
		return error_set(e, EXIT_DATA, "truncated stream: length of "
		    "chunk %" PRIu64 " at offset %" PRIu64 ": %zu of 4 bytes "
		    "received", r->chunks + 1, r->offset, avail);
	}
	n = be32_get(r->buf + r->pos);
	if (n == 0)
		return error_set(e, EXIT_DATA, "zero-length chunk %" PRIu64
		    " at offset %" PRIu64, r->chunks + 1, r->offset);
	if (!h->encrypted) {
		if (n > h->buffer_size)
			return error_set(e, EXIT_DATA, "chunk %" PRIu64 " at "
			    "offset %" PRIu64 " too long: %" PRIu32 " bytes, "
			    "buffer_size is %" PRIu32, r->chunks + 1, r->offset,
			    n, h->buffer_size);
		if (n > left)
			return error_set(e, EXIT_DATA, "chunk %" PRIu64 " at "
			    "offset %" PRIu64 " overshoots total_len: %" PRIu32
			    " bytes with %" PRIu64 " of %" PRIu32 " left",
			    r->chunks + 1, r->offset, n, left, h->total_len);
		r->carried += n;
	} else {
		if (n < FRAME_CBC_BLOCK || n % FRAME_CBC_BLOCK != 0 ||
		    n > h->cipher_size)
			return error_set(e, EXIT_DATA, "bad encrypted chunk %"
			    PRIu64 " at offset %" PRIu64 ": %" PRIu32 " bytes "
			    "(must be a multiple of %u in %u..%" PRIu32 ")",
			    r->chunks + 1, r->offset, n, FRAME_CBC_BLOCK,
			    FRAME_CBC_BLOCK, h->cipher_size);
		if (n > frame_max_cipher_chunk(h))
			return error_set(e, EXIT_DATA, "encrypted chunk %"
			    PRIu64 " at offset %" PRIu64 " too long: %" PRIu32
			    " bytes cannot hold at most buffer_size %" PRIu32
			    " plaintext bytes", r->chunks + 1, r->offset, n,
			    h->buffer_size);
	}
	r->chunk_offset = r->offset;
	frame_advance(r, 4);
	r->chunk_len = n;
	r->chunk_left = n;
	if (r->chunks == 0 || n < r->min_chunk)
		r->min_chunk = n;
	if (n > r->max_chunk)
		r->max_chunk = n;
	r->chunks++;
	*len = n;
	return 1;
}

int
frame_next_chunk_ready(struct frame_reader *r, struct rcp_error *e)
{
	for (;;) {
		size_t avail = r->end - r->pos, want = 4;
		struct pollfd pfd = { r->fd, POLLIN, 0 };

		if (r->eof)
			return 1;
		if (r->carried == r->hdr.total_len && !r->blind)
			want = 1;	/* the trailing-data check */
		else if (avail >= 4)
			want += be32_get(r->buf + r->pos);
		if (avail >= want)
			return 1;
		/* poll() failing (EINTR) only ends a batch early. */
		if (poll(&pfd, 1, 0) <= 0)
			return 0;
		/* Never whole in the buffer: that it flows must do. */
		if (want > FRAME_READ_BUF)
			return 1;
		if (FRAME_READ_BUF - r->pos < want) {
			memmove(r->buf, r->buf + r->pos, avail);
			r->end = avail;
			r->pos = 0;
		}
		if (frame_fill(r, e) < 0)
			return -1;
	}
}

int
frame_account_plain(struct frame_reader *r, uint32_t plain_len,
    struct rcp_error *e)
{
	const struct frame_header *h = &r->hdr;
	uint64_t left = (uint64_t)h->total_len - r->carried;

	if (plain_len == 0 || plain_len > h->buffer_size)
		return error_set(e, EXIT_DATA, "chunk %" PRIu64 " at offset %"
		    PRIu64 " decrypts to %" PRIu32 " bytes (must be 1..%"
		    PRIu32 ")", r->chunks, r->chunk_offset, plain_len,
		    h->buffer_size);
	if (plain_len > left)
		return error_set(e, EXIT_DATA, "chunk %" PRIu64 " at offset %"
		    PRIu64 " overshoots total_len: %" PRIu32 " plaintext bytes "
		    "with %" PRIu64 " of %" PRIu32 " left", r->chunks,
		    r->chunk_offset, plain_len, left, h->total_len);
	r->carried += plain_len;
	return 0;
}

int
frame_truncated(struct frame_reader *r, struct rcp_error *e)
{
	const struct frame_header *h = &r->hdr;
	uint32_t got = r->chunk_len - r->chunk_left;

	if (h->encrypted && r->chunk_left > 0)
		return error_set(e, EXIT_DATA, "truncated stream: encrypted "
		    "chunk %" PRIu64 " at offset %" PRIu64 ": %" PRIu32 " of %"
		    PRIu32 " bytes received", r->chunks, r->chunk_offset, got,
		    r->chunk_len);
	if (r->chunk_left > 0)
		/* A plaintext chunk is accounted whole when its length is read. */
		return error_set(e, EXIT_DATA, "truncated stream: %" PRIu64
		    " of %" PRIu32 " payload bytes received (chunk %" PRIu64
		    " at offset %" PRIu64 ": %" PRIu32 " of %" PRIu32 " bytes)",
		    r->carried - r->chunk_left, h->total_len, r->chunks,
		    r->chunk_offset, got, r->chunk_len);
	return error_set(e, EXIT_DATA, "truncated stream: %" PRIu64 " of %"
	    PRIu32 " payload bytes received", r->carried, h->total_len);
}

size_t
frame_payload_span(struct frame_reader *r, const unsigned char **p)
{
	size_t avail = r->end - r->pos;

	if (avail > r->chunk_left)
		avail = r->chunk_left;
	*p = r->buf + r->pos;
	return avail;
}

void
frame_consume(struct frame_reader *r, size_t n)
{
	frame_advance(r, n);
	r->chunk_left -= (uint32_t)n;
}

int
frame_read_payload(struct frame_reader *r, void *dst, size_t n,
    struct rcp_error *e)
{
	unsigned char *out = dst;

	while (n > 0) {
		const unsigned char *p;
		size_t span = frame_payload_span(r, &p);
		int rc;

		if (span == 0) {
			if ((rc = frame_fill(r, e)) < 0)
				return -1;
			if (rc == 0)
				return frame_truncated(r, e);
			continue;
		}
		if (span > n)
			span = n;
		memcpy(out, p, span);
		frame_consume(r, span);
		out += span;
		n -= span;
	}
	return 0;
}

/* Spans gathered before one writev; IOV_MAX is 1024 on Linux. */
#define FRAME_RELAY_IOV 1024

struct frame_batch {
	struct iovec iov[FRAME_RELAY_IOV];
	int n;
	size_t bytes;
};

static int
frame_batch_flush(struct frame_batch *b, int out_fd, const char *out_name,
    struct progress *p, struct rcp_error *e)
{
	if (b->n == 0)
		return 0;
	if (io_writev_full(out_fd, b->iov, b->n) != 0)
		return error_set_errno(e, EXIT_FAIL, "%s: write error",
		    out_name);
	if (p != NULL)
		progress_add(p, b->bytes);
	b->n = 0;
	b->bytes = 0;
	return 0;
}

/*
 * Moves the rest of the current chunk, none of it buffered, from the
 * input to out_fd by splice(2), and makes the reader lean, so that it
 * reads the next length prefix and no payload after it.  Returns 1 when
 * the chunk is done, 0 when splice is refused (the reader is no longer
 * lean and the caller goes on by read and write from where splice
 * stopped), -1 (e) on truncation.
 */
static int
frame_splice_payload(struct frame_reader *r, int out_fd, struct progress *p,
    struct rcp_error *e)
{
	r->lean = 1;
	while (r->chunk_left > 0) {
		ssize_t n = io_splice_some(r->fd, out_fd, r->chunk_left);

		if (n < 0) {
			r->lean = 0;
			return 0;
		}
		if (n == 0) {
			r->eof = 1;
			return frame_truncated(r, e);
		}
		/* Past the buffer, which stays empty. */
		r->offset += (uint64_t)n;
		r->chunk_left -= (uint32_t)n;
		if (p != NULL)
			progress_add(p, (uint64_t)n);
	}
	return 1;
}

int
frame_relay_plain(struct frame_reader *r, int out_fd, const char *out_name,
    struct progress *p, struct rcp_error *e)
{
	struct frame_batch *b;
	uint32_t len;
	int rc = -1, more, splice;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return error_set_errno(e, EXIT_FAIL, "cannot allocate buffers");
	splice = r->splice && io_splice_candidate(r->fd, out_fd);
	/*
	 * Lean at once: a buffer that runs dry at a chunk boundary must
	 * not read ahead the payload that splice would move.
	 */
	r->lean = splice;
	for (;;) {
		/* frame_next_chunk may refill: spans must be written first. */
		if (frame_buffered(r) < 4 &&
		    frame_batch_flush(b, out_fd, out_name, p, e) != 0)
			goto out;
		if ((more = frame_next_chunk(r, &len, e)) < 0)
			goto out;
		if (more == 0)
			break;
		while (r->chunk_left > 0) {
			const unsigned char *span;
			size_t n = frame_payload_span(r, &span);

			if (n == 0) {
				int got;

				if (frame_batch_flush(b, out_fd, out_name, p, e) != 0)
					goto out;
				if (splice && r->chunk_left >= FRAME_SPLICE_MIN) {
					if ((got = frame_splice_payload(r,
					    out_fd, p, e)) < 0)
						goto out;
					splice = got;
					continue;
				}
				/*
				 * Too short to splice.  The tail of a chunk
				 * begun in the buffer: read it and the next
				 * prefix only, so that a long next chunk is
				 * spliced whole (a writer's chunks are all
				 * as long).  A short chunk: read ahead.
				 */
				r->lean = splice && r->chunk_left < r->chunk_len;
				if ((got = frame_fill_upto(r, r->lean ?
				    (size_t)r->chunk_left + 4 : FRAME_READ_BUF,
				    e)) < 0)
					goto out;
				if (got == 0) {
					frame_truncated(r, e);
					goto out;
				}
				continue;
			}
			b->iov[b->n].iov_base = (void *)span;
			b->iov[b->n].iov_len = n;
			b->n++;
			b->bytes += n;
			frame_consume(r, n);
			if (b->n == FRAME_RELAY_IOV &&
			    frame_batch_flush(b, out_fd, out_name, p, e) != 0)
				goto out;
		}
	}
	rc = frame_batch_flush(b, out_fd, out_name, p, e);
out:
	free(b);
	return rc;
}

int
frame_inspect(struct frame_reader *r, struct progress *p, struct rcp_error *e)
{
	const struct frame_header *h = &r->hdr;
	/* Bounds on the plaintext an encrypted stream's chunks can carry. */
	uint64_t plain_min = 0, plain_max = 0;
	uint32_t len;
	int more;

	r->blind = h->encrypted;
	while ((more = frame_next_chunk(r, &len, e)) == 1) {
		if (h->encrypted) {
			/* PKCS#7 adds 1..16 bytes; chunks carry >= 1 byte. */
			plain_min += len - FRAME_CBC_BLOCK > 0 ?
			    len - FRAME_CBC_BLOCK : 1;
			plain_max += len - 1;
			if (plain_min > h->total_len)
				return error_set(e, EXIT_DATA, "chunk %" PRIu64
				    " at offset %" PRIu64 " overshoots total_len:"
				    " the chunks so far carry at least %" PRIu64
				    " of %" PRIu32 " plaintext bytes", r->chunks,
				    r->chunk_offset, plain_min, h->total_len);
		}
		while (r->chunk_left > 0) {
			const unsigned char *span;
			size_t n = frame_payload_span(r, &span);

			if (n == 0) {
				int got = frame_fill(r, e);
				if (got < 0)
					return -1;
				if (got == 0)
					return frame_truncated(r, e);
				continue;
			}
			frame_consume(r, n);
			if (p != NULL)
				progress_add(p, n);
		}
	}
	if (more < 0)
		return -1;
	if (h->encrypted && plain_max < h->total_len)
		return error_set(e, EXIT_DATA, "truncated stream: %" PRIu64
		    " encrypted chunks carry at most %" PRIu64 " of %" PRIu32
		    " plaintext bytes", r->chunks, plain_max, h->total_len);
	return 0;
}
