/*
 * quic_cli.c: option parsing shared by rcp-quic-send and rcp-quic-recv.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "quic_cli.h"

/* Upper bounds of the timeouts, in seconds: one day, or about 23 days. */
#define TIMEOUT_MAX 86400
#define ACCEPT_TIMEOUT_MAX 2000000

/* Puts "what " before the message in e.  Returns -1. */
static int
prefix(struct rcp_error *e, const char *what)
{
	char msg[sizeof(e->msg)];

	memcpy(msg, e->msg, sizeof(msg));
	return error_set(e, EXIT_USAGE, "%s %.480s", what, msg);
}

void
quic_cli_init(struct quic_cli *c, enum quic_dir dir)
{
	memset(c, 0, sizeof(*c));
	quic_opts_init(&c->o);
	c->o.dir = dir;
}

static int
timeout_opt(const char *name, const char *arg, uint64_t min, uint64_t max,
    unsigned *out, struct rcp_error *e)
{
	uint64_t v;

	if (parse_uint(arg, min, max, &v) != 0)
		return error_set(e, EXIT_USAGE, "%s %s: must be %llu..%llu "
		    "seconds", name, arg, (unsigned long long)min,
		    (unsigned long long)max);
	*out = (unsigned)v;
	return 0;
}

int
quic_cli_option(struct quic_cli *c, int ch, const char *arg,
    struct rcp_error *e)
{
	uint64_t v;

	switch (ch) {
	case QOPT_LISTEN:
		c->listen = arg;
		return 1;
	case QOPT_CONNECT:
		c->connect = arg;
		return 1;
	case QOPT_PIN:
		c->pin_arg = arg;
		if (quic_pin_parse(arg, c->pin, e) != 0)
			return error_set(e, EXIT_USAGE, "--pin %s: expected "
			    "sha256: and 64 hex digits", arg);
		return 1;
	case QOPT_PEER_PIN:
		c->peer_pin_arg = arg;
		if (quic_pin_parse(arg, c->peer_pin, e) != 0)
			return error_set(e, EXIT_USAGE, "--peer-pin %s: "
			    "expected sha256: and 64 hex digits", arg);
		return 1;
	case QOPT_IDENTITY:
		c->identity_path = arg;
		return 1;
	case QOPT_GEN_IDENTITY:
		c->gen_identity = arg;
		return 1;
	case QOPT_FORCE:
		c->force = 1;
		return 1;
	case QOPT_PORT_RANGE:
		c->port_range = arg;
		if (quic_parse_port_ranges(arg, c->ranges, &c->o.nranges,
		    e) != 0)
			return -1;
		c->o.ranges = c->ranges;
		return 1;
	case QOPT_READY_FD:
		c->ready_fd_arg = arg;
		if (parse_uint(arg, 0, 1000000, &v) != 0)
			return error_set(e, EXIT_USAGE, "--ready-fd %s: not a "
			    "file descriptor number", arg);
		if (fcntl((int)v, F_GETFD) < 0)
			return error_set(e, EXIT_USAGE, "--ready-fd %s: %s",
			    arg, strerror(errno));
		c->o.ready_fd = (int)v;
		return 1;
	case QOPT_ADVERTISE:
		c->advertise = arg;
		if (strlen(arg) == 0 || strlen(arg) >= QUIC_HOST_MAX ||
		    strpbrk(arg, " \t\n\r[]") != NULL)
			return error_set(e, EXIT_USAGE, "--advertise %s: not a "
			    "host name or address", arg);
		c->o.advertise = arg;
		return 1;
	case QOPT_ACCEPT_TIMEOUT:
		c->accept_timeout_arg = arg;
		return timeout_opt("--accept-timeout", arg, 0,
		    ACCEPT_TIMEOUT_MAX, &c->o.accept_timeout, e) ? -1 : 1;
	case QOPT_CONNECT_TIMEOUT:
		return timeout_opt("--connect-timeout", arg, 1, TIMEOUT_MAX,
		    &c->o.connect_timeout, e) ? -1 : 1;
	case QOPT_IDLE_TIMEOUT:
		return timeout_opt("--idle-timeout", arg, 1, TIMEOUT_MAX,
		    &c->o.idle_timeout, e) ? -1 : 1;
	case QOPT_CC:
		if (strcmp(arg, "cubic") == 0)
			c->o.cc = QUIC_CC_CUBIC;
		else if (strcmp(arg, "bbr") == 0)
			c->o.cc = QUIC_CC_BBR;
		else if (strcmp(arg, "reno") == 0)
			c->o.cc = QUIC_CC_RENO;
		else
			return error_set(e, EXIT_USAGE, "--cc %s: must be "
			    "cubic, bbr or reno", arg);
		return 1;
	case QOPT_LIMIT_RATE:
		if (parse_size(arg, 1, UINT64_MAX / 2, &v) != 0)
			return error_set(e, EXIT_USAGE, "--limit-rate %s: not "
			    "a rate in bytes per second: " PARSE_SIZE_FORMS,
			    arg);
		c->o.limit_rate = v;
		return 1;
	case QOPT_CONNECTIONS:
		if (strcmp(arg, "auto") == 0)
			v = 0;
		else if (parse_size(arg, 1, QUIC_CONNECTIONS_MAX, &v) != 0 ||
		    strspn(arg, "0123456789") != strlen(arg))
			return error_set(e, EXIT_USAGE, "--connections %s: "
			    "not auto or a number from 1 to %d", arg,
			    QUIC_CONNECTIONS_MAX);
		c->o.connections = (unsigned)v;
		return 1;
	case QOPT_STATS:
		c->stats = 1;
		return 1;
	case QOPT_PROGRESS:
		c->progress_label = cli_progress_label(arg);
		return 1;
	default:
		return 0;
	}
}

int
quic_cli_check(struct quic_cli *c, struct rcp_error *e)
{
	if (c->gen_identity != NULL) {
		if (c->listen || c->connect || c->pin_arg || c->peer_pin_arg ||
		    c->identity_path || c->port_range || c->ready_fd_arg ||
		    c->advertise)
			return error_set(e, EXIT_USAGE, "--gen-identity makes a "
			    "key file and exits: it takes no other option");
		return 0;
	}
	if (c->force)
		return error_set(e, EXIT_USAGE, "--force goes with "
		    "--gen-identity only");
	if (c->listen == NULL && c->connect == NULL)
		return error_set(e, EXIT_USAGE, "one of --listen or --connect "
		    "is needed");
	if (c->listen != NULL && c->connect != NULL)
		return error_set(e, EXIT_USAGE, "--listen and --connect "
		    "exclude each other");
	if (c->connect != NULL) {
		if (c->pin_arg == NULL)
			return error_set(e, EXIT_USAGE, "--connect needs --pin "
			    "sha256:HEX (the listener's ready line gives it); "
			    "there is no way to skip verification");
		if (c->peer_pin_arg != NULL)
			return error_set(e, EXIT_USAGE, "--peer-pin is for "
			    "--listen; with --connect the server is checked "
			    "by --pin");
		if (c->port_range != NULL)
			return error_set(e, EXIT_USAGE, "--port-range is for "
			    "--listen ADDR:0");
		if (c->ready_fd_arg != NULL)
			return error_set(e, EXIT_USAGE, "--ready-fd is for "
			    "--listen: a connector prints no ready line");
		if (c->advertise != NULL)
			return error_set(e, EXIT_USAGE, "--advertise is for "
			    "--listen");
		if (c->accept_timeout_arg != NULL)
			return error_set(e, EXIT_USAGE, "--accept-timeout is "
			    "for --listen; use --connect-timeout");
		if (quic_parse_hostport(c->connect, 0, c->host, &c->o.port,
		    e) != 0)
			return prefix(e, "--connect");
		if (c->host[0] == '\0' || c->o.port == 0)
			return error_set(e, EXIT_USAGE, "--connect %s: needs "
			    "HOST:PORT with a port of 1..65535", c->connect);
		c->o.role = QUIC_CONNECT;
		c->o.pin = c->pin;
	} else {
		if (c->pin_arg != NULL)
			return error_set(e, EXIT_USAGE, "--pin is for "
			    "--connect; a listener checks its peer with "
			    "--peer-pin");
		if (quic_parse_hostport(c->listen, 1, c->host, &c->o.port,
		    e) != 0)
			return prefix(e, "--listen");
		if (c->port_range != NULL && c->o.port != 0)
			return error_set(e, EXIT_USAGE, "--port-range needs "
			    "port 0 in --listen (ADDR:0)");
		c->o.role = QUIC_LISTEN;
		c->o.peer_pin = c->peer_pin_arg != NULL ? c->peer_pin : NULL;
		if (c->o.ready_fd < 0)
			c->o.ready_fd = STDERR_FILENO;
	}
	c->o.host = c->host;
	if (c->identity_path != NULL) {
		if (quic_identity_load_file(&c->identity, c->identity_path,
		    e) != 0)
			return -1;
		c->o.identity = c->identity;
	}
	return 0;
}

int
quic_cli_gen_identity(const struct quic_cli *c, char pin[QUIC_PIN_SIZE],
    struct rcp_error *e)
{
	struct quic_identity *id;
	int rc;

	if (quic_identity_generate(&id, e) != 0)
		return -1;
	rc = quic_identity_write_file(id, c->gen_identity, c->force, e);
	if (rc == 0)
		snprintf(pin, QUIC_PIN_SIZE, "%s", quic_identity_pin(id));
	quic_identity_free(id);
	return rc;
}

void
quic_cli_free(struct quic_cli *c)
{
	quic_identity_free(c->identity);
	c->identity = NULL;
}

int
quic_keylog_policy(const char *file)
{
	int fd;

	if (file == NULL || *file == '\0')
		return unsetenv("SSLKEYLOGFILE");
	/* GnuTLS appends to it with the umask's mode: make it 0600 first. */
	if ((fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) < 0)
		return -1;
	close(fd);
	return setenv("SSLKEYLOGFILE", file, 1);
}
