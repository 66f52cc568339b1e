/*
 * cbc.h: AES-128-CBC for the entropy stream (SPEC §4), on OpenSSL's
 * libcrypto.
 *
 *   cbc_keyfile.c  loading key and IV files (raw, hex, PEM) and writing
 *                  fresh ones (aescbc-keygen)
 *   cbc_stream.c   stream mode: the bytes of `openssl enc -aes-128-cbc
 *                  -K .. -iv ..` (no salt header, PKCS#7 padding)
 *   cbc_frames.c   frames mode: every chunk of an entropy stream encrypted
 *                  on its own from the same key and IV, on N threads
 *
 * Every function returns 0, or -1 with e filled in: status 2 for a key
 * file or option problem, 3 for bad input data (a failed decryption is
 * always "bad decrypt"), 1 for I/O and resource failures.  Messages never
 * contain key material.
 */
#ifndef RCP_CBC_H
#define RCP_CBC_H

#include <stddef.h>
#include <stdint.h>

#include "rcp.h"

#define CBC_KEY_LEN		16u	/* AES-128 */
#define CBC_BLOCK		16u
/* Key files larger than this cannot be one of the three forms. */
#define CBC_KEYFILE_MAX		8192u
/* Stream mode: bytes per read(2) and per EVP update. */
#define CBC_STREAM_BUF		(1024u * 1024u)
/* Frames mode: plaintext or ciphertext bytes a batch aims at. */
#define CBC_BATCH_BYTES		(1024u * 1024u)
/* Frames mode: at most this many chunks in one batch. */
#define CBC_BATCH_CHUNKS	4096u
/* Frames mode: the ring of batches stays under this many bytes. */
#define CBC_RING_BYTES		(32u * 1024u * 1024u)
#define CBC_THREADS_MAX		64u

enum cbc_format { CBC_FMT_RAW, CBC_FMT_HEX, CBC_FMT_PEM };

/*
 * Reads a key or IV file (what names it in messages: "key", "IV") into
 * out.  The three forms of SPEC §4: the first line, without "\n" or
 * "\r\n", is 16 bytes (raw) or 32 hex digits (hex); or the file is a PEM
 * block whose body decodes to 16 bytes.  *loose receives the file's mode
 * when it is a regular file that group or others may access (so main can
 * warn), else 0.
 * Returns 0, or -1 (e, status 2).  Wipes every copy it made.
 */
int cbc_load_file(const char *path, const char *what,
    unsigned char out[CBC_KEY_LEN], int *loose, struct rcp_error *e);

/*
 * Writes 16 fresh bytes from the CSPRNG to path in the given form, mode
 * 0600, through a temporary file beside it: linked into place (never
 * replacing an existing file) unless force, then renamed over it.
 * Returns 0, or -1 (e: 2 when path exists without force, 1 otherwise).
 */
int cbc_keygen_file(const char *path, enum cbc_format fmt, int force,
    const char *label, struct rcp_error *e);

/* True when path names an existing file (for refusing before writing). */
int cbc_path_exists(const char *path);

struct progress;

/*
 * Stream mode: encrypts (decrypt == 0) or decrypts in_fd to out_fd.
 * Decryption that fails (padding, or a length that is not a positive
 * multiple of 16) returns -1 with status 3 and "bad decrypt" in the
 * message; what was written before that cannot be recalled.
 */
int cbc_stream(int in_fd, int out_fd, int decrypt,
    const unsigned char key[CBC_KEY_LEN], const unsigned char iv[CBC_KEY_LEN],
    struct progress *p, struct rcp_error *e);

/*
 * Frames mode: reads an entropy stream from in_fd and writes it to out_fd
 * with every chunk encrypted (or decrypted) and the flag set (cleared).
 * threads is the number of worker threads, 1 meaning none at all; the
 * output is the same for every value.  Progress counts plaintext bytes
 * against total_len (p is initialised here, once the header is read).
 */
int cbc_frames(int in_fd, int out_fd, int decrypt,
    const unsigned char key[CBC_KEY_LEN], const unsigned char iv[CBC_KEY_LEN],
    unsigned threads, struct progress *p, struct rcp_error *e);

#endif
