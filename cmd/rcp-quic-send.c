/*
 * rcp-quic-send: send FILE (or stdin) over QUIC to one rcp-quic-recv,
 * listening or connecting, and exit 0 only once the receiver confirmed
 * that its output is complete (SPEC §5).
 */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "io.h"
#include "progress.h"
#include "quic.h"
#include "quic_cli.h"
#include "rcp-quic-main.h"
#include "rcp.h"
#include "wipe.h"

/* As man/rcp-quic-send.1 describes them. */
static const struct cli_help options[] = {
	QUIC_CLI_HELP,
	{ "--limit-rate RATE", "send at most RATE bytes a second (10M: MiB/s)" },
	{ "--connections auto|N", "stripe the data over N connections (1-16)" },
	{ "--stats", "print a summary line on stderr at the end" },
	{ "--progress[=NAME]", "draw a progress line on stderr, labelled NAME" },
	CLI_HELP_COMMON,
	{ NULL, NULL }
};

static void __attribute__((noreturn))
usage(const char *reason)
{
	diag_usage_help(reason, options,
	    "usage: rcp-quic-send [OPTIONS] --listen [ADDR:]PORT [FILE]\n"
	    "       rcp-quic-send [OPTIONS] --connect HOST:PORT "
	    "--pin sha256:HEX [FILE]\n"
	    "       rcp-quic-send --gen-identity FILE [--force]\n"
	    QUIC_CLI_USAGE_OPTIONS
	    "         [--limit-rate RATE] [--connections auto|N]\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		QUIC_CLI_LONGOPTS,
		{ "limit-rate", required_argument, NULL, QOPT_LIMIT_RATE },
		{ "connections", required_argument, NULL, QOPT_CONNECTIONS },
		CLI_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 }
	};
	struct quic_cli c;
	struct quic_stats st;
	struct progress prog;
	struct rcp_error e;
	const char *input = NULL;
	uint64_t size = 0;
	int known;
	int ch, rc, in_fd = STDIN_FILENO;

	if (io_guard_stdfds() != 0 || secrets_guard() != 0 ||
	    quic_keylog_policy(getenv("RCP_QUIC_KEYLOGFILE")) != 0)
		return EXIT_FAIL;
	diag_init(argv[0]);
	quic_cli_init(&c, QUIC_SEND);
	while ((ch = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
		switch (quic_cli_option(&c, ch, optarg, &e)) {
		case 1:
			continue;
		case -1:
			usage(e.msg);
		}
		switch (ch) {
		case 'h':
			usage(NULL);
		case 'V':
			diag_version();
		default:
			diag_bad_option(ch, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (cli_file_operand(argc, argv, &input) != 0)
		usage("at most one FILE");
	if (c.gen_identity != NULL && argc > 0)
		usage("--gen-identity takes no FILE operand");
	quic_main_check(&c, usage);

	signal(SIGPIPE, SIG_IGN);
	if (input != NULL &&
	    (in_fd = open(input, O_RDONLY | O_CLOEXEC)) < 0)
		diag_die(EXIT_FAIL, "%s: %s", input, strerror(errno));
	io_grow_pipe(in_fd, IO_PIPE_SIZE);
	if (c.o.role == QUIC_LISTEN && c.o.peer_pin == NULL)
		diag_warnx("warning: no --peer-pin: accepting any peer");
	/* Two statements: argument evaluation order is unspecified in C. */
	known = io_regular_size(in_fd, &size);
	progress_init(&prog, c.progress_label, known, size);
	c.o.data_fd = in_fd;
	c.o.data_name = input;
	c.o.progress = &prog;
	c.o.log = quic_main_log;
	quic_main_catch_signals(&c, "sender interrupted");
	rc = quic_transfer(&c.o, &st, &e);
	progress_finish(&prog);
	quic_main_report_stats(&c, &st);
	quic_cli_free(&c);
	quic_main_die_if_signalled();
	if (rc != 0)
		diag_die_error(&e);
	return EXIT_OK;
}
