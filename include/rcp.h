/*
 * rcp.h: what every program of the suite shares: exit statuses, the
 * error record that library code fills in, and diagnostics for main().
 */
#ifndef RCP_H
#define RCP_H

#include <stdarg.h>
#include <stddef.h>

#define RCP_VERSION "0.1.0"

/* Exit statuses, SPEC §1.  Every tool gives them the same meaning. */
enum {
	EXIT_OK = 0,	/* all of the data was delivered */
	EXIT_FAIL = 1,	/* I/O error, network failure, timeout, peer failed */
	EXIT_USAGE = 2,	/* bad option, unreadable or malformed key file */
	EXIT_DATA = 3,	/* framing violation, truncation, failed decryption */
	EXIT_AUTH = 4,	/* certificate pin mismatch, peer refused */
};

/*
 * Library functions report failure by returning -1 and filling in a
 * struct rcp_error: the exit status the failure belongs to and a message
 * that main() prints after the program name.  The caller may choose a
 * different status; the message never contains secret material.
 */
struct rcp_error {
	int status;
	char msg[512];
};

/* Fill in e (if not NULL) and return -1. */
int error_set(struct rcp_error *e, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, appending ": strerror(errno)" for the errno at the time of call. */
int error_set_errno(struct rcp_error *e, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Diagnostics in err(3) style: "prog: message".  Only main() and code it
 * calls directly to report should use these.
 */
void diag_init(const char *argv0);	/* remembers basename(argv0) */
const char *diag_progname(void);
void diag_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void diag_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void diag_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* Prints e->msg and exits with e->status. */
void diag_die_error(const struct rcp_error *e) __attribute__((noreturn));
/*
 * usage(): with a reason, prints "prog: reason" and the usage text on
 * stderr and exits 2; without one (-h), the text on stdout and exits 0.
 */
void diag_usage(const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/*
 * The same for a program with an option list (struct cli_help, cli.h):
 * -h prints the usage text, a blank line and the options, one aligned
 * line each; an error prints only the reason and the usage text, so
 * that a mistake stays a few lines.
 */
struct cli_help;
void diag_usage_help(const char *reason, const struct cli_help *options,
    const char *fmt, ...) __attribute__((format(printf, 3, 4), noreturn));

/*
 * getopt_long returned '?' (an unknown option) or ':' (a missing
 * argument: optstring starts with ':'): says so in one line, as GNU
 * tools do, then "Try 'PROG --help' for more information.", and exits
 * 2.  diag_init turns getopt's own messages off.
 */
void diag_bad_option(int ch, char *const argv[]) __attribute__((noreturn));

/* -V/--version: prints "NAME VERSION" on stdout and exits 0. */
void diag_version(void) __attribute__((noreturn));

#endif
