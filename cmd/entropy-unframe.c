/*
 * entropy-unframe: validate an entropy stream and write its plaintext
 * (SPEC §2, §3), or with --inspect describe it.
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

#include "atomic_out.h"
#include "cli.h"
#include "frame.h"
#include "io.h"
#include "progress.h"
#include "rcp.h"

/* As man/entropy-unframe.1 describes them. */
static const struct cli_help options[] = {
	{ "-o, --output FILE", "write the data to FILE atomically, not stdout" },
	{ "--inspect", "validate the stream and print its fields only" },
	{ "--progress[=NAME]", "draw a progress line on stderr, labelled NAME" },
	CLI_HELP_COMMON,
	{ NULL, NULL }
};

static void __attribute__((noreturn))
usage(const char *reason)
{
	diag_usage_help(reason, options,
	    "usage: entropy-unframe [-o FILE] [--inspect] [--progress[=NAME]] "
	    "[FILE]\n");
}

static void
print_inspection(const struct frame_reader *r)
{
	const struct frame_header *h = &r->hdr;

	printf("magic=0x%08" PRIx32 "\n", h->magic);
	printf("command=%" PRIu32 "\n", h->command);
	printf("header_size=%" PRIu32 "\n", h->header_size);
	printf("buffer_size=%" PRIu32 "\n", h->buffer_size);
	printf("cipher_size=%" PRIu32 "\n", h->cipher_size);
	printf("total_len=%" PRIu32 "\n", h->total_len);
	printf("encrypted=%" PRIu32 "\n", h->encrypted);
	printf("chunks=%" PRIu64 "\n", r->chunks);
	printf("min_chunk=%" PRIu32 "\n", r->min_chunk);
	printf("max_chunk=%" PRIu32 "\n", r->max_chunk);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "inspect", no_argument, NULL, 'I' },
		CLI_LONGOPT_PROGRESS('P'),
		CLI_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 }
	};
	struct frame_reader reader;
	struct frame_header h;
	struct atomic_out out;
	struct progress prog;
	struct rcp_error e;
	const char *input = NULL, *output = NULL;
	int ch, in_fd = STDIN_FILENO, out_fd = STDOUT_FILENO;
	const char *progress_label = NULL;
	int inspect = 0, rc;

	if (io_guard_stdfds() != 0)
		return EXIT_FAIL;
	diag_init(argv[0]);
	while ((ch = getopt_long(argc, argv, ":o:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			output = optarg;
			break;
		case 'I':
			inspect = 1;
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
	if (inspect && output != NULL)
		usage("--inspect writes no payload: -o cannot go with it");

	signal(SIGPIPE, SIG_IGN);
	if (input != NULL &&
	    (in_fd = open(input, O_RDONLY | O_CLOEXEC)) < 0)
		diag_die(EXIT_FAIL, "%s: %s", input, strerror(errno));
	io_grow_pipe(in_fd, FRAME_READ_BUF);
	if (frame_reader_init(&reader, in_fd) != 0)
		diag_die(EXIT_FAIL, "cannot allocate buffer: %s",
		    strerror(errno));
	/* The clock runs while a producer is slow to send the header. */
	progress_init(&prog, progress_label, 0, 0);
	if (frame_read_header(&reader, &h, NULL, &e) != 0)
		diag_die_error(&e);
	progress_set_total(&prog, h.total_len);
	if (inspect) {
		rc = frame_inspect(&reader, &prog, &e);
		progress_finish(&prog);
		if (rc != 0)
			diag_die_error(&e);
		print_inspection(&reader);
		frame_reader_free(&reader);
		if (fflush(stdout) != 0 || ferror(stdout))
			diag_die(EXIT_FAIL, "write error: stdout");
		return EXIT_OK;
	}
	if (h.encrypted)
		diag_die(EXIT_DATA, "encrypted stream (encrypt_flag 1 at offset "
		    "24): pipe it through 'aescbc-dec --frames' first");

	if (output != NULL) {
		if (atomic_out_open(&out, output, &e) != 0)
			diag_die_error(&e);
		out_fd = out.fd;
	} else {
		io_grow_pipe(STDOUT_FILENO, FRAME_READ_BUF);
	}
	reader.splice = getenv("RCP_NO_SPLICE") == NULL;
	rc = frame_relay_plain(&reader, out_fd, output != NULL ? output :
	    "stdout", &prog, &e);
	progress_finish(&prog);
	if (rc != 0) {
		if (output != NULL)
			atomic_out_abort(&out);
		diag_die_error(&e);
	}
	if (output != NULL && atomic_out_commit(&out, &e) != 0)
		diag_die_error(&e);
	if (output != NULL && out.warning[0] != '\0')
		diag_warnx("warning: %s", out.warning);
	if (output == NULL && io_close_stdout() != 0)
		diag_die(EXIT_FAIL, "stdout: %s", strerror(errno));
	frame_reader_free(&reader);
	return EXIT_OK;
}
