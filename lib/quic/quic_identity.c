/*
 * quic_identity.c: self-signed certificates and their SHA-256 pins.
 *
 * An identity is a private key plus a certificate over its public key.
 * Nothing checks names, dates or chains: a peer is known by the
 * fingerprint of its certificate alone, so the certificate only has to
 * be well-formed enough for TLS 1.3 to carry it.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "io.h"
#include "quic.h"
#include "quic_int.h"
#include "wipe.h"

/* An identity file is two PEM blocks; anything larger is not one. */
#define IDENTITY_FILE_MAX (64 * 1024)
#define CERT_CN "CN=rcp-quic"

struct quic_identity {
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	char pin[QUIC_PIN_SIZE];
};

int
quic_pin_of_der(const void *der, size_t len, char out[QUIC_PIN_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	size_t i;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der, len, md) < 0)
		return -1;
	memcpy(out, QUIC_PIN_PREFIX, 7);
	for (i = 0; i < sizeof(md); i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[7 + 2 * i + 1] = hex[md[i] & 15];
	}
	out[QUIC_PIN_LEN] = '\0';
	return 0;
}

static struct quic_identity *
identity_new(struct rcp_error *e)
{
	struct quic_identity *id;

	if ((id = calloc(1, sizeof(*id))) == NULL) {
		error_set_errno(e, EXIT_FAIL, "identity");
		return NULL;
	}
	if (gnutls_x509_privkey_init(&id->key) < 0 ||
	    gnutls_x509_crt_init(&id->crt) < 0) {
		quic_identity_free(id);
		error_set(e, EXIT_FAIL, "identity: out of memory");
		return NULL;
	}
	return id;
}

/* Computes id->pin from id->crt. */
static int
identity_set_pin(struct quic_identity *id, struct rcp_error *e)
{
	gnutls_datum_t der = { NULL, 0 };
	int rc;

	if ((rc = gnutls_x509_crt_export2(id->crt, GNUTLS_X509_FMT_DER,
	    &der)) < 0)
		return error_set(e, EXIT_FAIL, "certificate: %s",
		    gnutls_strerror(rc));
	rc = quic_pin_of_der(der.data, der.size, id->pin);
	gnutls_free(der.data);
	if (rc != 0)
		return error_set(e, EXIT_FAIL, "certificate: cannot hash");
	return 0;
}

int
quic_identity_generate(struct quic_identity **out, struct rcp_error *e)
{
	struct quic_identity *id;
	unsigned char serial[16];
	time_t now = time(NULL);
	int rc;

	*out = NULL;
	if ((id = identity_new(e)) == NULL)
		return -1;
	if ((rc = gnutls_x509_privkey_generate(id->key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0)
		goto fail;
	if ((rc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial))) < 0)
		goto fail;
	serial[0] &= 0x7f;	/* a positive INTEGER */
	serial[0] |= 0x01;	/* and not a shorter one */
	if ((rc = gnutls_x509_crt_set_version(id->crt, 3)) < 0 ||
	    (rc = gnutls_x509_crt_set_serial(id->crt, serial,
	    sizeof(serial))) < 0 ||
	    (rc = gnutls_x509_crt_set_dn(id->crt, CERT_CN, NULL)) < 0 ||
	    (rc = gnutls_x509_crt_set_issuer_dn(id->crt, CERT_CN, NULL)) < 0 ||
	    (rc = gnutls_x509_crt_set_activation_time(id->crt,
	    now - 3600)) < 0 ||
	    (rc = gnutls_x509_crt_set_expiration_time(id->crt,
	    GNUTLS_X509_NO_WELL_DEFINED_EXPIRATION)) < 0 ||
	    (rc = gnutls_x509_crt_set_key(id->crt, id->key)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_usage(id->crt,
	    GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (rc = gnutls_x509_crt_sign2(id->crt, id->crt, id->key,
	    GNUTLS_DIG_SHA256, 0)) < 0)
		goto fail;
	if (identity_set_pin(id, e) != 0) {
		quic_identity_free(id);
		return -1;
	}
	*out = id;
	return 0;
fail:
	quic_identity_free(id);
	return error_set(e, EXIT_FAIL, "cannot make a certificate: %s",
	    gnutls_strerror(rc));
}

int
quic_identity_load_pem(struct quic_identity **out, const void *pem,
    size_t len, struct rcp_error *e)
{
	struct quic_identity *id;
	gnutls_datum_t d;
	unsigned char kid1[64], kid2[64];
	size_t kl1 = sizeof(kid1), kl2 = sizeof(kid2);
	int rc;

	*out = NULL;
	if ((id = identity_new(e)) == NULL)
		return -1;
	d.data = (unsigned char *)(uintptr_t)pem;
	d.size = (unsigned)len;
	if ((rc = gnutls_x509_privkey_import2(id->key, &d,
	    GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN)) < 0) {
		quic_identity_free(id);
		return error_set(e, EXIT_USAGE, "no usable private key: %s",
		    gnutls_strerror(rc));
	}
	if ((rc = gnutls_x509_crt_import(id->crt, &d,
	    GNUTLS_X509_FMT_PEM)) < 0) {
		quic_identity_free(id);
		return error_set(e, EXIT_USAGE, "no usable certificate: %s",
		    gnutls_strerror(rc));
	}
	if (gnutls_x509_crt_get_key_id(id->crt, 0, kid1, &kl1) < 0 ||
	    gnutls_x509_privkey_get_key_id(id->key, 0, kid2, &kl2) < 0 ||
	    kl1 != kl2 || memcmp(kid1, kid2, kl1) != 0) {
		quic_identity_free(id);
		return error_set(e, EXIT_USAGE,
		    "the private key does not belong to the certificate");
	}
	if (identity_set_pin(id, e) != 0) {
		quic_identity_free(id);
		return -1;
	}
	*out = id;
	return 0;
}

int
quic_identity_load_file(struct quic_identity **out, const char *path,
    struct rcp_error *e)
{
	unsigned loose;
	char *buf;
	ssize_t n;
	int fd, rc;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return error_set_errno(e, EXIT_USAGE, "%s", path);
	/* An unencrypted private key: refused if others can read it. */
	if ((loose = secret_file_loose(fd, path)) != 0) {
		close(fd);
		return error_set(e, EXIT_USAGE, "%s: identity file is "
		    "accessible by group or others (mode %04o): chmod 600 it",
		    path, loose);
	}
	if ((buf = malloc(IDENTITY_FILE_MAX + 1)) == NULL) {
		close(fd);
		return error_set_errno(e, EXIT_FAIL, "%s", path);
	}
	n = io_read_full(fd, buf, IDENTITY_FILE_MAX + 1, NULL);
	if (n < 0) {
		error_set_errno(e, EXIT_USAGE, "%s", path);
		rc = -1;
	} else if (n > IDENTITY_FILE_MAX) {
		rc = error_set(e, EXIT_USAGE, "%s: too large for an identity "
		    "file (over %d bytes)", path, IDENTITY_FILE_MAX);
	} else {
		rc = quic_identity_load_pem(out, buf, (size_t)n, e);
		if (rc != 0 && e != NULL) {
			/* Prefix the file name, keep the reason. */
			char msg[sizeof(e->msg)];
			memcpy(msg, e->msg, sizeof(msg));
			error_set(e, e->status, "%s: %.400s", path, msg);
		}
	}
	close(fd);
	wipe(buf, IDENTITY_FILE_MAX + 1);
	free(buf);
	return rc;
}

int
quic_identity_export_pem(const struct quic_identity *id, char **pem,
    size_t *len, struct rcp_error *e)
{
	gnutls_datum_t k = { NULL, 0 }, c = { NULL, 0 };
	char *buf;
	int rc;

	*pem = NULL;
	*len = 0;
	if ((rc = gnutls_x509_privkey_export2_pkcs8(id->key,
	    GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &k)) < 0 ||
	    (rc = gnutls_x509_crt_export2(id->crt, GNUTLS_X509_FMT_PEM,
	    &c)) < 0) {
		if (k.data != NULL) {
			wipe(k.data, k.size);
			gnutls_free(k.data);
		}
		return error_set(e, EXIT_FAIL, "cannot export identity: %s",
		    gnutls_strerror(rc));
	}
	if ((buf = malloc((size_t)k.size + c.size + 1)) == NULL) {
		rc = -1;
	} else {
		memcpy(buf, k.data, k.size);
		memcpy(buf + k.size, c.data, c.size);
		buf[k.size + c.size] = '\0';
		*pem = buf;
		*len = (size_t)k.size + c.size;
		rc = 0;
	}
	wipe(k.data, k.size);
	gnutls_free(k.data);
	gnutls_free(c.data);
	if (rc != 0)
		return error_set(e, EXIT_FAIL, "cannot export identity: "
		    "out of memory");
	return 0;
}

void
quic_pem_free(char *pem, size_t len)
{
	if (pem == NULL)
		return;
	wipe(pem, len);
	free(pem);
}

/*
 * Without force an existing file is refused (status 2, as aescbc-keygen
 * does); with it the new file replaces the old one atomically: written
 * beside it, mode 0600, then renamed over it (a symbolic link is
 * replaced, not written through: a key is never written into a file
 * another name points at).
 */
int
quic_identity_write_file(const struct quic_identity *id, const char *path,
    int force, struct rcp_error *e)
{
	char *pem, *tmp = NULL, *dir;
	size_t len;
	int fd, rc = 0;

	if (quic_identity_export_pem(id, &pem, &len, e) != 0)
		return -1;
	if (!force) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	} else if ((dir = strdup(path)) == NULL ||
	    asprintf(&tmp, "%s/.%s.XXXXXX", dirname(dir),
	    strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path) < 0) {
		free(dir);
		quic_pem_free(pem, len);
		return error_set_errno(e, EXIT_FAIL, "%s", path);
	} else {
		free(dir);
		fd = mkostemp(tmp, O_CLOEXEC);	/* mode 0600 */
	}
	if (fd < 0) {
		quic_pem_free(pem, len);
		if (errno == EEXIST && !force)
			return error_set(e, EXIT_USAGE, "%s: file exists (use "
			    "--force to replace it)", path);
		rc = error_set_errno(e, EXIT_FAIL, "%s", tmp != NULL ?
		    tmp : path);
		free(tmp);
		return rc;
	}
	if (io_write_full(fd, pem, len) != 0) {
		rc = error_set_errno(e, EXIT_FAIL, "%s: write", path);
	} else if (fsync(fd) != 0 && errno != EINVAL) {
		rc = error_set_errno(e, EXIT_FAIL, "%s: fsync", path);
	}
	if (close(fd) != 0 && rc == 0)
		rc = error_set_errno(e, EXIT_FAIL, "%s: close", path);
	if (rc == 0 && tmp != NULL && rename(tmp, path) != 0)
		rc = error_set_errno(e, EXIT_FAIL, "%s: rename", path);
	if (rc != 0)
		unlink(tmp != NULL ? tmp : path);
	free(tmp);
	quic_pem_free(pem, len);
	return rc;
}

const char *
quic_identity_pin(const struct quic_identity *id)
{
	return id->pin;
}

void
quic_identity_free(struct quic_identity *id)
{
	if (id == NULL)
		return;
	/* GnuTLS zeroes the key parameters when it releases them. */
	if (id->key != NULL)
		gnutls_x509_privkey_deinit(id->key);
	if (id->crt != NULL)
		gnutls_x509_crt_deinit(id->crt);
	wipe(id, sizeof(*id));
	free(id);
}

int
quic_identity_set_creds(const struct quic_identity *id,
    gnutls_certificate_credentials_t cred, struct rcp_error *e)
{
	gnutls_x509_crt_t crt = id->crt;
	int rc;

	if ((rc = gnutls_certificate_set_x509_key(cred, &crt, 1,
	    id->key)) < 0)
		return error_set(e, EXIT_FAIL, "certificate: %s",
		    gnutls_strerror(rc));
	return 0;
}

int
quic_pin_parse(const char *s, char out[QUIC_PIN_SIZE], struct rcp_error *e)
{
	size_t i;

	if (strncasecmp(s, QUIC_PIN_PREFIX, 7) != 0 ||
	    strlen(s) != QUIC_PIN_LEN)
		return error_set(e, EXIT_USAGE, "%s: not a pin: expected "
		    "sha256: and 64 hex digits", s);
	for (i = 7; i < QUIC_PIN_LEN; i++)
		if (!isxdigit((unsigned char)s[i]))
			return error_set(e, EXIT_USAGE, "%s: not a pin: "
			    "expected sha256: and 64 hex digits", s);
	memcpy(out, QUIC_PIN_PREFIX, 7);
	for (i = 7; i < QUIC_PIN_LEN; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[QUIC_PIN_LEN] = '\0';
	return 0;
}
