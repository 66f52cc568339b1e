/*
 * rcp-launch: run a command on another host over SSH, as ssh(1) would,
 * and (with --pull, --push, --from/--to) carry its data over QUIC
 * (SPEC §6).  The engine is lib/launch (launch.h); this file parses the
 * command line, prints what the engine says, and dies of the signal that
 * stopped it.
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
#include "launch.h"
#include <libssh/callbacks.h>
#include "parse.h"
#include "quic.h"
#include "quic_cli.h"
#include "rcp.h"
#include "wipe.h"

static int verbose, quiet;
static volatile sig_atomic_t got_signal;
/* Written to by the signal handler: our end of the transfer stops now. */
static volatile sig_atomic_t cancel_fd = -1;

#define SYNOPSIS \
	"usage: rcp-launch [OPTIONS] [USER@]HOST COMMAND...\n" \
	"       rcp-launch --pull [--output FILE [--resume]] [OPTIONS] " \
	"[USER@]HOST\n" \
	"                  COMMAND...\n" \
	"       rcp-launch --push [OPTIONS] [USER@]HOST COMMAND...\n" \
	"       rcp-launch --push --output FILE [--resume] [OPTIONS] " \
	"[USER@]HOST\n" \
	"       rcp-launch [OPTIONS] --from [USER@]SRC --to [USER@]DST " \
	"PRODUCER CONSUMER\n"

/* One line per option, as the man page's OPTIONS lists them. */
static const struct cli_help options[] = {
	{ "-p, --port PORT", "the SSH port (wins over the config's)" },
	{ "-l, --login USER", "the remote user (wins over USER@)" },
	{ "-i, --identity KEYFILE", "authenticate with this private key" },
	{ "-F, --config CONFIG", "read this ssh_config, not ~/.ssh/config" },
	{ "-o OPTION=VALUE", "an ssh_config option, as with ssh -o" },
	{ "-v", "say each step on stderr; -vv, -vvv: more" },
	{ "-q", "quiet: no warnings or notes, only errors" },
	{ "--known-hosts FILE", "verify host keys against FILE" },
	{ "--accept-new-host-key", "record the key of an unknown host" },
	{ "--connect-timeout SECS", "give up connecting after SECS seconds" },
	{ "--remote-bin DIR", "where the remote rcp-quic-* programs are" },
	{ "--port-range LO-HI[,LO-HI...]", "UDP ports a listener may bind" },
	{ "--progress[=NAME]", "draw a progress line on stderr, labelled NAME" },
	{ "--limit-rate RATE", "move at most RATE bytes a second (10M: MiB/s)" },
	{ "--connections auto|N", "stripe the data over N QUIC connections" },
	{ "--pull", "remote COMMAND's stdout to ours, over QUIC" },
	{ "--push", "our stdin to remote COMMAND's, over QUIC" },
	{ "--from [USER@]SRC", "run PRODUCER on SRC (with --to)" },
	{ "--to [USER@]DST", "run CONSUMER on DST, fed by SRC over QUIC" },
	{ "--output FILE", "publish the data as FILE (--push: on HOST)" },
	{ "--resume", "with --output: keep a failed run's part, resume" },
	CLI_HELP_COMMON,
	{ NULL, NULL }
};

/* An error: the reason and the synopsis; -h: the options too (SPEC §1). */
static void __attribute__((noreturn))
usage(const char *reason)
{
	diag_usage_help(reason, options, "%s", SYNOPSIS);
}

static void
on_signal(int sig)
{
	int saved = errno;

	got_signal = sig;
	if (cancel_fd >= 0)
		(void)!write(cancel_fd, "", 1);
	errno = saved;
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

/* What the engine has to tell the user. */
static void
say(enum launch_say kind, const char *text)
{
	if (kind == LAUNCH_SAY_DEBUG) {
		if (verbose)
			diag_warnx("debug1: %s", text);
		return;
	}
	if (kind == LAUNCH_SAY_WARNING && quiet)
		return;
	if (kind == LAUNCH_SAY_WARNING || kind == LAUNCH_SAY_ERROR) {
		diag_warnx("%s", text);
		return;
	}
	if (kind == LAUNCH_SAY_HOSTKEY_REVOKED) {
		fprintf(stderr,
		    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
		    "@       WARNING: REVOKED HOST KEY DETECTED!               @\n"
		    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
		    "The host key of %s is marked as revoked.\n"
		    "This could mean that a stolen key is being used to "
		    "impersonate this host.\n", text);
		return;
	}
	fprintf(stderr,
	    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
	    "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
	    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
	    "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n"
	    "Someone could be eavesdropping on you right now "
	    "(man-in-the-middle attack)!\n"
	    "It is also possible that a host key has just been changed.\n");
}

static void
say_step(const char *text)
{
	say(LAUNCH_SAY_DEBUG, text);
}

/*
 * libssh's own log (-v, -vv, -vvv, or a LogLevel), one line each, marked
 * as ours so that it never passes for the remote command's stderr.
 */
static void
libssh_log(int prio, const char *fn, const char *text, void *arg)
{
	(void)fn;
	(void)arg;
	diag_warnx("debug%d: libssh: %s", prio <= SSH_LOG_PROTOCOL ? 1 :
	    prio == SSH_LOG_PACKET ? 2 : 3, text);
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

/* Records when -o first set keyword. */
static void
note_first(const char *kw, const char *keyword, int seq, int *first)
{
	if (*first == 0 && strcmp(kw, keyword) == 0)
		*first = seq;
}

/* The engine's status, its error, or the signal that stopped it. */
static int
finish(int status, const struct rcp_error *e)
{
	if (status < 0)
		diag_die_error(e);
	if (got_signal)
		die_of_signal(got_signal);
	return status;
}

int
main(int argc, char *argv[])
{
	enum { OPT_KNOWN_HOSTS = 256, OPT_ACCEPT_NEW, OPT_CONNECT_TIMEOUT,
	    OPT_REMOTE_BIN, OPT_PORT_RANGE, OPT_PROGRESS, OPT_PULL, OPT_PUSH,
	    OPT_LIMIT_RATE, OPT_CONNECTIONS,
	    OPT_FROM, OPT_TO, OPT_OUTPUT, OPT_RESUME };
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
		CLI_LONGOPT_PROGRESS(OPT_PROGRESS),
		{ "limit-rate", required_argument, NULL, OPT_LIMIT_RATE },
		{ "connections", required_argument, NULL, OPT_CONNECTIONS },
		{ "pull", no_argument, NULL, OPT_PULL },
		{ "push", no_argument, NULL, OPT_PUSH },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "resume", no_argument, NULL, OPT_RESUME },
		CLI_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 }
	};
	struct ssh_target t, dst;
	struct launch_opts l;
	struct quic_port_range ranges[QUIC_PORT_RANGES_MAX];
	struct rcp_error e;
	const char *from = NULL, *to = NULL;
	int ch, pull = 0, push = 0, status, seq = 0, connections_given = 0;
	int port_seq = 0, login_seq = 0, kh_seq = 0, o_port = 0, o_user = 0;
	int o_kh = 0;
	char **opts, **ignored, kw[64];
	int i, nignored = 0;
	size_t nranges;
	uint64_t v;
	char *command, *consumer;

	if (io_guard_stdfds() != 0 || secrets_guard() != 0 ||
	    quic_keylog_policy(getenv("RCP_QUIC_KEYLOGFILE")) != 0)
		return EXIT_FAIL;
	diag_init(argv[0]);
	memset(&t, 0, sizeof(t));
	memset(&l, 0, sizeof(l));
	l.stop = &got_signal;
	l.cancel_fd = &cancel_fd;
	l.say = say;
	l.quic_debug = getenv("RCP_QUIC_DEBUG") != NULL;
	l.quic_no_gso = getenv("RCP_QUIC_NO_GSO") != NULL;
	/* '+': stop at HOST, so COMMAND's own options stay its own. */
	if ((opts = calloc((size_t)argc, sizeof(*opts))) == NULL ||
	    (ignored = calloc((size_t)argc, sizeof(*ignored))) == NULL)
		diag_die(SSH_EXIT_SSH, "out of memory");
	t.options = opts;
	while ((ch = getopt_long(argc, argv, "+:p:l:i:F:o:vqhV", longopts,
	    NULL))
	    != -1) {
		seq++;
		switch (ch) {
		case 'o':
			if (*optarg == '\0')
				break;	/* as ssh does */
			switch (ssh_option_check(optarg, kw, sizeof(kw), &e)) {
			case -1:
				diag_die_error(&e);
			case 1:
				/* Said once -q is known. */
				if ((ignored[nignored++] = strdup(e.msg)) ==
				    NULL)
					diag_die(SSH_EXIT_SSH, "out of memory");
				break;
			}
			opts[t.noptions++] = optarg;
			note_first(kw, "port", seq, &o_port);
			note_first(kw, "user", seq, &o_user);
			note_first(kw, "userknownhostsfile", seq, &o_kh);
			break;
		case 'v':
			if (verbose < 3)
				verbose++;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'p':
			if (parse_uint(optarg, 1, 65535, &v) != 0)
				diag_die(EXIT_USAGE, "-p %s: must be 1..65535",
				    optarg);
			t.port = (unsigned)v;
			if (!port_seq)
				port_seq = seq;
			break;
		case 'l':
			if (*optarg == '\0')
				usage("-l: empty user name");
			t.login = optarg;
			if (!login_seq)
				login_seq = seq;
			break;
		case 'i':
			t.identity = optarg;
			break;
		case 'F':
			t.config = optarg;
			break;
		case OPT_KNOWN_HOSTS:
			t.known_hosts = optarg;
			if (!kh_seq)
				kh_seq = seq;
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
			if (*optarg == '\0')
				usage("--remote-bin: empty directory name");
			l.bin_dir = optarg;
			break;
		case OPT_PORT_RANGE:
			if (quic_parse_port_ranges(optarg, ranges, &nranges,
			    &e) != 0)
				diag_die(EXIT_USAGE, "--port-range %s: %s",
				    optarg, e.msg);
			l.port_range = optarg;
			break;
		case OPT_PROGRESS:
			l.progress_label = cli_progress_label(optarg);
			break;
		case OPT_LIMIT_RATE:
			if (parse_size(optarg, 1, UINT64_MAX / 2,
			    &l.limit_rate) != 0)
				diag_die(EXIT_USAGE, "--limit-rate %s: not a rate "
				    "in bytes per second: " PARSE_SIZE_FORMS,
				    optarg);
			break;
		case OPT_CONNECTIONS:
			if (strcmp(optarg, "auto") == 0)
				v = 0;
			else if (parse_size(optarg, 1, QUIC_CONNECTIONS_MAX,
			    &v) != 0 || strspn(optarg, "0123456789") !=
			    strlen(optarg))
				diag_die(EXIT_USAGE, "--connections %s: not auto "
				    "or a number from 1 to %d", optarg,
				    QUIC_CONNECTIONS_MAX);
			l.connections = (unsigned)v;
			connections_given = 1;
			break;
		case OPT_OUTPUT:
			if (*optarg == '\0')
				usage("--output: empty file name");
			l.output = optarg;
			break;
		case OPT_RESUME:
			l.resume = 1;
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
	for (i = 0; i < nignored; i++) {
		if (!quiet)
			diag_warnx("%s", ignored[i]);
		free(ignored[i]);
	}
	free(ignored);
	t.verbose = l.verbose = verbose;
	t.debug = say_step;
	ssh_set_log_callback(libssh_log);
	/* ssh(1): the first value obtained wins, -o or not. */
	if (o_port && o_port < port_seq)
		t.port = 0;
	if (o_user && o_user < login_seq)
		t.login = NULL;
	if (o_kh && o_kh < kh_seq)
		t.known_hosts = NULL;
	if (pull && push)
		usage("--pull and --push are exclusive: pick one direction");
	if ((from != NULL) != (to != NULL))
		usage("--from and --to go together");
	if (from != NULL && (pull || push))
		usage("--from/--to cannot go with --pull or --push");
	if (l.output != NULL && !pull && !push)
		usage("--output is for --pull and --push");
	if (l.resume && l.output == NULL)
		usage("--resume needs --output FILE (with --pull or --push)");
	if (l.limit_rate > 0 && !pull && !push && from == NULL)
		usage("--limit-rate is for --pull, --push and --from/--to");
	if (connections_given && !pull && !push && from == NULL)
		usage("--connections is for --pull, --push and --from/--to");
	l.connect_timeout = (unsigned)t.connect_timeout;
	if (from != NULL) {
		if (argc != 2)
			usage("--from/--to take two operands, PRODUCER and "
			    "CONSUMER (quote each one)");
		if (*argv[0] == '\0' || *argv[1] == '\0')
			usage("--from/--to: empty PRODUCER or CONSUMER");
		catch_signals();
		dst = t;
		t.dest = from;
		dst.dest = to;
		l.mode = LAUNCH_FROMTO;
		if ((command = strdup(argv[0])) == NULL ||
		    (consumer = strdup(argv[1])) == NULL)
			diag_die(SSH_EXIT_SSH, "out of memory");
		status = launch_quic(&l, &t, &dst, command, consumer, &e);
		free(command);
		free(consumer);
		free(opts);
		return finish(status, &e);
	}
	if (argc < 1)
		usage("missing HOST");
	if (push && l.output != NULL && argc > 1)
		usage("--push --output FILE writes FILE on HOST: no COMMAND");
	if (argc < 2 && !(push && l.output != NULL))
		usage("missing COMMAND (rcp-launch never opens a login shell)");

	catch_signals();
	t.dest = argv[0];
	command = join_words(argc - 1, argv + 1);
	if (pull || push) {
		l.mode = pull ? LAUNCH_PULL : LAUNCH_PUSH;
		status = launch_quic(&l, &t, NULL, command, NULL, &e);
	} else {
		l.mode = LAUNCH_PLAIN;
		status = launch_plain(&l, &t, command, &e);
	}
	free(command);
	free(opts);
	return finish(status, &e);
}
