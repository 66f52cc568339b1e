/* ssh_session.c: connect, verify the host key, authenticate (SPEC §6). */
#include <errno.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "known_hosts.h"
#include "ssh_config.h"
#include "ssh_session.h"

const char *
ssh_home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home != NULL && *home != '\0')
		return home;
	pw = getpwuid(getuid());
	return pw != NULL && pw->pw_dir != NULL ? pw->pw_dir : "/";
}

/* -v: one step of the login, handed to the caller to print. */
static void __attribute__((format(printf, 2, 3)))
step(const struct ssh_target *t, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (t->debug == NULL || t->verbose <= 0)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	t->debug(line);
}

/* Splits [USER@]HOST at the last '@', as ssh(1) does. */
static int
split_dest(struct ssh_conn *c, const char *dest, struct rcp_error *e)
{
	const char *at = strrchr(dest, '@');
	const char *host = at != NULL ? at + 1 : dest;

	c->user[0] = '\0';
	if (at != NULL) {
		if ((size_t)(at - dest) >= sizeof(c->user) || at == dest)
			return error_set(e, SSH_EXIT_SSH, "%s: bad user name",
			    dest);
		memcpy(c->user, dest, (size_t)(at - dest));
		c->user[at - dest] = '\0';
	}
	if (*host == '\0' || strlen(host) >= sizeof(c->host))
		return error_set(e, SSH_EXIT_SSH, "%s: bad host name", dest);
	strcpy(c->host, host);
	return 0;
}

/* OpenSSH names key types in upper case without the "ssh-" prefix. */
static const char *
key_type_label(ssh_key key)
{
	switch (ssh_key_type(key)) {
	case SSH_KEYTYPE_ED25519:
		return "ED25519";
	case SSH_KEYTYPE_RSA:
		return "RSA";
	case SSH_KEYTYPE_ECDSA_P256:
	case SSH_KEYTYPE_ECDSA_P384:
	case SSH_KEYTYPE_ECDSA_P521:
		return "ECDSA";
	default:
		return ssh_key_type_to_char(ssh_key_type(key));
	}
}

/* Fills c->key_desc with the server key's type and SHA256 fingerprint. */
static int
describe_server_key(struct ssh_conn *c, struct rcp_error *e)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	if (ssh_get_server_publickey(c->s, &key) != SSH_OK)
		return error_set(e, SSH_EXIT_SSH, "%s: no server host key: %s",
		    c->host, ssh_get_error(c->s));
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &hlen) != 0) {
		ssh_key_free(key);
		return error_set(e, SSH_EXIT_SSH, "%s: cannot hash host key",
		    c->host);
	}
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	snprintf(c->key_desc, sizeof(c->key_desc), "%s key fingerprint is %s",
	    key_type_label(key), fp != NULL ? fp : "(unknown)");
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return 0;
}

/*
 * StrictHostKeyChecking as ssh(1) reads it.  libssh knows only yes and
 * no, and with no trusts any key, changed ones included: we read it
 * ourselves and turn libssh's own check back on.  accept-new is
 * --accept-new-host-key; no (off, false) is taken as accept-new, said
 * in a warning: a changed or revoked key is refused whatever it says.
 */
static int
config_accepts_new(struct ssh_conn *c, const struct ssh_target *t)
{
	char v[32], where[1200];

	/* -o first, as ssh(1) reads it before any file. */
	if (ssh_option_lookup(t, "StrictHostKeyChecking", v, sizeof(v)))
		snprintf(where, sizeof(where), "-o");
	/* From a Match block that may not apply: the default, strict. */
	else if (ssh_config_lookup(t->config, c->host, c->hostname,
	    "StrictHostKeyChecking", v, sizeof(v), where, sizeof(where)) != 1)
		return 0;
	if (strcmp(v, "accept-new") == 0)
		return 1;
	if (strcmp(v, "no") != 0 && strcmp(v, "off") != 0 &&
	    strcmp(v, "false") != 0)
		return 0;
	snprintf(c->note, sizeof(c->note), "warning: StrictHostKeyChecking "
	    "%s (%.900s) is taken as accept-new: an unknown host key is "
	    "recorded, a changed one refused", v, where);
	return 1;
}

/* An "@revoked" line in the user's or the global known_hosts. */
static int
check_revoked(struct ssh_conn *c, struct rcp_error *e)
{
	char *global = NULL;
	const char *file = c->known_hosts;
	ssh_key key = NULL;
	int line = 0, rc = 0;

	if (ssh_get_server_publickey(c->s, &key) != SSH_OK)
		return error_set(e, SSH_EXIT_SSH, "%s: no server host key: %s",
		    c->host, ssh_get_error(c->s));
	if ((line = known_hosts_revoked(file, key)) == 0 &&
	    ssh_options_get(c->s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, &global) ==
	    SSH_OK && global != NULL) {
		file = global;
		line = known_hosts_revoked(file, key);
	}
	if (line != 0) {
		c->hostkey_revoked = 1;
		rc = error_set(e, SSH_EXIT_SSH, "%s: host key verification "
		    "failed: the %s, which is marked @revoked in %s line %d",
		    c->host, c->key_desc, file, line);
	}
	ssh_string_free_char(global);
	ssh_key_free(key);
	return rc;
}

/* Records an unknown host's key, hashed when HashKnownHosts says so. */
static int
record_host(struct ssh_conn *c, const struct ssh_target *t,
    struct rcp_error *e)
{
	char v[32], where[8];

	/* Hashed when -o, or else any block that may apply, says so. */
	if ((ssh_option_lookup(t, "HashKnownHosts", v, sizeof(v)) ||
	    ssh_config_lookup(t->config, c->host, c->hostname,
	    "HashKnownHosts", v, sizeof(v), where, sizeof(where)) != 0) &&
	    (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)) {
		if (known_hosts_append_hashed(c->s, c->known_hosts, e) != 0)
			return error_set(e, SSH_EXIT_SSH, "%s: cannot record "
			    "host key: %s", c->host, e->msg);
	} else if (ssh_session_update_known_hosts(c->s) != SSH_OK) {
		return error_set(e, SSH_EXIT_SSH, "%s: cannot record host key "
		    "in %s: %s", c->host, c->known_hosts, ssh_get_error(c->s));
	}
	c->hostkey_added = 1;
	return 0;
}

/*
 * The OpenSSH policy: a known key passes, an unknown one needs
 * accept-new, a changed (or other-type) or revoked one never passes.
 */
static int
verify_host(struct ssh_conn *c, const struct ssh_target *t,
    struct rcp_error *e)
{
	enum ssh_known_hosts_e st;
	int accept_new = config_accepts_new(c, t) || t->accept_new;
	int strict = 1, line;
	char name[300];

	if (describe_server_key(c, e) != 0 || check_revoked(c, e) != 0)
		return -1;
	if (ssh_options_set(c->s, SSH_OPTIONS_STRICTHOSTKEYCHECK, &strict) < 0)
		return error_set(e, SSH_EXIT_SSH, "%s: bad option: %s",
		    c->host, ssh_get_error(c->s));
	st = ssh_session_is_known_server(c->s);
	switch (st) {
	case SSH_KNOWN_HOSTS_OK:
		return 0;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		c->hostkey_changed = 1;
		line = known_hosts_line_of(c->s, c->known_hosts, name,
		    sizeof(name));
		if (line == 0)
			return error_set(e, SSH_EXIT_SSH, "%s: host key "
			    "verification failed: the %s, which differs from "
			    "the key recorded in %s; remove the old entry "
			    "(ssh-keygen -R) only if you know why it changed",
			    c->host, c->key_desc, c->known_hosts);
		return error_set(e, SSH_EXIT_SSH, "%s: host key verification "
		    "failed: the %s, which differs from the key recorded in "
		    "%s:%d; only if you know why it changed, remove it with: "
		    "ssh-keygen -f '%s' -R '%s'", c->host, c->key_desc,
		    c->known_hosts, line, c->known_hosts, name);
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		if (!accept_new)
			return error_set(e, SSH_EXIT_SSH, "%s: host key "
			    "verification failed: host unknown (%s; not in "
			    "%s); check it, then rerun with "
			    "--accept-new-host-key to record it", c->host,
			    c->key_desc, c->known_hosts);
		return record_host(c, t, e);
	case SSH_KNOWN_HOSTS_ERROR:
	default:
		return error_set(e, SSH_EXIT_SSH, "%s: cannot check host key "
		    "against %s: %s", c->host, c->known_hosts,
		    ssh_get_error(c->s));
	}
}

static int
authenticate(struct ssh_conn *c, const struct ssh_target *t,
    struct rcp_error *e)
{
	ssh_key key = NULL;
	int rc;

	if (t->identity == NULL) {
		/* Agent, then config IdentityFile and the default files. */
		rc = ssh_userauth_publickey_auto(c->s, NULL, NULL);
	} else {
		/* ssh -i: the agent, then this file only. */
		rc = SSH_AUTH_DENIED;
		if (getenv("SSH_AUTH_SOCK") != NULL)
			rc = ssh_userauth_agent(c->s, NULL);
		if (rc != SSH_AUTH_SUCCESS && rc != SSH_AUTH_ERROR) {
			if (ssh_pki_import_privkey_file(t->identity, NULL,
			    NULL, NULL, &key) != SSH_OK)
				return error_set(e, SSH_EXIT_SSH, "%s: cannot "
				    "load private key (missing, unreadable, "
				    "malformed, or passphrase-protected: load "
				    "it into ssh-agent instead)", t->identity);
			rc = ssh_userauth_publickey(c->s, NULL, key);
			ssh_key_free(key);
		}
	}
	if (rc == SSH_AUTH_SUCCESS)
		return 0;
	if (rc == SSH_AUTH_ERROR)
		return error_set(e, SSH_EXIT_SSH, "%s: authentication "
		    "failed: %s", c->host, ssh_get_error(c->s));
	return error_set(e, SSH_EXIT_SSH, "%s@%s: Permission denied "
	    "(publickey)", c->user, c->host);
}

static void
note_peer_address(struct ssh_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	socket_t fd = ssh_get_fd(c->s);

	c->addr[0] = '\0';
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	/*
	 * Through a ProxyCommand or ProxyJump libssh talks to a local socket
	 * pair, which says nothing about where the host is: leave addr empty
	 * rather than let getnameinfo() answer "localhost".
	 */
	if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
		return;
	if (getnameinfo((struct sockaddr *)&ss, len, c->addr,
	    sizeof(c->addr), NULL, 0, NI_NUMERICHOST) != 0)
		c->addr[0] = '\0';
}

int
ssh_conn_open(struct ssh_conn *c, const struct ssh_target *t,
    struct rcp_error *e)
{
	char sshdir[1024], config[1200], user_o[8];
	char *user = NULL;
	unsigned port = 0;
	int no = 0, level;

	memset(c, 0, sizeof(*c));
	if (split_dest(c, t->dest, e) != 0)
		return -1;
	snprintf(sshdir, sizeof(sshdir), "%.1000s/.ssh", ssh_home_dir());
	snprintf(c->known_hosts, sizeof(c->known_hosts), "%s/known_hosts",
	    sshdir);
	if (t->config != NULL)
		snprintf(config, sizeof(config), "%s", t->config);
	else
		snprintf(config, sizeof(config), "%s/config", sshdir);
	if (t->config != NULL && access(config, R_OK) != 0)
		return error_set_errno(e, SSH_EXIT_SSH, "%s", config);

	if ((c->s = ssh_new()) == NULL)
		return error_set(e, SSH_EXIT_SSH, "cannot create SSH session");
	/* -v, -vv, -vvv as ssh's debug1..3: libssh's info, packets, calls. */
	if (t->verbose > 0) {
		level = t->verbose == 1 ? SSH_LOG_PROTOCOL : t->verbose == 2 ?
		    SSH_LOG_PACKET : SSH_LOG_FUNCTIONS;
		if (ssh_options_set(c->s, SSH_OPTIONS_LOG_VERBOSITY, &level) < 0)
			goto opt_fail;
	}
	/*
	 * Order matters: HOST first (Host blocks match on it), then -o and
	 * the config file, then the other options, which win as in ssh(1).
	 */
	if (ssh_options_set(c->s, SSH_OPTIONS_SSH_DIR, sshdir) < 0 ||
	    ssh_options_set(c->s, SSH_OPTIONS_HOST, c->host) < 0 ||
	    ssh_options_set(c->s, SSH_OPTIONS_KNOWNHOSTS, c->known_hosts) < 0 ||
	    ssh_options_set(c->s, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0)
		goto opt_fail;
	/*
	 * -o before the files: libssh, like ssh(1), keeps the first value
	 * it obtains for a keyword.
	 */
	if (ssh_options_apply(c->s, t, e) != 0)
		goto fail;
	/* The default config exists or not; -F CONFIG was checked above. */
	if (ssh_options_parse_config(c->s, t->config != NULL ? config : NULL)
	    < 0) {
		error_set(e, SSH_EXIT_SSH, "%s: bad configuration: %s", config,
		    ssh_get_error(c->s));
		goto fail;
	}
	/* The name after HostName, for Match host. */
	if (ssh_options_get(c->s, SSH_OPTIONS_HOST, &user) == SSH_OK) {
		snprintf(c->hostname, sizeof(c->hostname), "%s", user);
		ssh_string_free_char(user);
		user = NULL;
	}
	/* As in ssh(1): -l, else -o User, else USER@, else the config. */
	if (t->login != NULL)
		snprintf(c->user, sizeof(c->user), "%s", t->login);
	else if (ssh_option_lookup(t, "User", user_o, sizeof(user_o)))
		c->user[0] = '\0';
	if (c->user[0] != '\0' &&
	    ssh_options_set(c->s, SSH_OPTIONS_USER, c->user) < 0)
		goto opt_fail;
	if (t->port != 0 && ssh_options_set(c->s, SSH_OPTIONS_PORT, &t->port)
	    < 0)
		goto opt_fail;
	/* UserKnownHostsFile from the config stands unless overridden. */
	if (t->known_hosts != NULL && ssh_options_set(c->s,
	    SSH_OPTIONS_KNOWNHOSTS, t->known_hosts) < 0)
		goto opt_fail;
	if (t->connect_timeout > 0 && ssh_options_set(c->s,
	    SSH_OPTIONS_TIMEOUT, &t->connect_timeout) < 0)
		goto opt_fail;
	if (ssh_options_get(c->s, SSH_OPTIONS_USER, &user) == SSH_OK) {
		snprintf(c->user, sizeof(c->user), "%s", user);
		ssh_string_free_char(user);
	}

	(void)ssh_options_get_port(c->s, &port);
	step(t, "%s: connecting to %s port %u as %s", c->host,
	    c->hostname[0] != '\0' ? c->hostname : c->host, port, c->user);
	if (ssh_connect(c->s) != SSH_OK) {
		error_set(e, SSH_EXIT_SSH, "%s: %s", c->host,
		    ssh_get_error(c->s));
		goto fail;
	}
	note_peer_address(c);
	/* Read back once connected: libssh expands ~ and %-tokens then. */
	if (ssh_options_get(c->s, SSH_OPTIONS_KNOWNHOSTS, &user) == SSH_OK) {
		snprintf(c->known_hosts, sizeof(c->known_hosts), "%s", user);
		ssh_string_free_char(user);
		user = NULL;
	}
	step(t, "%s: connected to %s", c->host,
	    c->addr[0] != '\0' ? c->addr : "(a proxy)");
	if (verify_host(c, t, e) != 0)
		goto fail;
	step(t, "%s: host key %s: %s", c->host, c->hostkey_added ?
	    "recorded" : "verified", c->key_desc);
	if (authenticate(c, t, e) != 0)
		goto fail;
	step(t, "%s: authenticated as %s", c->host, c->user);
	return 0;

opt_fail:
	error_set(e, SSH_EXIT_SSH, "%s: bad option: %s", c->host,
	    ssh_get_error(c->s));
fail:
	ssh_disconnect(c->s);
	ssh_free(c->s);
	c->s = NULL;
	return -1;
}

void
ssh_conn_close(struct ssh_conn *c)
{
	if (c->s == NULL)
		return;
	ssh_disconnect(c->s);
	ssh_free(c->s);
	c->s = NULL;
}
