/* known_hosts.c: @revoked lines and hashed names, beside libssh's. */
#define _GNU_SOURCE	/* O_CLOEXEC, getline */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "io.h"
#include "known_hosts.h"
#include "ssh_session.h"

#define HASH_SALT_LEN 20	/* SHA-1's size, as ssh(1) uses */

/* "@revoked PATTERNS TYPE BASE64 [COMMENT]": whether it names key. */
static int
revoked_line_names(char *line, ssh_key key)
{
	char *save = NULL, *marker, *type, *b64;
	enum ssh_keytypes_e kt;
	ssh_key k = NULL;
	int same;

	if ((marker = strtok_r(line, " \t\r\n", &save)) == NULL ||
	    strcmp(marker, "@revoked") != 0 ||
	    strtok_r(NULL, " \t\r\n", &save) == NULL ||	/* patterns */
	    (type = strtok_r(NULL, " \t\r\n", &save)) == NULL ||
	    (b64 = strtok_r(NULL, " \t\r\n", &save)) == NULL)
		return 0;
	if ((kt = ssh_key_type_from_name(type)) == SSH_KEYTYPE_UNKNOWN ||
	    ssh_pki_import_pubkey_base64(b64, kt, &k) != SSH_OK)
		return 0;
	same = ssh_key_cmp(k, key, SSH_KEY_CMP_PUBLIC) == 0;
	ssh_key_free(k);
	return same;
}

int
known_hosts_revoked(const char *file, ssh_key key)
{
	char *line = NULL;
	size_t cap = 0;
	int n = 0, found = 0;
	FILE *f;

	if ((f = fopen(file, "re")) == NULL)
		return 0;
	while (!found && getline(&line, &cap, f) > 0) {
		n++;
		if (line[strspn(line, " \t")] == '@' &&
		    revoked_line_names(line, key))
			found = n;
	}
	free(line);
	fclose(f);
	return found;
}

int
known_hosts_line_of(ssh_session s, const char *file, char *host,
    size_t hsize)
{
	struct ssh_knownhosts_entry *entry = NULL;
	char *line = NULL, *token = NULL, *sp;
	size_t cap = 0;
	int n = 0, found = 0;
	FILE *f;

	host[0] = '\0';
	if (ssh_session_export_known_hosts_entry(s, &token) != SSH_OK)
		return 0;
	if ((sp = strchr(token, ' ')) != NULL)
		*sp = '\0';
	snprintf(host, hsize, "%s", token);
	if ((f = fopen(file, "re")) == NULL) {
		ssh_string_free_char(token);
		return 0;
	}
	while (!found && getline(&line, &cap, f) > 0) {
		n++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[strspn(line, " \t")] == '@' ||
		    line[strspn(line, " \t")] == '#')
			continue;
		if (ssh_known_hosts_parse_line(token, line, &entry) == SSH_OK &&
		    entry != NULL)
			found = n;
		ssh_knownhosts_entry_free(entry);
		entry = NULL;
	}
	free(line);
	fclose(f);
	ssh_string_free_char(token);
	return found;
}

/* base64 of n bytes into out (at least 4 * ceil(n / 3) + 1 bytes). */
static void
b64(char *out, const unsigned char *in, size_t n)
{
	(void)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static int
open_append(const char *file)
{
	char dir[1200];
	int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd >= 0 || errno != ENOENT)
		return fd;
	snprintf(dir, sizeof(dir), "%s", file);
	if (mkdir(dirname(dir), 0700) != 0 && errno != EEXIST)
		return -1;
	return open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

int
known_hosts_append_hashed(ssh_session s, const char *file,
    struct rcp_error *e)
{
	unsigned char salt[HASH_SALT_LEN], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char salt64[64], mac64[64], *entry = NULL, *rest, *out = NULL;
	int fd, n, rc = -1;

	if (ssh_session_export_known_hosts_entry(s, &entry) != SSH_OK ||
	    (rest = strchr(entry, ' ')) == NULL) {
		error_set(e, SSH_EXIT_SSH, "cannot make a known_hosts line: %s",
		    ssh_get_error(s));
		goto out;
	}
	*rest++ = '\0';
	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt) ||
	    HMAC(EVP_sha1(), salt, sizeof(salt), (unsigned char *)entry,
	    strlen(entry), mac, &maclen) == NULL) {
		error_set(e, SSH_EXIT_SSH, "cannot hash the host name");
		goto out;
	}
	b64(salt64, salt, sizeof(salt));
	b64(mac64, mac, maclen);
	if ((n = asprintf(&out, "|1|%s|%s %s%s", salt64, mac64, rest,
	    rest[strlen(rest) - 1] == '\n' ? "" : "\n")) < 0) {
		out = NULL;
		error_set_errno(e, SSH_EXIT_SSH, "known_hosts line");
		goto out;
	}
	if ((fd = open_append(file)) < 0) {
		error_set_errno(e, SSH_EXIT_SSH, "%s", file);
		goto out;
	}
	if (io_write_full(fd, out, (size_t)n) != 0) {
		error_set_errno(e, SSH_EXIT_SSH, "%s: write", file);
		close(fd);
		goto out;
	}
	rc = close(fd) == 0 ? 0 : error_set_errno(e, SSH_EXIT_SSH,
	    "%s: close", file);
out:
	ssh_string_free_char(entry);
	free(out);
	return rc;
}
