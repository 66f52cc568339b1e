/*
 * aescbc-keygen: a fresh AES-128 key and IV for aescbc-enc and aescbc-dec
 * (SPEC §4), from the system CSPRNG, in files of mode 0600.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cbc.h"
#include "cli.h"
#include "io.h"
#include "rcp.h"
#include "wipe.h"

/* As man/aescbc-keygen.1 describes them. */
static const struct cli_help options[] = {
	{ "--format raw|hex|pem", "the form of both files (default hex)" },
	{ "-f, --force", "replace existing files" },
	CLI_HELP_COMMON,
	{ NULL, NULL }
};

static void __attribute__((noreturn))
usage(const char *reason)
{
	diag_usage_help(reason, options,
	    "usage: aescbc-keygen [--format raw|hex|pem] [-f | --force] KEYFILE "
	    "IVFILE\n");
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'm' },
		{ "force", no_argument, NULL, 'f' },
		CLI_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 }
	};
	/* hex by default: plain text, no newline or NUL surprises. */
	enum cbc_format fmt = CBC_FMT_HEX;
	struct rcp_error e;
	const char *keyfile, *ivfile;
	int ch, force = 0;

	if (io_guard_stdfds() != 0 || secrets_guard() != 0)
		return EXIT_FAIL;
	diag_init(argv[0]);
	while ((ch = getopt_long(argc, argv, ":fhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			if (strcmp(optarg, "raw") == 0)
				fmt = CBC_FMT_RAW;
			else if (strcmp(optarg, "hex") == 0)
				fmt = CBC_FMT_HEX;
			else if (strcmp(optarg, "pem") == 0)
				fmt = CBC_FMT_PEM;
			else
				usage("--format: must be raw, hex or pem");
			break;
		case 'f':
			force = 1;
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
	if (argc != 2)
		usage("KEYFILE and IVFILE are required");
	keyfile = argv[0];
	ivfile = argv[1];
	if (strcmp(keyfile, ivfile) == 0)
		usage("KEYFILE and IVFILE must be different files");
	/* Refuse before writing anything, so a refusal leaves no half pair. */
	if (!force && cbc_path_exists(keyfile))
		diag_die(EXIT_USAGE, "%s: file exists (use --force to replace "
		    "it)", keyfile);
	if (!force && cbc_path_exists(ivfile))
		diag_die(EXIT_USAGE, "%s: file exists (use --force to replace "
		    "it)", ivfile);

	if (cbc_keygen_file(keyfile, fmt, force, "AES-128 KEY", &e) != 0)
		diag_die_error(&e);
	if (cbc_keygen_file(ivfile, fmt, force, "AES-128 IV", &e) != 0) {
		/* A key without its IV is of no use: take back what we made. */
		if (!force)
			unlink(keyfile);
		diag_die_error(&e);
	}
	return EXIT_OK;
}
