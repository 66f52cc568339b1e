/*
 * cbc_frames.c: frames mode.  Every chunk of an entropy stream is
 * encrypted on its own, from the same key and IV, with PKCS#7 padding
 * (SPEC §2): chunks are independent, so they can be worked on in
 * parallel.
 *
 * The calling thread is the reader and the writer.  It reads chunks into
 * batches (about CBC_BATCH_BYTES of payload each) in a ring of slots,
 * hands each batch to the next free worker, and writes finished batches
 * strictly in the order they were read.  Each worker has its own
 * EVP_CIPHER_CTX.  Memory: the ring, at most CBC_RING_BYTES plus one slot.
 * With one thread there are no workers: the reader runs each batch itself,
 * through the same code, so the bytes out are the same for every -j.
 *
 * Stream rules (lengths, L, truncation, trailing bytes) are checked by
 * the frame reader (lib/frame) as it goes, in stream order.  When
 * decrypting, the reader also decrypts the last block of each chunk
 * itself to learn its padding, so that the plaintext length is accounted
 * against L in order and a bad pad is reported with the chunk's number
 * and offset; the workers then decrypt without padding and keep the
 * known length.
 *
 * Finished batches are written before the reader reads on, and the reader
 * never waits for input while it holds chunks: when the next chunk is not
 * all there and the input has nothing more to read right now, the batch
 * being filled is handed off early and everything read so far is written
 * before the reader blocks.  A slow or bursty producer never holds output
 * back, even one that stops in the middle of a chunk.
 *
 * An error found by the reader ends the batch being filled: the chunks
 * before it are still processed and written (as openssl would have written
 * them), then the error is returned.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "core/be.h"
#include "cbc.h"
#include "frame.h"
#include "wipe.h"
#include "io.h"
#include "wipe.h"
#include "progress.h"

struct cbc_chunk {
	uint32_t in_off;	/* payload offset in the batch's input */
	uint32_t in_len;	/* chunk_len as read */
	uint32_t out_len;	/* chunk_len as written */
};

enum { SLOT_FREE, SLOT_QUEUED, SLOT_DONE };

struct cbc_batch {
	unsigned char *in;	/* the payloads, back to back */
	unsigned char *out;	/* length prefix and payload, per chunk */
	struct cbc_chunk *chunks;
	size_t nchunks;
	size_t in_bytes;
	size_t out_bytes;	/* set by whoever ran the batch */
	uint64_t plain_bytes;	/* for progress */
	int state;
	int failed;		/* the cipher itself failed: err says why */
	struct rcp_error err;
};

struct cbc_engine {
	int decrypt;
	unsigned char key[CBC_KEY_LEN];
	unsigned char iv[CBC_KEY_LEN];
	struct cbc_batch *ring;
	unsigned nslots;
	size_t in_cap, out_cap;

	pthread_mutex_t mu;
	pthread_cond_t work_cv;	/* a batch was queued, or stop */
	pthread_cond_t done_cv;	/* a batch is done */
	uint64_t queued;	/* batches handed to workers so far */
	uint64_t taken;		/* batches workers have started */
	int stop;
	pthread_t *tids;
	unsigned nworkers;
};

/* The cipher for one chunk: a fresh CBC run from the stream's IV. */
static int
cbc_run_chunk(EVP_CIPHER_CTX *ctx, const struct cbc_engine *g,
    const unsigned char *in, uint32_t in_len, unsigned char *out, int *outl)
{
	int n = 0, fin = 0;

	if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, g->iv, -1) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, (int)in_len) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + n, &fin) != 1)
		return -1;
	*outl = n + fin;
	return 0;
}

/*
 * Runs one batch: out receives, per chunk, the new length prefix and the
 * new payload.  Decryption writes a whole chunk of plaintext including
 * its pad (padding is off) and the next chunk's prefix overwrites the
 * pad; out_cap has a block of slack for the last one.
 */
static void
cbc_run_batch(EVP_CIPHER_CTX *ctx, const struct cbc_engine *g,
    struct cbc_batch *b)
{
	size_t i, off = 0;

	for (i = 0; i < b->nchunks; i++) {
		struct cbc_chunk *c = &b->chunks[i];
		int outl;

		if (cbc_run_chunk(ctx, g, b->in + c->in_off, c->in_len,
		    b->out + off + 4, &outl) != 0 ||
		    (!g->decrypt && (uint32_t)outl != c->out_len) ||
		    (g->decrypt && (uint32_t)outl != c->in_len)) {
			b->failed = 1;
			error_set(&b->err, EXIT_FAIL, "AES-128-CBC failed on "
			    "a chunk of %" PRIu32 " bytes: %s", c->in_len,
			    ERR_reason_error_string(ERR_get_error()));
			ERR_clear_error();
			b->out_bytes = off;
			return;
		}
		be32_put(b->out + off, c->out_len);
		off += 4 + c->out_len;
	}
	b->out_bytes = off;
}

static EVP_CIPHER_CTX *
cbc_new_ctx(const struct cbc_engine *g)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (ctx == NULL)
		return NULL;
	if (EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), NULL, g->key, g->iv,
	    g->decrypt ? 0 : 1) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	/* Decryption: the reader has checked the pad and knows the length. */
	if (g->decrypt)
		EVP_CIPHER_CTX_set_padding(ctx, 0);
	return ctx;
}

/* A worker: takes queued batches in order, runs them, marks them done. */
static void *
cbc_worker(void *arg)
{
	struct cbc_engine *g = arg;
	EVP_CIPHER_CTX *ctx = cbc_new_ctx(g);

	pthread_mutex_lock(&g->mu);
	for (;;) {
		struct cbc_batch *b;

		while (!g->stop && g->taken == g->queued)
			pthread_cond_wait(&g->work_cv, &g->mu);
		if (g->stop)
			break;
		b = &g->ring[g->taken++ % g->nslots];
		pthread_mutex_unlock(&g->mu);
		if (ctx == NULL) {
			b->failed = 1;
			error_set(&b->err, EXIT_FAIL, "cannot set up "
			    "AES-128-CBC");
		} else {
			cbc_run_batch(ctx, g, b);
		}
		pthread_mutex_lock(&g->mu);
		b->state = SLOT_DONE;
		pthread_cond_broadcast(&g->done_cv);
	}
	pthread_mutex_unlock(&g->mu);
	EVP_CIPHER_CTX_free(ctx);
	return NULL;
}

/*
 * Decrypts the last block of a chunk to read its PKCS#7 pad.  Returns the
 * pad length (1..16), or 0 when the pad is malformed.
 */
static unsigned
cbc_pad_of(EVP_CIPHER_CTX *ecb, const struct cbc_engine *g,
    const unsigned char *payload, uint32_t len)
{
	const unsigned char *prev = len == CBC_BLOCK ? g->iv :
	    payload + len - 2 * CBC_BLOCK;
	unsigned char blk[CBC_BLOCK];
	unsigned pad = 0, i;
	int outl;

	if (EVP_CipherUpdate(ecb, blk, &outl, payload + len - CBC_BLOCK,
	    CBC_BLOCK) != 1 || outl != (int)CBC_BLOCK)
		return 0;
	for (i = 0; i < CBC_BLOCK; i++)
		blk[i] ^= prev[i];
	pad = blk[CBC_BLOCK - 1];
	if (pad < 1 || pad > CBC_BLOCK)
		pad = 0;
	for (i = CBC_BLOCK - pad; pad != 0 && i < CBC_BLOCK; i++) {
		if (blk[i] != pad)
			pad = 0;
	}
	wipe(blk, sizeof(blk));
	return pad;
}

/*
 * Reads chunks into b until it is full or the stream ends.  Returns 1 when
 * more may follow, 2 when more may follow but reading the next chunk
 * would wait (b is then not empty: its chunks should go out before the
 * reader blocks), 0 at the clean end, -1 (e) on an error; in every case
 * b holds the valid chunks read before it.
 */
static int
cbc_fill_batch(struct frame_reader *r, const struct cbc_engine *g,
    EVP_CIPHER_CTX *ecb, struct cbc_batch *b, struct rcp_error *e)
{
	b->nchunks = 0;
	b->in_bytes = 0;
	b->plain_bytes = 0;
	b->failed = 0;
	while (b->nchunks < CBC_BATCH_CHUNKS && b->in_bytes < CBC_BATCH_BYTES) {
		struct cbc_chunk *c = &b->chunks[b->nchunks];
		unsigned char *payload = b->in + b->in_bytes;
		uint32_t len, plain;
		int more;

		/* Never wait for input while holding chunks read. */
		if (b->nchunks > 0 && (more = frame_next_chunk_ready(r, e)) <= 0)
			return more < 0 ? -1 : 2;
		if ((more = frame_next_chunk(r, &len, e)) <= 0)
			return more;
		if (frame_read_payload(r, payload, len, e) != 0)
			return -1;
		if (g->decrypt) {
			unsigned pad = cbc_pad_of(ecb, g, payload, len);

			if (pad == 0)
				return error_set(e, EXIT_DATA, "bad decrypt: "
				    "chunk %" PRIu64 " at offset %" PRIu64
				    ": bad padding (wrong key or IV, or "
				    "corrupt data)", r->chunks,
				    r->chunk_offset);
			plain = len - pad;
			if (frame_account_plain(r, plain, e) != 0)
				return -1;
			c->out_len = plain;
		} else {
			plain = len;
			c->out_len = (len / CBC_BLOCK + 1) * CBC_BLOCK;
		}
		c->in_off = (uint32_t)b->in_bytes;
		c->in_len = len;
		b->in_bytes += len;
		b->plain_bytes += plain;
		b->nchunks++;
	}
	return 1;
}

/* True when batch seq is done: writing it will not wait. */
static int
cbc_batch_done(struct cbc_engine *g, uint64_t seq)
{
	struct cbc_batch *b = &g->ring[seq % g->nslots];
	int done;

	if (g->nworkers == 0)
		return 1;
	pthread_mutex_lock(&g->mu);
	done = b->state == SLOT_DONE;
	pthread_mutex_unlock(&g->mu);
	return done;
}

/* Waits for batch seq and writes it.  Returns 0, or -1 (e). */
static int
cbc_write_batch(struct cbc_engine *g, uint64_t seq, int out_fd,
    struct progress *p, struct rcp_error *e)
{
	struct cbc_batch *b = &g->ring[seq % g->nslots];
	int rc = 0;

	if (g->nworkers > 0) {
		pthread_mutex_lock(&g->mu);
		while (b->state != SLOT_DONE)
			pthread_cond_wait(&g->done_cv, &g->mu);
		pthread_mutex_unlock(&g->mu);
	}
	if (b->out_bytes > 0 &&
	    io_write_full(out_fd, b->out, b->out_bytes) != 0)
		rc = error_set_errno(e, EXIT_FAIL, "write error");
	else if (b->failed)
		rc = error_set(e, b->err.status, "%s", b->err.msg);
	else if (p != NULL)
		progress_add(p, b->plain_bytes);
	b->state = SLOT_FREE;
	return rc;
}

static void
cbc_engine_free(struct cbc_engine *g)
{
	unsigned i;

	if (g->tids != NULL) {
		pthread_mutex_lock(&g->mu);
		g->stop = 1;
		pthread_cond_broadcast(&g->work_cv);
		pthread_mutex_unlock(&g->mu);
		for (i = 0; i < g->nworkers; i++)
			pthread_join(g->tids[i], NULL);
		free(g->tids);
	}
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->work_cv);
	pthread_cond_destroy(&g->done_cv);
	for (i = 0; g->ring != NULL && i < g->nslots; i++) {
		free(g->ring[i].in);
		free(g->ring[i].out);
		free(g->ring[i].chunks);
	}
	free(g->ring);
	wipe(g->key, sizeof(g->key));
	wipe(g->iv, sizeof(g->iv));
}

/* Sizes the ring for buffer_size M and starts the workers. */
static int
cbc_engine_init(struct cbc_engine *g, uint32_t buffer_size, unsigned threads,
    struct rcp_error *e)
{
	size_t slot;
	unsigned i, want;

	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->work_cv, NULL);
	pthread_cond_init(&g->done_cv, NULL);
	/* A batch stops after the chunk that crosses CBC_BATCH_BYTES. */
	g->in_cap = CBC_BATCH_BYTES + buffer_size + CBC_BLOCK;
	g->out_cap = g->in_cap + (size_t)CBC_BATCH_CHUNKS * (4 + CBC_BLOCK) +
	    CBC_BLOCK;
	slot = g->in_cap + g->out_cap;
	g->nworkers = threads > 1 ? threads : 0;
	/* Two batches per worker keep it busy while the writer waits. */
	want = threads > 1 ? 2 * threads + 2 : 1;
	if ((size_t)want * slot > CBC_RING_BYTES)
		want = (unsigned)(CBC_RING_BYTES / slot);
	if (want < 2 && threads > 1)
		want = 2;
	if (want < 1)
		want = 1;
	g->nslots = want;
	if ((g->ring = calloc(g->nslots, sizeof(*g->ring))) == NULL)
		return error_set_errno(e, EXIT_FAIL, "cannot allocate buffers");
	for (i = 0; i < g->nslots; i++) {
		struct cbc_batch *b = &g->ring[i];

		b->in = malloc(g->in_cap);
		b->out = malloc(g->out_cap);
		b->chunks = calloc(CBC_BATCH_CHUNKS, sizeof(*b->chunks));
		if (b->in == NULL || b->out == NULL || b->chunks == NULL)
			return error_set_errno(e, EXIT_FAIL, "cannot allocate "
			    "buffers");
	}
	if (g->nworkers == 0)
		return 0;
	if ((g->tids = calloc(g->nworkers, sizeof(*g->tids))) == NULL)
		return error_set_errno(e, EXIT_FAIL, "cannot allocate threads");
	for (i = 0; i < g->nworkers; i++) {
		int err = pthread_create(&g->tids[i], NULL, cbc_worker, g);

		if (err != 0) {
			g->nworkers = i;
			errno = err;
			return error_set_errno(e, EXIT_FAIL, "cannot start "
			    "thread %u", i + 1);
		}
	}
	return 0;
}

/* Checks the header against the direction and writes its new form. */
static int
cbc_header(struct frame_reader *r, int out_fd, int decrypt,
    struct frame_header *h, struct rcp_error *e)
{
	unsigned char raw[FRAME_NEG_LEN + FRAME_HEADER_MAX];

	if (frame_read_header(r, h, raw, e) != 0)
		return -1;
	if (!decrypt && h->encrypted)
		return error_set(e, EXIT_DATA, "stream is already encrypted "
		    "(encrypt_flag 1 at offset 24)");
	if (decrypt && !h->encrypted)
		return error_set(e, EXIT_DATA, "stream is not encrypted "
		    "(encrypt_flag 0 at offset 24)");
	if (!decrypt && h->buffer_size % CBC_BLOCK != 0)
		return error_set(e, EXIT_DATA, "buffer_size %" PRIu32 " at "
		    "offset 12 is not a multiple of %u: the chunks cannot be "
		    "encrypted (entropy-frame -b)", h->buffer_size, CBC_BLOCK);
	if (!decrypt && h->cipher_size < (uint64_t)h->buffer_size + CBC_BLOCK)
		return error_set(e, EXIT_DATA, "cipher_size %" PRIu32 " at "
		    "offset 16 is less than buffer_size %" PRIu32 " + %u: "
		    "encrypted chunks would not fit (entropy-frame -c)",
		    h->cipher_size, h->buffer_size, CBC_BLOCK);
	be32_put(raw + 24, decrypt ? 0 : 1);
	if (io_write_full(out_fd, raw, FRAME_NEG_LEN + h->header_size) != 0)
		return error_set_errno(e, EXIT_FAIL, "write error");
	return 0;
}

int
cbc_frames(int in_fd, int out_fd, int decrypt,
    const unsigned char key[CBC_KEY_LEN], const unsigned char iv[CBC_KEY_LEN],
    unsigned threads, struct progress *p, struct rcp_error *e)
{
	struct cbc_engine g;
	struct frame_reader r;
	struct frame_header h;
	struct rcp_error read_err;
	EVP_CIPHER_CTX *own = NULL, *ecb = NULL;
	uint64_t seq = 0, written = 0;
	int more = 1, rc = -1;

	memset(&g, 0, sizeof(g));
	memset(&read_err, 0, sizeof(read_err));
	g.decrypt = decrypt;
	memcpy(g.key, key, CBC_KEY_LEN);
	memcpy(g.iv, iv, CBC_KEY_LEN);
	if (frame_reader_init(&r, in_fd) != 0) {
		wipe(g.key, sizeof(g.key));
		wipe(g.iv, sizeof(g.iv));
		return error_set_errno(e, EXIT_FAIL, "cannot allocate buffer");
	}
	if (cbc_header(&r, out_fd, decrypt, &h, e) != 0) {
		frame_reader_free(&r);
		wipe(g.key, sizeof(g.key));
		wipe(g.iv, sizeof(g.iv));
		return -1;
	}
	progress_set_total(p, h.total_len);
	if (threads > CBC_THREADS_MAX)
		threads = CBC_THREADS_MAX;
	if (cbc_engine_init(&g, h.buffer_size, threads, e) != 0)
		goto out;
	if ((threads <= 1 && (own = cbc_new_ctx(&g)) == NULL) ||
	    (decrypt && ((ecb = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(ecb, EVP_aes_128_ecb(), NULL, g.key, NULL,
	    0) != 1 || EVP_CIPHER_CTX_set_padding(ecb, 0) != 1))) {
		error_set(e, EXIT_FAIL, "cannot set up AES-128-CBC: %s",
		    ERR_reason_error_string(ERR_get_error()));
		goto out;
	}

	while (more > 0) {
		struct cbc_batch *b = &g.ring[seq % g.nslots];

		/* The ring is full: the oldest batch goes out first. */
		if (seq - written == g.nslots) {
			if (cbc_write_batch(&g, written, out_fd, p, e) != 0)
				goto out;
			written++;
		}
		/*
		 * Finished batches go out before the next read, which may
		 * block: a slow producer must not hold back finished output
		 * until the ring fills (nor lose it to a signal meanwhile).
		 */
		while (written < seq && cbc_batch_done(&g, written)) {
			if (cbc_write_batch(&g, written, out_fd, p, e) != 0)
				goto out;
			written++;
		}
		/*
		 * A batch that filled up is still with a worker: if the next
		 * chunk is not all there, it goes out before the reader waits.
		 */
		if (written < seq) {
			int ready = frame_next_chunk_ready(&r, &read_err);

			if (ready < 0) {
				more = -1;
				break;
			}
			for (; ready == 0 && written < seq; written++)
				if (cbc_write_batch(&g, written, out_fd, p,
				    e) != 0)
					goto out;
		}
		more = cbc_fill_batch(&r, &g, ecb, b, &read_err);
		if (b->nchunks == 0)
			break;	/* more is 0 or -1 here */
		if (g.nworkers == 0) {
			cbc_run_batch(own, &g, b);
			b->state = SLOT_DONE;
		} else {
			pthread_mutex_lock(&g.mu);
			b->state = SLOT_QUEUED;
			g.queued++;
			pthread_cond_signal(&g.work_cv);
			pthread_mutex_unlock(&g.mu);
		}
		seq++;
		/* The input stalls: all that was read goes out meanwhile. */
		for (; more == 2 && written < seq; written++) {
			if (cbc_write_batch(&g, written, out_fd, p, e) != 0)
				goto out;
		}
	}
	/* Everything read before an error still goes out, in order. */
	for (; written < seq; written++) {
		if (cbc_write_batch(&g, written, out_fd, p, e) != 0)
			goto out;
	}
	if (more < 0) {
		*e = read_err;
		goto out;
	}
	rc = 0;
out:
	cbc_engine_free(&g);
	EVP_CIPHER_CTX_free(own);
	EVP_CIPHER_CTX_free(ecb);
	frame_reader_free(&r);
	return rc;
}
