/*
 * cbc_stream.c: stream mode, the bytes of `openssl enc -aes-128-cbc -K ..
 * -iv ..` and of its -d inverse.  One pass, one buffer each way: memory
 * stays at two CBC_STREAM_BUF buffers whatever the input size.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "cbc.h"
#include "io.h"
#include "progress.h"

int
cbc_stream(int in_fd, int out_fd, int decrypt,
    const unsigned char key[CBC_KEY_LEN], const unsigned char iv[CBC_KEY_LEN],
    struct progress *p, struct rcp_error *e)
{
	EVP_CIPHER_CTX *ctx = NULL;
	unsigned char *in = NULL, *out = NULL;
	uint64_t total = 0;
	int outl, rc = -1;

	in = malloc(CBC_STREAM_BUF);
	out = malloc(CBC_STREAM_BUF + CBC_BLOCK);
	if (in == NULL || out == NULL) {
		error_set_errno(e, EXIT_FAIL, "cannot allocate buffers");
		goto out;
	}
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv,
	    decrypt ? 0 : 1) != 1) {
		error_set(e, EXIT_FAIL, "cannot set up AES-128-CBC: %s",
		    ERR_reason_error_string(ERR_get_error()));
		goto out;
	}
	for (;;) {
		size_t partial = 0;
		ssize_t n = io_read_full(in_fd, in, CBC_STREAM_BUF, &partial);

		if (n < 0) {
			/* The bytes before the error are not written. */
			error_set_errno(e, EXIT_FAIL, "read error after %"
			    PRIu64 " bytes", total + partial);
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (EVP_CipherUpdate(ctx, out, &outl, in, (int)n) != 1) {
			error_set(e, EXIT_FAIL, "AES-128-CBC failed: %s",
			    ERR_reason_error_string(ERR_get_error()));
			goto out;
		}
		if (outl > 0 && io_write_full(out_fd, out, (size_t)outl) != 0) {
			error_set_errno(e, EXIT_FAIL, "write error");
			goto out;
		}
		if (p != NULL)
			progress_add(p, (uint64_t)n);
		if ((size_t)n < CBC_STREAM_BUF)
			break;
	}
	if (decrypt && (total == 0 || total % CBC_BLOCK != 0)) {
		error_set(e, EXIT_DATA, "bad decrypt: ciphertext of %" PRIu64
		    " bytes is not a positive multiple of %u (truncated or "
		    "not AES-CBC)", total, CBC_BLOCK);
		goto out;
	}
	if (EVP_CipherFinal_ex(ctx, out, &outl) != 1) {
		/* Only decryption can fail here: the padding is wrong. */
		error_set(e, EXIT_DATA, "bad decrypt: bad padding in the last "
		    "block (wrong key or IV, or corrupt or truncated "
		    "ciphertext)");
		ERR_clear_error();
		goto out;
	}
	if (outl > 0 && io_write_full(out_fd, out, (size_t)outl) != 0) {
		error_set_errno(e, EXIT_FAIL, "write error");
		goto out;
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);	/* cleanses the key schedule */
	free(in);
	free(out);
	return rc;
}
