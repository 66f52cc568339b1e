/*
 * rcp-launch: run a command on another host over SSH, as ssh(1) would,
 * and (with --pull, --push, --from/--to) carry its data over QUIC
 * (SPEC §6).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "io.h"
#include "parse.h"
#include "rcp.h"
#include "ssh_job.h"
#include "ssh_session.h"

static volatile sig_atomic_t got_signal;

static void __attribute__((noreturn))
usage(const char *reason)
{
	if (reason != NULL)
		diag_warnx("%s", reason);
	fprintf(reason != NULL ? stderr : stdout,
	    "usage: rcp-launch [OPTIONS] [USER@]HOST COMMAND...\n"
	    "       rcp-launch --pull [OPTIONS] [USER@]HOST COMMAND...\n"
	    "       rcp-launch --push [OPTIONS] [USER@]HOST COMMAND...\n"
	    "       rcp-launch [OPTIONS] --from [USER@]SRC --to [USER@]DST "
	    "PRODUCER CONSUMER\n"
	    "options: [-p PORT] [-l USER] [-i KEYFILE] [-F CONFIG] "
	    "[--known-hosts FILE]\n"
	    "         [--accept-new-host-key] [--connect-timeout SECS] "
	    "[--remote-bin DIR]\n"
	    "         [--port-range LO-HI[,LO-HI...]] [--progress]\n");
	exit(reason != NULL ? EXIT_USAGE : EXIT_OK);
}

static void
on_signal(int sig)
{
	got_signal = sig;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: wake the poll */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* After cleaning up, die of the signal we got, as a shell expects. */
static void __attribute__((noreturn))
die_of_signal(int sig)
{
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(128 + sig);
}

/* COMMAND words joined with single spaces, as ssh(1) does. */
static char *
join_words(int argc, char **argv)
{
	size_t n = 1;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	if ((s = malloc(n)) == NULL)
		diag_die(SSH_EXIT_SSH, "out of memory");
	s[0] = '\0';
	for (i = 0; i < argc; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static void
report_host_key(const struct ssh_conn *c)
{
	if (c->hostkey_changed) {
		fprintf(stderr,
		    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
		    "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
		    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
		    "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n"
		    "Someone could be eavesdropping on you right now "
		    "(man-in-the-middle attack)!\n"
		    "It is also possible that a host key has just been "
		    "changed.\n");
	}
	if (c->hostkey_added)
		diag_warnx("warning: permanently added '%s' (%s) to %s",
		    c->host, c->key_desc, c->known_hosts);
}

static void
open_conn(struct ssh_conn *c, const struct ssh_target *t)
{
	struct rcp_error e;

	if (ssh_conn_open(c, t, &e) != 0) {
		report_host_key(c);
		diag_die_error(&e);
	}
	report_host_key(c);
}

/* Plain mode: relay stdio, exit with the remote status (SPEC §6). */
static int
run_plain(struct ssh_target *t, const char *command)
{
	struct ssh_loop loop = { &got_signal, -1, NULL, NULL };
	struct ssh_conn conn;
	struct ssh_job job, *jobs[1] = { &job };
	struct rcp_error e;
	char *script;
	int rc, status;

	open_conn(&conn, t);
	ssh_job_init(&job, &conn);
	if ((script = ssh_job_wrap(command)) == NULL)
		diag_die(SSH_EXIT_SSH, "out of memory");
	if (ssh_job_start(&job, script, &e) != 0)
		diag_die_error(&e);
	free(script);
	io_grow_pipe(STDOUT_FILENO, SSH_JOB_IO_BUF);
	rc = ssh_jobs_run(jobs, 1, &loop, &e);
	if (rc < 0)
		diag_warnx("%s", e.msg);
	if (job.lost && !got_signal)
		diag_warnx("%s", job.lost_msg);
	if (job.out_broken != 0 && job.out_broken != EPIPE)
		diag_warnx("write error: stdout: %s",
		    strerror(job.out_broken));
	status = ssh_job_status(&job);
	if (job.out_broken == EPIPE)
		status = 128 + SIGPIPE;
	else if (job.out_broken != 0 || rc < 0)
		status = SSH_EXIT_SSH;
	else if (status == SSH_EXIT_SSH && !job.lost && !got_signal &&
	    job.exit_signal[0] == '\0')
		diag_warnx("%s: remote command ended without an exit status",
		    conn.host);
	else if (job.exit_signal[0] != '\0' && status == SSH_EXIT_SSH)
		diag_warnx("%s: remote command killed by unknown signal %s",
		    conn.host, job.exit_signal);
	ssh_job_free(&job);
	ssh_conn_close(&conn);
	if (got_signal)
		die_of_signal(got_signal);
	return status;
}

int
main(int argc, char *argv[])
{
	enum { OPT_KNOWN_HOSTS = 256, OPT_ACCEPT_NEW, OPT_CONNECT_TIMEOUT,
	    OPT_REMOTE_BIN, OPT_PORT_RANGE, OPT_PROGRESS, OPT_PULL, OPT_PUSH,
	    OPT_FROM, OPT_TO };
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "login", required_argument, NULL, 'l' },
		{ "identity", required_argument, NULL, 'i' },
		{ "config", required_argument, NULL, 'F' },
		{ "known-hosts", required_argument, NULL, OPT_KNOWN_HOSTS },
		{ "accept-new-host-key", no_argument, NULL, OPT_ACCEPT_NEW },
		{ "connect-timeout", required_argument, NULL,
		    OPT_CONNECT_TIMEOUT },
		{ "remote-bin", required_argument, NULL, OPT_REMOTE_BIN },
		{ "port-range", required_argument, NULL, OPT_PORT_RANGE },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "pull", no_argument, NULL, OPT_PULL },
		{ "push", no_argument, NULL, OPT_PUSH },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		CLI_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 }
	};
	struct ssh_target t;
	const char *from = NULL, *to = NULL;
	int ch, pull = 0, push = 0, status;
	uint64_t v;
	char *command;

	diag_init(argv[0]);
	memset(&t, 0, sizeof(t));
	/* '+': stop at HOST, so COMMAND's own options stay its own. */
	while ((ch = getopt_long(argc, argv, "+p:l:i:F:hV", longopts, NULL))
	    != -1) {
		switch (ch) {
		case 'p':
			if (parse_uint(optarg, 1, 65535, &v) != 0)
				diag_die(EXIT_USAGE, "-p %s: must be 1..65535",
				    optarg);
			t.port = (unsigned)v;
			break;
		case 'l':
			if (*optarg == '\0')
				usage("-l: empty user name");
			t.login = optarg;
			break;
		case 'i':
			t.identity = optarg;
			break;
		case 'F':
			t.config = optarg;
			break;
		case OPT_KNOWN_HOSTS:
			t.known_hosts = optarg;
			break;
		case OPT_ACCEPT_NEW:
			t.accept_new = 1;
			break;
		case OPT_CONNECT_TIMEOUT:
			if (parse_uint(optarg, 1, 86400, &v) != 0)
				diag_die(EXIT_USAGE, "--connect-timeout %s: "
				    "must be 1..86400 seconds", optarg);
			t.connect_timeout = (long)v;
			break;
		case OPT_PULL:
			pull = 1;
			break;
		case OPT_PUSH:
			push = 1;
			break;
		case OPT_FROM:
			from = optarg;
			break;
		case OPT_TO:
			to = optarg;
			break;
		case OPT_REMOTE_BIN:
		case OPT_PORT_RANGE:
		case OPT_PROGRESS:
			break;
		case 'h':
			usage(NULL);
		case 'V':
			diag_version();
		default:
			usage("unknown option");
		}
	}
	argc -= optind;
	argv += optind;
	if (pull && push)
		usage("--pull and --push are exclusive: pick one direction");
	if ((from != NULL) != (to != NULL))
		usage("--from and --to go together");
	if (from != NULL && (pull || push))
		usage("--from/--to cannot go with --pull or --push");
	if (from != NULL || pull || push)
		diag_die(EXIT_USAGE, "%s: not available in this build yet",
		    from != NULL ? "--from/--to" : pull ? "--pull" : "--push");
	if (argc < 1)
		usage("missing HOST");
	if (argc < 2)
		usage("missing COMMAND (rcp-launch never opens a login shell)");

	catch_signals();
	t.dest = argv[0];
	command = join_words(argc - 1, argv + 1);
	status = run_plain(&t, command);
	free(command);
	return status;
}
