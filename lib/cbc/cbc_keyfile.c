/*
 * cbc_keyfile.c: key and IV files in the three forms of SPEC §4, and
 * fresh ones for aescbc-keygen.
 *
 * Nothing read from a key file is ever put into a message: errors say what
 * shape was found (lengths, line and column numbers), never the bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "cbc.h"
#include "io.h"
#include "wipe.h"

#define CBC_EXPECTED "expected 16 raw bytes, 32 hex digits or a PEM block"
#define CBC_PEM_BEGIN "-----BEGIN "

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The PEM form: the first BEGIN/END block, whatever its label. */
static int
load_pem(const char *path, const char *what, const unsigned char *buf,
    size_t len, unsigned char out[CBC_KEY_LEN], struct rcp_error *e)
{
	BIO *bio;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen = 0;
	int rc = -1;

	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
		return error_set(e, EXIT_FAIL, "%s: out of memory", path);
	if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1) {
		unsigned long err = ERR_peek_last_error();

		error_set(e, EXIT_USAGE, "%s: malformed PEM block in %s file "
		    "(%s), " CBC_EXPECTED, path, what,
		    err != 0 ? ERR_reason_error_string(err) : "unreadable");
		ERR_clear_error();
		goto out;
	}
	if (dlen != CBC_KEY_LEN) {
		error_set(e, EXIT_USAGE, "%s: PEM block decodes to %ld bytes, "
		    "expected %u", path, dlen, CBC_KEY_LEN);
		goto out;
	}
	memcpy(out, data, CBC_KEY_LEN);
	rc = 0;
out:
	if (data != NULL) {
		wipe(data, dlen > 0 ? (size_t)dlen : 0);
		OPENSSL_free(data);
	}
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(bio);
	return rc;
}

/* The raw and hex forms: only the first line counts. */
static int
load_line(const char *path, const unsigned char *buf, size_t len,
    unsigned char out[CBC_KEY_LEN], struct rcp_error *e)
{
	const unsigned char *nl = memchr(buf, '\n', len);
	size_t n = nl != NULL ? (size_t)(nl - buf) : len, i;
	size_t nonhex = n;

	if (nl != NULL && n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == CBC_KEY_LEN) {
		memcpy(out, buf, CBC_KEY_LEN);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (hex_value(buf[i]) < 0) {
			nonhex = i;
			break;
		}
	}
	if (n == 2 * CBC_KEY_LEN && nonhex == n) {
		for (i = 0; i < CBC_KEY_LEN; i++)
			out[i] = (unsigned char)(hex_value(buf[2 * i]) << 4 |
			    hex_value(buf[2 * i + 1]));
		return 0;
	}
	if (n == 2 * CBC_KEY_LEN)
		return error_set(e, EXIT_USAGE, "%s: first line has 32 bytes "
		    "but byte %zu is not a hex digit, " CBC_EXPECTED, path,
		    nonhex + 1);
	if (n == 0)
		return error_set(e, EXIT_USAGE, "%s: first line is empty, "
		    CBC_EXPECTED, path);
	if (nonhex == n)
		return error_set(e, EXIT_USAGE, "%s: first line has %zu hex "
		    "digits, " CBC_EXPECTED, path, n);
	return error_set(e, EXIT_USAGE, "%s: first line has %zu bytes, "
	    CBC_EXPECTED, path, n);
}

int
cbc_load_file(const char *path, const char *what,
    unsigned char out[CBC_KEY_LEN], int *loose, struct rcp_error *e)
{
	unsigned char buf[CBC_KEYFILE_MAX + 1];
	struct stat st;
	ssize_t got;
	int fd, rc;

	*loose = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return error_set_errno(e, EXIT_USAGE, "%s: cannot open %s "
		    "file", path, what);
	if (fstat(fd, &st) != 0) {
		error_set_errno(e, EXIT_USAGE, "%s", path);
		close(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return error_set(e, EXIT_USAGE, "%s: is a directory, not a %s "
		    "file", path, what);
	}
	*loose = (int)secret_file_loose(fd, path);
	/* Read to EOF (a /dev/fd/N pipe gives no size) up to one byte more. */
	got = io_read_full(fd, buf, sizeof(buf), NULL);
	close(fd);
	if (got < 0)
		return error_set_errno(e, EXIT_USAGE, "%s: cannot read %s file",
		    path, what);
	if ((size_t)got > CBC_KEYFILE_MAX) {
		wipe(buf, sizeof(buf));
		return error_set(e, EXIT_USAGE, "%s: more than %u bytes, "
		    CBC_EXPECTED, path, CBC_KEYFILE_MAX);
	}
	if (got == 0)
		return error_set(e, EXIT_USAGE, "%s: empty file, " CBC_EXPECTED,
		    path);
	if ((size_t)got >= sizeof(CBC_PEM_BEGIN) - 1 &&
	    memcmp(buf, CBC_PEM_BEGIN, sizeof(CBC_PEM_BEGIN) - 1) == 0)
		rc = load_pem(path, what, buf, (size_t)got, out, e);
	else
		rc = load_line(path, buf, (size_t)got, out, e);
	wipe(buf, (size_t)got);
	return rc;
}

int
cbc_path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Random bytes that read back as a raw first line: no "\n", "\r" or NUL. */
static int
random_material(unsigned char key[CBC_KEY_LEN], enum cbc_format fmt)
{
	size_t i;

	for (;;) {
		if (RAND_bytes(key, CBC_KEY_LEN) != 1)
			return -1;
		if (fmt != CBC_FMT_RAW)
			return 0;
		for (i = 0; i < CBC_KEY_LEN; i++) {
			if (key[i] == '\n' || key[i] == '\r' || key[i] == '\0')
				break;
		}
		if (i == CBC_KEY_LEN)
			return 0;
	}
}

/* Renders key in fmt into text; returns its length. */
static size_t
render(const unsigned char key[CBC_KEY_LEN], enum cbc_format fmt,
    const char *label, char *text, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char b64[32];
	size_t i;
	int n;

	switch (fmt) {
	case CBC_FMT_RAW:
		memcpy(text, key, CBC_KEY_LEN);
		text[CBC_KEY_LEN] = '\n';
		return CBC_KEY_LEN + 1;
	case CBC_FMT_HEX:
		for (i = 0; i < CBC_KEY_LEN; i++) {
			text[2 * i] = digits[key[i] >> 4];
			text[2 * i + 1] = digits[key[i] & 15];
		}
		text[2 * CBC_KEY_LEN] = '\n';
		return 2 * CBC_KEY_LEN + 1;
	case CBC_FMT_PEM:
	default:
		EVP_EncodeBlock(b64, key, CBC_KEY_LEN);
		n = snprintf(text, cap, "-----BEGIN %s-----\n%s\n"
		    "-----END %s-----\n", label, (char *)b64, label);
		wipe(b64, sizeof(b64));
		return n > 0 && (size_t)n < cap ? (size_t)n : 0;
	}
}

int
cbc_keygen_file(const char *path, enum cbc_format fmt, int force,
    const char *label, struct rcp_error *e)
{
	unsigned char key[CBC_KEY_LEN];
	char text[160], *copy = NULL, *tmp = NULL;
	size_t len, tlen;
	int fd = -1, rc = -1;

	if (random_material(key, fmt) != 0)
		return error_set(e, EXIT_FAIL, "%s: the random number "
		    "generator failed", path);
	len = render(key, fmt, label, text, sizeof(text));
	wipe(key, sizeof(key));
	if (len == 0) {
		error_set(e, EXIT_FAIL, "%s: cannot format key", path);
		goto out;
	}
	/* A temporary file beside path, so the result appears whole. */
	if ((copy = strdup(path)) == NULL)
		goto nomem;
	tlen = strlen(copy) + 32;
	if ((tmp = malloc(tlen)) == NULL)
		goto nomem;
	snprintf(tmp, tlen, "%s/.aescbc-keygen.XXXXXX", dirname(copy));
	/* mkostemp creates the file with mode 0600, whatever the umask. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		error_set_errno(e, EXIT_FAIL, "%s: cannot create temporary "
		    "file", path);
		goto out;
	}
	if (fchmod(fd, 0600) != 0 || io_write_full(fd, text, len) != 0 ||
	    fsync(fd) != 0) {
		error_set_errno(e, EXIT_FAIL, "%s: write error", path);
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		error_set_errno(e, EXIT_FAIL, "%s: write error", path);
		goto out;
	}
	fd = -1;
	if (force) {
		if (rename(tmp, path) != 0) {
			error_set_errno(e, EXIT_FAIL, "%s: cannot replace",
			    path);
			goto out;
		}
	} else if (link(tmp, path) != 0) {
		/* link(2) never replaces: the no-overwrite guarantee. */
		if (errno == EEXIST)
			error_set(e, EXIT_USAGE, "%s: file exists (use --force "
			    "to replace it)", path);
		else
			error_set_errno(e, EXIT_FAIL, "%s: cannot create",
			    path);
		goto out;
	}
	rc = 0;
out:
	wipe(text, sizeof(text));
	if (fd >= 0)
		close(fd);
	if (tmp != NULL && !(rc == 0 && force))
		unlink(tmp);
	free(tmp);
	free(copy);
	return rc;
nomem:
	error_set_errno(e, EXIT_FAIL, "%s", path);
	goto out;
}
