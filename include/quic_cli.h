/*
 * quic_cli.h: the options rcp-quic-send and rcp-quic-recv share
 * (SPEC §5), parsed once for both.
 */
#ifndef RCP_QUIC_CLI_H
#define RCP_QUIC_CLI_H

#include <getopt.h>

#include "cli.h"
#include "quic.h"

/* Option codes above the ASCII range, for getopt_long. */
enum {
	QOPT_LISTEN = 256, QOPT_CONNECT, QOPT_PIN, QOPT_PEER_PIN,
	QOPT_IDENTITY, QOPT_GEN_IDENTITY, QOPT_PORT_RANGE, QOPT_READY_FD,
	QOPT_ADVERTISE, QOPT_ACCEPT_TIMEOUT, QOPT_CONNECT_TIMEOUT,
	QOPT_IDLE_TIMEOUT, QOPT_CC, QOPT_STATS, QOPT_PROGRESS, QOPT_FORCE,
	QOPT_LIMIT_RATE, QOPT_CONNECTIONS,
};

#define QUIC_CLI_LONGOPTS \
	{ "listen", required_argument, NULL, QOPT_LISTEN }, \
	{ "connect", required_argument, NULL, QOPT_CONNECT }, \
	{ "pin", required_argument, NULL, QOPT_PIN }, \
	{ "peer-pin", required_argument, NULL, QOPT_PEER_PIN }, \
	{ "identity", required_argument, NULL, QOPT_IDENTITY }, \
	{ "gen-identity", required_argument, NULL, QOPT_GEN_IDENTITY }, \
	{ "force", no_argument, NULL, QOPT_FORCE }, \
	{ "port-range", required_argument, NULL, QOPT_PORT_RANGE }, \
	{ "ready-fd", required_argument, NULL, QOPT_READY_FD }, \
	{ "advertise", required_argument, NULL, QOPT_ADVERTISE }, \
	{ "accept-timeout", required_argument, NULL, QOPT_ACCEPT_TIMEOUT }, \
	{ "connect-timeout", required_argument, NULL, QOPT_CONNECT_TIMEOUT }, \
	{ "idle-timeout", required_argument, NULL, QOPT_IDLE_TIMEOUT }, \
	{ "cc", required_argument, NULL, QOPT_CC }, \
	{ "stats", no_argument, NULL, QOPT_STATS }, \
	CLI_LONGOPT_PROGRESS(QOPT_PROGRESS)

/* The OPTIONS part of both usage texts (man page SYNOPSIS). */
#define QUIC_CLI_USAGE_OPTIONS \
	"OPTIONS: [--identity FILE] [--peer-pin sha256:HEX]\n" \
	"         [--port-range LO-HI[,LO-HI...]] [--ready-fd N] " \
	"[--advertise HOST]\n" \
	"         [--accept-timeout SECS] [--connect-timeout SECS] " \
	"[--idle-timeout SECS]\n" \
	"         [--cc cubic|bbr|reno] [--stats] [--progress[=NAME]]\n"

/*
 * The -h lines of QUIC_CLI_LONGOPTS (struct cli_help), as
 * man/rcp-quic-send.1 describes them; each program adds its own.
 */
#define QUIC_CLI_HELP \
	{ "--listen [ADDR:]PORT", "listen and serve one transfer (port 0: any)" }, \
	{ "--connect HOST:PORT", "connect to a listener" }, \
	{ "--pin sha256:HEX", "the listener's pin, from its ready line" }, \
	{ "--peer-pin sha256:HEX", "accept only a client with this pin" }, \
	{ "--identity FILE", "use this key and certificate, not ephemeral" }, \
	{ "--gen-identity FILE", "write a new identity, print its pin, exit" }, \
	{ "--force", "let --gen-identity replace an existing FILE" }, \
	{ "--port-range LO-HI,...", "listen on a free port in these ranges" }, \
	{ "--ready-fd N", "write the ready line to fd N, not stderr" }, \
	{ "--advertise HOST", "put HOST in the ready line" }, \
	{ "--accept-timeout SECS", "stop listening after SECS (default 120)" }, \
	{ "--connect-timeout SECS", "give up a handshake after SECS (default 15)" }, \
	{ "--idle-timeout SECS", "end after SECS of silence (default 30)" }, \
	{ "--cc cubic|bbr|reno", "congestion control (default bbr)" }

struct quic_cli {
	struct quic_opts o;
	const char *listen, *connect, *pin_arg, *peer_pin_arg;
	const char *identity_path, *gen_identity, *port_range;
	const char *ready_fd_arg, *advertise, *accept_timeout_arg;
	char host[QUIC_HOST_MAX];
	char pin[QUIC_PIN_SIZE], peer_pin[QUIC_PIN_SIZE];
	struct quic_port_range ranges[QUIC_PORT_RANGES_MAX];
	struct quic_identity *identity;	/* loaded --identity, or NULL */
	const char *progress_label;	/* --progress[=NAME], or NULL */
	int stats;
	int force;		/* --gen-identity --force */
};

void quic_cli_init(struct quic_cli *c, enum quic_dir dir);
/*
 * Takes one option.  Returns 1 if it was one of QUIC_CLI_LONGOPTS, 0 if
 * not (the caller's own), -1 with *e (status 2) for a bad value.
 */
int quic_cli_option(struct quic_cli *c, int ch, const char *arg,
    struct rcp_error *e);
/*
 * After getopt: checks the combination of options and loads --identity.
 * Returns 0 or -1 with *e (status 2; a reason for usage()).
 */
int quic_cli_check(struct quic_cli *c, struct rcp_error *e);
/*
 * --gen-identity: writes a fresh identity to the file and copies its pin
 * into pin.  Returns 0 or -1 with *e.
 */
int quic_cli_gen_identity(const struct quic_cli *c, char pin[QUIC_PIN_SIZE],
    struct rcp_error *e);
void quic_cli_free(struct quic_cli *c);

/*
 * GnuTLS writes every TLS secret to the file named by SSLKEYLOGFILE, an
 * inherited variable the user may never have meant for us.  Removes it
 * from the environment, or points it at file when the user asked for a
 * key log by name (RCP_QUIC_KEYLOGFILE, a debugging aid).  Call first
 * thing in main, before GnuTLS reads it.  Returns 0, or -1 (errno).
 */
int quic_keylog_policy(const char *file);

#endif
