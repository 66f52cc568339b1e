/*
 * rcp-quic-recv: receive one transfer over QUIC from rcp-quic-send,
 * listening or connecting, into stdout or (atomically) -o FILE, and
 * confirm it only once the output is complete (SPEC §5).
 */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
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
#include "resume_out.h"
#include "wipe.h"

/* Our own options, beyond quic_cli.h's. */
enum { OPT_RESUME = 512 };

/* As man/rcp-quic-recv.1 describes them. */
static const struct cli_help options[] = {
	{ "-o, --output FILE", "write to FILE atomically, not to stdout" },
	{ "--resume", "on failure keep FILE.rcp-partial; go on from it" },
	QUIC_CLI_HELP,
	{ "--stats", "print a summary line on stderr at the end" },
	{ "--progress[=NAME]", "draw a progress line on stderr, labelled NAME" },
	CLI_HELP_COMMON,
	{ NULL, NULL }
};

static void __attribute__((noreturn))
usage(const char *reason)
{
	diag_usage_help(reason, options,
	    "usage: rcp-quic-recv [OPTIONS] --listen [ADDR:]PORT "
	    "[-o FILE [--resume]]\n"
	    "       rcp-quic-recv [OPTIONS] --connect HOST:PORT "
	    "--pin sha256:HEX\n"
	    "                     [-o FILE [--resume]]\n"
	    "       rcp-quic-recv --gen-identity FILE [--force]\n"
	    QUIC_CLI_USAGE_OPTIONS);
}

struct output {
	struct resume_out ro;	/* -o FILE, perhaps --resume */
	int atomic;
};

/*
 * Called once every byte was written: the output must be complete on
 * return, because the sender is told so next.
 */
static int
finish_output(void *arg, struct rcp_error *e)
{
	struct output *out = arg;

	if (out->atomic) {
		if (atomic_out_commit(&out->ro.ao, e) != 0)
			return -1;
		if (out->ro.ao.warning[0] != '\0')
			diag_warnx("warning: %s", out->ro.ao.warning);
		return 0;
	}
	if (io_sync_stdout() != 0)
		return error_set_errno(e, EXIT_FAIL, "stdout: fsync");
	if (io_close_stdout() != 0)
		return error_set_errno(e, EXIT_FAIL, "stdout: close");
	return 0;
}

/*
 * -o FILE: published atomically; with --resume, FILE's partial file,
 * which the sender is told of before any data flows.
 */
static void
open_output(struct output *out, const char *output, int resume,
    struct quic_opts *o)
{
	struct rcp_error e;

	if (resume_out_open(&out->ro, output, resume, &e) != 0) {
		if (resume && e.status == EXIT_USAGE)
			diag_die(EXIT_USAGE, "--resume needs -o to name a "
			    "regular file: %s", e.msg);
		diag_die_error(&e);
	}
	out->atomic = 1;
	resume_out_opts(&out->ro, o);
	o->data_fd = out->ro.ao.fd;
	/* A write error names the file written: the partial one. */
	o->data_name = resume_out_name(&out->ro, output);
}

/*
 * After a failed transfer: FILE is left as it was; with --resume what
 * arrived stays in the partial file, and the last line says where (or
 * that resuming cannot help, when the sender's input is no longer the
 * one the partial file began).  A signal ends the run without the
 * error's line, as it always has, then kills us with that signal.
 */
static void __attribute__((noreturn))
fail(struct output *out, const struct rcp_error *e)
{
	char note[PATH_MAX + 128] = "";
	uint64_t kept;

	if (resume_out_kept(&out->ro, &kept) == 0 && kept > 0) {
		if (e->status == EXIT_DATA) {
			/* The sender's reason and the way out, one line. */
			snprintf(note, sizeof(note), "%s; remove %s or run "
			    "without --resume", e->msg, out->ro.partial_name);
			if (out->atomic)
				atomic_out_abort(&out->ro.ao);
			quic_main_die_if_signalled();
			diag_die(e->status, "%s", note);
		} else
			snprintf(note, sizeof(note), "kept %" PRIu64 " bytes "
			    "in %s; run again with --resume to continue",
			    kept, out->ro.partial_name);
	}
	if (out->atomic)
		atomic_out_abort(&out->ro.ao);
	if (quic_main_signal != 0 && note[0] != '\0')
		diag_warnx("%s", note);
	quic_main_die_if_signalled();
	if (note[0] == '\0')
		diag_die_error(e);
	diag_warnx("%s", e->msg);
	diag_die(e->status, "%s", note);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "resume", no_argument, NULL, OPT_RESUME },
		QUIC_CLI_LONGOPTS,
		CLI_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 }
	};
	struct quic_cli c;
	struct quic_stats st;
	struct progress prog;
	struct output out;
	struct rcp_error e;
	const char *output = NULL;
	int ch, rc, resume = 0;

	if (io_guard_stdfds() != 0 || secrets_guard() != 0 ||
	    quic_keylog_policy(getenv("RCP_QUIC_KEYLOGFILE")) != 0)
		return EXIT_FAIL;
	diag_init(argv[0]);
	quic_cli_init(&c, QUIC_RECV);
	memset(&out, 0, sizeof(out));
	while ((ch = getopt_long(argc, argv, ":o:hV", longopts, NULL)) != -1) {
		switch (quic_cli_option(&c, ch, optarg, &e)) {
		case 1:
			continue;
		case -1:
			usage(e.msg);
		}
		switch (ch) {
		case 'o':
			output = optarg;
			break;
		case OPT_RESUME:
			resume = 1;
			break;
		case 'h':
			usage(NULL);
		case 'V':
			diag_version();
		default:
			diag_bad_option(ch, argv);
		}
	}
	if (optind < argc)
		usage("no operands: the output is stdout or -o FILE");
	if (resume && output == NULL)
		usage("--resume needs -o FILE");
	if (c.gen_identity != NULL && output != NULL)
		usage("--gen-identity takes no -o");
	quic_main_check(&c, usage);

	signal(SIGPIPE, SIG_IGN);
	if (c.o.role == QUIC_LISTEN && c.o.peer_pin == NULL)
		diag_warnx("warning: no --peer-pin: accepting any peer");
	if (output != NULL) {
		open_output(&out, output, resume, &c.o);
	} else {
		c.o.data_fd = STDOUT_FILENO;
		io_grow_pipe(STDOUT_FILENO, IO_PIPE_SIZE);
	}
	progress_init(&prog, c.progress_label, 0, 0);
	c.o.progress = &prog;
	c.o.finish = finish_output;
	c.o.finish_arg = &out;
	c.o.log = quic_main_log;
	quic_main_catch_signals(&c, "receiver interrupted");
	rc = quic_transfer(&c.o, &st, &e);
	progress_finish(&prog);
	quic_main_report_stats(&c, &st);
	quic_cli_free(&c);
	if (rc != 0)
		fail(&out, &e);
	resume_out_free(&out.ro);
	quic_main_die_if_signalled();
	return EXIT_OK;
}
