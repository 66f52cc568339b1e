/*
 * aescbc-filter.h: the story of aescbc-enc and aescbc-dec (SPEC §4).  The
 * two programs take the same options and differ only in direction, so
 * each of cmd/aescbc-enc.c and cmd/aescbc-dec.c includes this once and
 * calls it.  It lives with the programs, not in lib/, because it prints
 * and exits: library code only returns errors.
 */
#ifndef AESCBC_FILTER_H
#define AESCBC_FILTER_H

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cbc.h"
#include "cli.h"
#include "frame.h"
#include "io.h"
#include "parse.h"
#include "progress.h"
#include "rcp.h"
#include "wipe.h"

/* As man/aescbc-enc.1 describes them. */
static const struct cli_help options[] = {
	{ "-k, --key KEYFILE", "the 16-byte key: raw, hex or PEM, mode 0600" },
	{ "-i, --iv IVFILE", "the 16-byte IV, in the same forms" },
	{ "--frames", "work chunk by chunk on an entropy stream" },
	{ "-j, --jobs N", "threads for --frames, 1..64 (default: CPUs)" },
	{ "--progress[=NAME]", "draw a progress line on stderr, labelled NAME" },
	CLI_HELP_COMMON,
	{ NULL, NULL }
};

static void __attribute__((noreturn))
usage(const char *reason)
{
	diag_usage_help(reason, options,
	    "usage: %s -k KEYFILE -i IVFILE [--frames] [-j N]\n"
	    "                  [--progress[=NAME]] [FILE]\n", diag_progname());
}

/* Loads a key or IV; a secret that others can read is refused, as ssh
 * refuses such a private key. */
static void
load(const char *path, const char *what, unsigned char out[CBC_KEY_LEN],
    int secret)
{
	struct rcp_error e;
	int loose;

	if (cbc_load_file(path, what, out, &loose, &e) != 0)
		diag_die_error(&e);
	if (loose && secret) {
		wipe(out, CBC_KEY_LEN);
		diag_die(EXIT_USAGE, "%s: %s file is accessible by group or "
		    "others (mode %04o): chmod 600 it", path, what, loose);
	}
}

static unsigned
online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > (long)CBC_THREADS_MAX ? CBC_THREADS_MAX : (unsigned)n;
}

static int
aescbc_filter_main(int argc, char *argv[], int decrypt)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "iv", required_argument, NULL, 'i' },
		{ "frames", no_argument, NULL, 'F' },
		{ "jobs", required_argument, NULL, 'j' },
		CLI_LONGOPT_PROGRESS('P'),
		CLI_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 }
	};
	unsigned char key[CBC_KEY_LEN], iv[CBC_KEY_LEN];
	const char *keyfile = NULL, *ivfile = NULL, *input = NULL;
	struct progress prog;
	struct rcp_error e;
	uint64_t v, size = 0;
	unsigned threads = 0;
	const char *progress_label = NULL;
	int ch, frames = 0, in_fd = STDIN_FILENO, rc;

	if (io_guard_stdfds() != 0 || secrets_guard() != 0)
		return EXIT_FAIL;
	diag_init(argv[0]);
	while ((ch = getopt_long(argc, argv, ":k:i:j:hV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'k':
			keyfile = optarg;
			break;
		case 'i':
			ivfile = optarg;
			break;
		case 'F':
			frames = 1;
			break;
		case 'j':
			if (parse_uint(optarg, 1, CBC_THREADS_MAX, &v) != 0)
				diag_die(EXIT_USAGE, "-j %s: must be 1..%u",
				    optarg, CBC_THREADS_MAX);
			threads = (unsigned)v;
			break;
		case 'P':
			progress_label = cli_progress_label(optarg);
			break;
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
	if (keyfile == NULL)
		usage("-k KEYFILE is required");
	if (ivfile == NULL)
		usage("-i IVFILE is required");
	/* Stream mode is one CBC chain: -j is accepted there and ignored. */
	if (threads == 0)
		threads = online_cpus();

	/* The IV of CBC is not secret: only the key file must be private. */
	load(keyfile, "key", key, 1);
	load(ivfile, "IV", iv, 0);

	/* A closed output pipe is reported as an error, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	if (input != NULL &&
	    (in_fd = open(input, O_RDONLY | O_CLOEXEC)) < 0) {
		wipe(key, sizeof(key));
		diag_die(EXIT_FAIL, "%s: %s", input, strerror(errno));
	}
	io_grow_pipe(in_fd, CBC_STREAM_BUF);
	io_grow_pipe(STDOUT_FILENO, CBC_STREAM_BUF);

	if (frames) {
		progress_init(&prog, progress_label, 0, 0);
		rc = cbc_frames(in_fd, STDOUT_FILENO, decrypt, key, iv, threads,
		    &prog, &e);
	} else {
		int known = io_regular_size(in_fd, &size);

		progress_init(&prog, progress_label, known, size);
		rc = cbc_stream(in_fd, STDOUT_FILENO, decrypt, key, iv, &prog,
		    &e);
	}
	wipe(key, sizeof(key));
	wipe(iv, sizeof(iv));
	progress_finish(&prog);
	if (rc != 0)
		diag_die_error(&e);
	if (io_close_stdout() != 0)
		diag_die(EXIT_FAIL, "stdout: %s", strerror(errno));
	return EXIT_OK;
}

#endif
