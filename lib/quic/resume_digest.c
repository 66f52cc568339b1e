/*
 * resume_digest.c: --resume, the receiver's SHA-256 of what its partial
 * output already holds, which the sender compares with the same prefix
 * of its input before it skips those bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "quic.h"

/* Large reads keep a multi-GiB partial file's hash at disk speed. */
#define RESUME_DIGEST_CHUNK (1024u * 1024u)

/*
 * Hashes [0, len) of fd into h.  pread, so that the file offset (where
 * the transfer goes on appending) stays where it is.
 */
static int
hash_prefix(gnutls_hash_hd_t h, int fd, unsigned char *buf, uint64_t len,
    struct rcp_error *e)
{
	uint64_t off = 0;
	size_t want;
	ssize_t n;
	int rc;

	while (off < len) {
		want = len - off < RESUME_DIGEST_CHUNK ? (size_t)(len - off) :
		    RESUME_DIGEST_CHUNK;
		n = pread(fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set_errno(e, EXIT_FAIL, "partial output: "
			    "read at byte %" PRIu64, off);
		if (n == 0)
			return error_set(e, EXIT_FAIL, "partial output: ends at "
			    "byte %" PRIu64 ", before %" PRIu64, off, len);
		if ((rc = gnutls_hash(h, buf, (size_t)n)) < 0)
			return error_set(e, EXIT_FAIL, "partial output: "
			    "SHA-256: %s", gnutls_strerror(rc));
		off += (uint64_t)n;
	}
	return 0;
}

int
quic_resume_digest(int fd, uint64_t len, uint8_t out[32],
    struct rcp_error *e)
{
	gnutls_hash_hd_t h;
	unsigned char *buf;
	int rc;

	if ((buf = malloc(RESUME_DIGEST_CHUNK)) == NULL)
		return error_set_errno(e, EXIT_FAIL, "partial output");
	if ((rc = gnutls_hash_init(&h, GNUTLS_DIG_SHA256)) < 0) {
		free(buf);
		return error_set(e, EXIT_FAIL, "partial output: SHA-256: %s",
		    gnutls_strerror(rc));
	}
	rc = hash_prefix(h, fd, buf, len, e);
	/* Always deinit, with a digest only wanted on success. */
	gnutls_hash_deinit(h, rc == 0 ? out : NULL);
	free(buf);
	return rc;
}
