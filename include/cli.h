/*
 * cli.h: the options every program shares (SPEC §1).
 */
#ifndef RCP_CLI_H
#define RCP_CLI_H

#include <getopt.h>

/* Long options every program accepts; put them last in its table. */
#define CLI_LONGOPTS_COMMON \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }

/*
 * One line of the option list that -h prints (SPEC §1): the option as
 * typed, short form first ("-b, --buffer-size SIZE"), and what it does.
 * A program's table ends with CLI_HELP_COMMON and { NULL, NULL }.
 */
struct cli_help {
	const char *opt;
	const char *text;
};

#define CLI_HELP_COMMON \
	{ "-h, --help", "print this help and exit" }, \
	{ "-V, --version", "print the version and exit" }

/*
 * The operands after the options, for a program that reads at most one
 * FILE, "-" or none meaning stdin.  Sets *path to FILE, or to NULL for
 * stdin.  Returns 0, or -1 when there is more than one operand.
 */
int cli_file_operand(int argc, char *const argv[], const char **path);

/*
 * The label of --progress[=NAME]: NAME, or the program's name when NAME
 * is missing or empty.
 */
const char *cli_progress_label(const char *name);

/* --progress[=NAME], for a program's table. */
#define CLI_LONGOPT_PROGRESS(val) \
	{ "progress", optional_argument, NULL, (val) }

#endif
