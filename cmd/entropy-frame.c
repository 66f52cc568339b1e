/*
 * entropy-frame: wrap a file or a pipe in the entropy reconciliation
 * stream of the Dynomite engine (SPEC §2, §3).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "frame.h"
#include "io.h"
#include "parse.h"
#include "progress.h"
#include "rcp.h"

/* As man/entropy-frame.1 describes them. */
static const struct cli_help options[] = {
	{ "-b, --buffer-size SIZE", "chunk size, 1..5242879 (default 16384)" },
	{ "-H, --header-size SIZE",
	    "snapshot header size, 8..1024 (default 1024)" },
	{ "-c, --cipher-size SIZE",
	    "largest encrypted chunk (default -b + 1024)" },
	{ "--magic seed|dynomite", "the magic number to write (default seed)" },
	{ "-s, --size BYTES", "declare the input's length: no spooling" },
	{ "--progress[=NAME]", "draw a progress line on stderr, labelled NAME" },
	CLI_HELP_COMMON,
	{ NULL, NULL }
};

static void __attribute__((noreturn))
usage(const char *reason)
{
	diag_usage_help(reason, options,
	    "usage: entropy-frame [-b SIZE] [-H SIZE] [-c SIZE] "
	    "[--magic seed|dynomite]\n"
	    "                     [-s BYTES] [--progress[=NAME]] [FILE]\n");
}

static uint32_t
option_size(int opt, const char *arg, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (parse_size(arg, min, max, &v) == 0)
		return (uint32_t)v;
	if (errno == EINVAL)
		diag_die(EXIT_USAGE, "-%c %s: not a size: " PARSE_SIZE_FORMS,
		    opt, arg);
	diag_die(EXIT_USAGE, "-%c %s: must be %" PRIu64 "..%" PRIu64
	    " bytes", opt, arg, min, max);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "buffer-size", required_argument, NULL, 'b' },
		{ "header-size", required_argument, NULL, 'H' },
		{ "cipher-size", required_argument, NULL, 'c' },
		{ "magic", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		CLI_LONGOPT_PROGRESS('P'),
		CLI_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 }
	};
	struct frame_header h = {
		.magic = FRAME_MAGIC,
		.command = FRAME_CMD_SEND,
		.header_size = FRAME_HEADER_DEFAULT,
		.buffer_size = FRAME_BUFFER_DEFAULT,
	};
	unsigned char hdr[FRAME_NEG_LEN + FRAME_HEADER_MAX];
	struct rcp_error e;
	struct progress prog;
	const char *input = NULL;
	uint64_t declared = 0, len = 0;
	const char *progress_label = NULL;
	int have_declared = 0, have_cipher = 0;
	int ch, in_fd = STDIN_FILENO;
	/* A way round the fast path, should a kernel get it wrong. */
	int splice = getenv("RCP_NO_SPLICE") == NULL;

	if (io_guard_stdfds() != 0)
		return EXIT_FAIL;
	diag_init(argv[0]);
	while ((ch = getopt_long(argc, argv, ":b:H:c:s:hV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'b':
			h.buffer_size = option_size('b', optarg, 1,
			    FRAME_BUFFER_MAX - 1);
			break;
		case 'H':
			h.header_size = option_size('H', optarg,
			    FRAME_HEADER_MIN, FRAME_HEADER_MAX);
			break;
		case 'c':
			h.cipher_size = option_size('c', optarg, 2,
			    FRAME_CIPHER_MAX);
			have_cipher = 1;
			break;
		case 'm':
			if (strcmp(optarg, "seed") == 0)
				h.magic = FRAME_MAGIC;
			else if (strcmp(optarg, "dynomite") == 0)
				h.magic = FRAME_MAGIC_DYNOMITE;
			else
				usage("--magic: must be seed or dynomite");
			break;
		case 's':
			declared = option_size('s', optarg, 0,
			    FRAME_TOTAL_MAX);
			have_declared = 1;
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
	if (!have_cipher)
		h.cipher_size = frame_default_cipher_size(h.buffer_size);
	if (have_cipher && h.cipher_size <= h.buffer_size)
		diag_die(EXIT_USAGE, "-c %" PRIu32 ": must be greater than "
		    "-b %" PRIu32, h.cipher_size, h.buffer_size);
	if (frame_check_sizes(h.header_size, h.buffer_size, h.cipher_size,
	    &e) != 0)
		diag_die_error(&e);

	/* A closed output pipe is reported as an error, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	if (input != NULL &&
	    (in_fd = open(input, O_RDONLY | O_CLOEXEC)) < 0)
		diag_die(EXIT_FAIL, "%s: %s", input, strerror(errno));

	/* total_len goes out first, so it must be known now. */
	progress_init(&prog, progress_label, 0, 0);
	if (have_declared) {
		len = declared;
	} else if (!io_regular_size(in_fd, &len)) {
		int spool_fd;

		progress_phase(&prog, "spooling", 0, 0);
		if (frame_spool(in_fd, splice, &spool_fd, &len, &prog,
		    &e) != 0)
			diag_die_error(&e);
		in_fd = spool_fd;
	}
	progress_phase(&prog, NULL, 1, len);
	if (len > FRAME_TOTAL_MAX)
		diag_die(EXIT_DATA, "%s: %" PRIu64 " bytes: over the format's "
		    "limit of %u bytes", input ? input : "stdin", len,
		    FRAME_TOTAL_MAX);
	h.total_len = (uint32_t)len;
	h.encrypted = 0;

	io_grow_pipe(STDOUT_FILENO, FRAME_READ_BUF);
	io_grow_pipe(in_fd, FRAME_READ_BUF);
	if (io_write_full(STDOUT_FILENO, hdr, frame_encode_headers(&h,
	    hdr)) != 0)
		diag_die(EXIT_FAIL, "stdout: write error: %s", strerror(errno));
	if (frame_write_chunks(in_fd, input, STDOUT_FILENO, "stdout",
	    h.buffer_size, h.total_len, splice, &prog, &e) != 0)
		diag_die_error(&e);
	progress_finish(&prog);
	if (io_close_stdout() != 0)
		diag_die(EXIT_FAIL, "stdout: %s", strerror(errno));
	return EXIT_OK;
}
