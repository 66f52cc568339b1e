/*
 * ssh_session.h: open an SSH connection the way ssh(1) would (SPEC §6):
 * [USER@]HOST, -p, -l, -i, -F, known_hosts verification, public-key
 * authentication (agent first, then -i or the default identities).
 *
 * libssh resolves "~" through the password database, not $HOME; these
 * functions resolve ~/.ssh from $HOME first, as OpenSSH users expect
 * when they point HOME elsewhere (and as the tests rely on).
 */
#ifndef RCP_SSH_SESSION_H
#define RCP_SSH_SESSION_H

#include <libssh/libssh.h>

#include "rcp.h"

/* ssh(1)'s status for "SSH itself failed"; SPEC §6. */
#define SSH_EXIT_SSH 255

/* What the user asked for; NULL or 0 means "the default". */
struct ssh_target {
	const char *dest;		/* [USER@]HOST, required */
	const char *login;		/* -l USER: wins over USER@, as in ssh(1) */
	unsigned port;			/* -p PORT, 0: config or 22 */
	const char *identity;		/* -i KEYFILE */
	const char *config;		/* -F CONFIG; default ~/.ssh/config */
	const char *known_hosts;	/* default ~/.ssh/known_hosts */
	int accept_new;			/* record an unknown host key */
	long connect_timeout;		/* seconds, 0: none */
	char *const *options;		/* -o arguments, checked, in order */
	int noptions;
	int verbose;			/* -v count: 0, 1, 2, 3 */
	void (*debug)(const char *line);	/* -v: a step, or NULL */
};

struct ssh_conn {
	ssh_session s;
	char host[256];		/* HOST as the user wrote it */
	char hostname[256];	/* after the config's HostName */
	char user[128];		/* user name we logged in as */
	char addr[64];		/* numeric address we reached (no brackets) */
	int hostkey_changed;	/* set when refused for a changed key */
	int hostkey_added;	/* set when --accept-new-host-key recorded it */
	int hostkey_revoked;	/* set when refused for an @revoked key */
	char note[1200];	/* a warning about the config, or "" */
	char key_desc[128];	/* "ED25519 key fingerprint is SHA256:..." */
	char known_hosts[1200];	/* the file that was consulted */
};

/*
 * Connects, verifies the host key and authenticates.  Returns 0, or -1
 * with e->status SSH_EXIT_SSH and a message naming the host (e.g.
 * "db1: Permission denied (publickey)").  On failure c->s is freed.
 * main() may print a loud banner when c->hostkey_changed or
 * c->hostkey_revoked is set, a note when c->hostkey_added is set, and
 * c->note when it is not empty.
 */
int ssh_conn_open(struct ssh_conn *c, const struct ssh_target *t,
    struct rcp_error *e);

/* Disconnects and frees; safe on a connection that failed to open. */
void ssh_conn_close(struct ssh_conn *c);

/*
 * -o: checks one argument as ssh(1) reads it ("Keyword=value",
 * "Keyword value"), its keyword lower-cased into kw.  Returns 0 when
 * libssh's config parser or rcp-launch applies it; 1 when libssh knows
 * the keyword but ignores it (e->msg then holds a warning); -1 with e
 * (status SSH_EXIT_SSH) for an unknown keyword, a missing or bad value,
 * or Host, Match and Include, which ssh refuses there too.
 */
int ssh_option_check(const char *arg, char *kw, size_t ksize,
    struct rcp_error *e);

/* Splits "Keyword[ =]value": kw lower-cased.  Returns 0, or -1. */
int ssh_option_split(const char *arg, char *kw, size_t ksize,
    const char **value);

/*
 * The first -o value for keyword (its first word, lower-cased), for
 * the keywords rcp-launch reads itself.  Returns 1 with value, or 0.
 */
int ssh_option_lookup(const struct ssh_target *t, const char *keyword,
    char *value, size_t vsize);

/*
 * Hands t's -o options to libssh's config parser.  Call it before the
 * config files are parsed: libssh keeps the first value it obtains for
 * a keyword, so -o wins, as in ssh(1).  Returns 0, or -1 with e.
 */
int ssh_options_apply(ssh_session s, const struct ssh_target *t,
    struct rcp_error *e);

/* The user's home directory: $HOME if set, else the password entry. */
const char *ssh_home_dir(void);

#endif
