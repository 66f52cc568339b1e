/*
 * rcp-quic-main.h: the parts of the story that rcp-quic-send and
 * rcp-quic-recv tell alike.  Each program includes it once; it lives with
 * the programs, not in lib/, because it prints and exits.
 */
#ifndef RCP_QUIC_MAIN_H
#define RCP_QUIC_MAIN_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quic.h"
#include "quic_cli.h"
#include "rcp.h"
#include "sig.h"

/* quic_opts.log: the library's non-fatal events, as warnings. */
static void
quic_main_log(void *arg, const char *msg)
{
	(void)arg;
	diag_warnx("%s", msg);
}

/*
 * After getopt: checks the options (a bad combination goes to usage) and
 * serves --gen-identity, which writes the file, prints its pin and exits.
 * Takes the debugging switches from the environment.
 */
static void
quic_main_check(struct quic_cli *c, void (*usage)(const char *))
{
	struct rcp_error e;
	char pin[QUIC_PIN_SIZE];

	c->o.debug = getenv("RCP_QUIC_DEBUG") != NULL;
	c->o.no_gso = getenv("RCP_QUIC_NO_GSO") != NULL;

	if (quic_cli_check(c, &e) != 0) {
		if (e.status == EXIT_USAGE && c->identity_path == NULL)
			usage(e.msg);
		diag_die_error(&e);
	}
	if (c->gen_identity == NULL)
		return;
	if (quic_cli_gen_identity(c, pin, &e) != 0)
		diag_die_error(&e);
	printf("%s\n", pin);
	if (fflush(stdout) != 0 || ferror(stdout))
		diag_die(EXIT_FAIL, "stdout: %s", strerror(errno));
	exit(EXIT_OK);
}

/* --stats: one summary line on stderr, whatever the outcome. */
static void
quic_main_report_stats(const struct quic_cli *c, const struct quic_stats *st)
{
	char line[512];

	if (!c->stats)
		return;
	quic_stats_format(st, line, sizeof(line));
	diag_warnx("%s", line);
}

/*
 * SIGINT, SIGTERM, SIGHUP mid-transfer: the handler wakes the transfer
 * through its cancel fd, which closes the connection with the reason
 * given ("sender interrupted"), so that the peer fails at once, naming
 * it, instead of at its idle timeout; then the program dies of the
 * signal (quic_main_die_if_signalled), as a shell expects.  A signal the
 * parent ignores (nohup) stays ignored.
 */
static volatile sig_atomic_t quic_main_signal;
static int quic_main_wake = -1;

static void
quic_main_on_signal(int sig)
{
	int saved = errno;

	quic_main_signal = sig;
	(void)!write(quic_main_wake, "", 1);
	errno = saved;
}

static void
quic_main_catch_signals(struct quic_cli *c, const char *reason)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0)
		diag_die(EXIT_FAIL, "pipe: %s", strerror(errno));
	quic_main_wake = p[1];
	c->o.cancel_fd = p[0];
	c->o.cancel_reason = reason;
	sig_catch_stops(quic_main_on_signal);
}

/* After the transfer: die of the signal that ended it, if one did. */
static void
quic_main_die_if_signalled(void)
{
	int sig = quic_main_signal;

	if (sig == 0)
		return;
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(128 + sig);
}

#endif
