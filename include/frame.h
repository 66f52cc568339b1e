/*
 * frame.h: the entropy reconciliation stream of SPEC §2.
 *
 *   negotiation header (20 bytes): magic, command, header_size N,
 *                                  buffer_size M, cipher_size C
 *   snapshot header (N bytes):     total_len L, encrypt_flag, N-8 zeros
 *   chunks:                        u32 chunk_len, then chunk_len bytes
 *   EOF right after the chunk that completes L plaintext bytes.
 *
 * The reader validates every rule a reader can check and reports the
 * field, the byte offset and the values seen.  It owns a buffer and hands
 * out payload bytes either by copy or as spans into that buffer.
 */
#ifndef RCP_FRAME_H
#define RCP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "rcp.h"

#define FRAME_MAGIC		0x64640001u
#define FRAME_MAGIC_DYNOMITE	64640001u	/* 0x03DA5401, decimal on purpose */
#define FRAME_CMD_SEND		1u
#define FRAME_NEG_LEN		20u
#define FRAME_HEADER_MIN	8u
#define FRAME_HEADER_MAX	1024u
#define FRAME_HEADER_DEFAULT	1024u
#define FRAME_BUFFER_MAX	5242880u
#define FRAME_BUFFER_DEFAULT	16384u
#define FRAME_CIPHER_MAX	5242880u
#define FRAME_CIPHER_EXTRA	1024u		/* default C = M + this, capped */
#define FRAME_TOTAL_MAX		4294967294u
#define FRAME_CBC_BLOCK		16u

/* How much a reader buffers; payload spans are at most this long. */
#define FRAME_READ_BUF		(1024u * 1024u)

/*
 * Payload moves by splice(2) in runs of at least this many bytes: below
 * a page, the system calls cost more than the copies they save (256 MiB
 * through entropy-frame | entropy-unframe: 2 KiB chunks 0.24 s spliced,
 * 0.19 s copied; 4 KiB chunks 0.12 s and 0.17 s).
 */
#define FRAME_SPLICE_MIN	4096u

struct frame_header {
	uint32_t magic;
	uint32_t command;
	uint32_t header_size;
	uint32_t buffer_size;
	uint32_t cipher_size;
	uint32_t total_len;
	uint32_t encrypted;	/* 0 or 1 */
};

/* Default cipher_size for a buffer_size: M + 1024, capped at the max. */
uint32_t frame_default_cipher_size(uint32_t buffer_size);

/*
 * Checks the sizes a writer is about to use (same rules a reader applies).
 * Returns 0, or -1 (e, status 2: this is the caller's configuration).
 */
int frame_check_sizes(uint32_t header_size, uint32_t buffer_size,
    uint32_t cipher_size, struct rcp_error *e);

/*
 * Serializes both headers into out, which must hold
 * FRAME_NEG_LEN + h->header_size bytes; reserved bytes are zero.
 * Returns the number of bytes written.
 */
size_t frame_encode_headers(const struct frame_header *h, unsigned char *out);

struct frame_reader {
	int fd;
	unsigned char *buf;	/* FRAME_READ_BUF bytes */
	size_t pos, end;	/* unread bytes are buf[pos..end) */
	int eof;
	uint64_t offset;	/* stream offset of buf[pos] */
	struct frame_header hdr;
	uint64_t carried;	/* plaintext bytes accounted so far */
	uint32_t chunk_left;	/* payload bytes of the current chunk unread */
	uint32_t chunk_len;	/* length of the current chunk */
	uint64_t chunk_offset;	/* stream offset of its length prefix */
	/*
	 * Set by the caller for an encrypted stream read without the key
	 * (--inspect): plaintext lengths are unknown, so the stream ends at
	 * EOF on a chunk boundary and the caller checks L against the
	 * bounds the chunk lengths allow.
	 */
	int blind;
	/*
	 * Set by the caller to let frame_relay_plain move payload by
	 * splice(2), from the input to its output, where both allow it.
	 */
	int splice;
	/* Reads only the length prefix it needs: see frame_relay_plain. */
	int lean;
	/* statistics for --inspect */
	uint64_t chunks;
	uint32_t min_chunk, max_chunk;
};

/* Returns 0, or -1 with errno (ENOMEM). */
int frame_reader_init(struct frame_reader *r, int fd);
void frame_reader_free(struct frame_reader *r);

/*
 * Reads and validates both headers.  If raw is not NULL it receives the
 * raw header bytes (FRAME_NEG_LEN + header_size; at most
 * FRAME_NEG_LEN + FRAME_HEADER_MAX), so a filter can pass reserved bytes
 * through.  Returns 0, or -1 (e: status 3 for bad data, 1 for I/O).
 */
int frame_read_header(struct frame_reader *r, struct frame_header *h,
    unsigned char *raw, struct rcp_error *e);

/*
 * Reads the next chunk's length prefix and checks it against the stream
 * rules (plaintext: 1..M and not past L; encrypted: 16..C, a multiple of
 * 16).  Returns 1 with *len set when a chunk follows; 0 at the clean end
 * of the stream (L bytes carried, then EOF verified); -1 (e) on a
 * violation, truncation, trailing bytes or I/O error.
 *
 * It refills the buffer (invalidating spans from frame_payload_span) only
 * when fewer than 4 bytes are buffered: flush spans before calling it
 * unless frame_buffered() >= 4.
 *
 * Plaintext streams account the chunk's bytes against L here.  For an
 * encrypted stream the caller learns the plaintext length only after
 * decryption and reports it with frame_account_plain().
 */
int frame_next_chunk(struct frame_reader *r, uint32_t *len,
    struct rcp_error *e);

/*
 * Encrypted streams: accounts plain_len plaintext bytes of the chunk just
 * read against L and M.  Returns 0, or -1 (e, status 3).
 */
int frame_account_plain(struct frame_reader *r, uint32_t plain_len,
    struct rcp_error *e);

/*
 * Copies the next n payload bytes of the current chunk into dst
 * (n <= bytes left in the chunk).  Returns 0, or -1 (e) on truncation or
 * I/O error.
 */
int frame_read_payload(struct frame_reader *r, void *dst, size_t n,
    struct rcp_error *e);

/*
 * Zero-copy access: points *p at up to the rest of the current chunk's
 * payload that is already buffered, without refilling.  Returns the span
 * length; 0 means the buffer is drained and frame_fill() must run first
 * (which invalidates earlier spans).  Consume what you used with
 * frame_consume().
 */
size_t frame_payload_span(struct frame_reader *r, const unsigned char **p);
void frame_consume(struct frame_reader *r, size_t n);

/*
 * Refills the buffer.  Returns 1 if bytes arrived, 0 at EOF, -1 (e, I/O).
 * A truncation is reported by the caller from the chunk state: see
 * frame_truncated().
 */
int frame_fill(struct frame_reader *r, struct rcp_error *e);

/*
 * Whether the next frame_next_chunk() and the payload reads after it can
 * run without waiting for the input: the next chunk (prefix and payload)
 * is buffered, or the stream ended, or the end-of-stream check has a byte
 * to look at.  Reads what the input has now, never waits.  Returns 1 when
 * they can, 0 when they would wait, -1 (e) on a read error.  A chunk
 * larger than the buffer can never be there whole: it counts as ready
 * when the input has bytes to read now.  For a caller that holds output
 * which must go out before it blocks.
 */
int frame_next_chunk_ready(struct frame_reader *r, struct rcp_error *e);

/* Fills e with the precise truncation message for the current state. */
int frame_truncated(struct frame_reader *r, struct rcp_error *e);

/* Number of unread bytes currently buffered. */
static inline size_t
frame_buffered(const struct frame_reader *r)
{
	return r->end - r->pos;
}

struct progress;

/*
 * The writer's loop: reads exactly total_len bytes from in_fd and writes
 * them to out_fd as chunks of buffer_size (the last one shorter), each
 * with its length prefix; the headers must already be written.  Verifies
 * that the input ends right after total_len bytes.  Returns 0, or -1 (e:
 * status 3 when the input is shorter or longer than total_len, 1 for I/O;
 * the message begins with in_name for the input's faults, unless it is
 * NULL, and with out_name for the output's).  With splice set, chunks of
 * at least FRAME_SPLICE_MIN bytes move by splice(2) where the two ends
 * allow it, by read and write where they do not.
 */
int frame_write_chunks(int in_fd, const char *in_name, int out_fd,
    const char *out_name, uint32_t buffer_size, uint32_t total_len,
    int splice, struct progress *p, struct rcp_error *e);

/*
 * Copies in_fd to an unlinked temporary file (in $TMPDIR, else /tmp) so
 * that a pipe's length is known before the first byte is framed (with
 * splice set, by splice(2) where it works).  Refuses input longer than
 * FRAME_TOTAL_MAX (status 3), reading at most FRAME_READ_BUF bytes past
 * it.  Counts what it spools on p.  Returns 0 with *spool_fd at offset 0
 * and *len set, or -1 (e).
 */
int frame_spool(int in_fd, int splice, int *spool_fd, uint64_t *len,
    struct progress *p, struct rcp_error *e);

/*
 * The plaintext relay: after frame_read_header on a flag-0 stream, writes
 * every payload byte to out_fd (many chunks per writev; out_name in a
 * write error's message) and validates the stream to its end.  With
 * r->splice set, a run of at least FRAME_SPLICE_MIN payload bytes that
 * is not buffered yet moves by splice(2) when the two ends allow it
 * (a pipe on one side, an output that takes it); the reader then reads
 * each length prefix by itself, and goes back to reading ahead at the
 * first chunk shorter than that, or for good when splice is refused.
 * Returns 0, or -1 (e).
 */
int frame_relay_plain(struct frame_reader *r, int out_fd,
    const char *out_name, struct progress *p, struct rcp_error *e);

/*
 * Validates the rest of the stream without writing payload (--inspect).
 * For an encrypted stream it checks what the key is not needed for: chunk
 * lengths, and that total_len lies within what the chunks can carry.
 * Returns 0, or -1 (e).
 */
int frame_inspect(struct frame_reader *r, struct progress *p,
    struct rcp_error *e);

#endif
