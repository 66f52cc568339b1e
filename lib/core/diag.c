/* diag.c: error records for library code, err(3)-style output for main. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "progress.h"
#include "rcp.h"

static const char *progname = "rcp";

static int
error_vset(struct rcp_error *e, int status, int errnum, const char *fmt,
    va_list ap)
{
	if (e == NULL)
		return -1;
	e->status = status;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	if (errnum != 0) {
		size_t len = strlen(e->msg);
		snprintf(e->msg + len, sizeof(e->msg) - len, ": %s",
		    strerror(errnum));
	}
	return -1;
}

int
error_set(struct rcp_error *e, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_vset(e, status, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int
error_set_errno(struct rcp_error *e, int status, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	error_vset(e, status, saved, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

void
diag_init(const char *argv0)
{
	const char *slash;

	opterr = 0;	/* diag_bad_option says it, in one line */
	if (argv0 == NULL || *argv0 == '\0')
		return;
	slash = strrchr(argv0, '/');
	progname = slash != NULL ? slash + 1 : argv0;
}

const char *
diag_progname(void)
{
	return progname;
}

static void
diag_vprint(int errnum, const char *fmt, va_list ap)
{
	struct progress *shown;
	char line[1024];
	int n;

	/* One write per diagnostic keeps lines whole when stderr is shared. */
	n = snprintf(line, sizeof(line), "%s: ", progname);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (errnum != 0) {
		size_t len = strlen(line);
		snprintf(line + len, sizeof(line) - len, ": %s",
		    strerror(errnum));
	}
	shown = progress_message_begin();
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
	progress_message_end(shown);
}

void
diag_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vprint(0, fmt, ap);
	va_end(ap);
}

void
diag_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	diag_vprint(saved, fmt, ap);
	va_end(ap);
}

void
diag_die(int status, const char *fmt, ...)
{
	va_list ap;

	progress_abandon();
	va_start(ap, fmt);
	diag_vprint(0, fmt, ap);
	va_end(ap);
	exit(status);
}

void
diag_die_error(const struct rcp_error *e)
{
	diag_die(e->status, "%s", e->msg);
}

/* Short options line up under short options, long ones after them. */
static int
help_indent(const char *opt)
{
	return opt[1] == '-' ? 6 : 2;
}

/*
 * Descriptions start in one column, after the widest option up to this
 * one; a wider option (a long argument pattern) pushes its own line's
 * description on, so that the others stay within 80 columns.
 */
#define HELP_COLUMN_MAX 28

static void
print_options(FILE *out, const struct cli_help *h)
{
	const struct cli_help *p;
	int w, width = 0;

	for (p = h; p->opt != NULL; p++)
		if ((w = help_indent(p->opt) + (int)strlen(p->opt)) > width &&
		    w <= HELP_COLUMN_MAX)
			width = w;
	fputc('\n', out);
	for (p = h; p->opt != NULL; p++)
		fprintf(out, "%*s%-*s  %s\n", help_indent(p->opt), "",
		    width - help_indent(p->opt), p->opt, p->text);
}

/* Prints a usage text; returns the exit status. */
static int
diag_vusage(const char *reason, const struct cli_help *options,
    const char *fmt, va_list ap)
{
	FILE *out = reason != NULL ? stderr : stdout;

	if (reason != NULL)
		diag_warnx("%s", reason);
	vfprintf(out, fmt, ap);
	if (reason == NULL && options != NULL)
		print_options(out, options);
	if (fflush(out) == EOF || ferror(out))
		return EXIT_FAIL;
	return reason != NULL ? EXIT_USAGE : EXIT_OK;
}

void
diag_usage(const char *reason, const char *fmt, ...)
{
	va_list ap;
	int status;

	va_start(ap, fmt);
	status = diag_vusage(reason, NULL, fmt, ap);
	va_end(ap);
	exit(status);
}

void
diag_usage_help(const char *reason, const struct cli_help *options,
    const char *fmt, ...)
{
	va_list ap;
	int status;

	va_start(ap, fmt);
	status = diag_vusage(reason, options, fmt, ap);
	va_end(ap);
	exit(status);
}

void
diag_bad_option(int ch, char *const argv[])
{
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	int is_short = optopt > 0 && optopt < 256 && arg[0] == '-' &&
	    arg[1] != '-';

	if (ch == ':' && is_short)
		diag_warnx("option requires an argument -- '%c'", optopt);
	else if (ch == ':')
		diag_warnx("option '%s' requires an argument", arg);
	else if (is_short)
		diag_warnx("invalid option -- '%c'", optopt);
	else
		diag_warnx("unrecognized option '%s'", arg);
	fprintf(stderr, "Try '%s --help' for more information.\n", progname);
	exit(EXIT_USAGE);
}

void
diag_version(void)
{
	printf("%s %s\n", progname, RCP_VERSION);
	if (fflush(stdout) == EOF || ferror(stdout))
		exit(EXIT_FAIL);
	exit(EXIT_OK);
}
