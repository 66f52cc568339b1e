/*
 * rcp-launch: run a command on another host over SSH, as ssh(1) would,
 * and (with --pull, --push, --from/--to) carry its data over QUIC
 * (SPEC §6).
 */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "io.h"
#include "parse.h"
#include "progress.h"
#include "quic.h"
#include "rcp.h"
#include "ssh_job.h"
#include "ssh_remote.h"
#include "ssh_session.h"
#include "ssh_xfer.h"

/*
 * Once the remote side of --pull/--push has ended well, how long our own
 * end of the transfer may take to see the connection's close.
 */
#define XFER_LINGER 10.0

static volatile sig_atomic_t got_signal;
/* Written to by the signal handler: our end of the transfer stops now. */
static volatile sig_atomic_t cancel_fd = -1;

static void __attribute__((noreturn))
usage(const char *reason)
{
	diag_usage(reason,
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

/*
 * The QUIC modes connect to the address SSH reached; over a ProxyCommand
 * or ProxyJump there is none to learn, so say so before starting anything.
 */
static void
require_address(struct ssh_conn *c)
{
	char host[sizeof(c->host)];

	if (c->addr[0] != '\0')
		return;
	snprintf(host, sizeof(host), "%s", c->host);
	/* Closing the session also ends libssh's ProxyCommand child. */
	ssh_conn_close(c);
	diag_die(SSH_EXIT_SSH, "%s: no network address to connect QUIC to: "
	    "the SSH connection does not go to the host directly "
	    "(ProxyCommand or ProxyJump?); --pull, --push and --from/--to "
	    "need a direct connection", host);
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
	int rc, status;

	open_conn(&conn, t);
	ssh_job_init(&job, &conn);
	if (ssh_job_start(&job, command, &e) != 0)
		diag_die_error(&e);
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

/* ---- the QUIC modes ----------------------------------------------------- */

enum mode { MODE_PLAIN, MODE_PULL, MODE_PUSH, MODE_FROMTO };

struct launch;

/* One remote host and the script it runs. */
struct side {
	struct launch *l;
	struct ssh_conn conn;
	struct ssh_job job;
	int opened, started;
	int listens;		/* runs rcp-quic-send/recv --listen */
	const char *quic_name;	/* "rcp-quic-send" or "rcp-quic-recv" */
	int cmd_status;		/* the user's command, -1 until reported */
	int quic_status;	/* the rcp-quic-* program, -1 likewise */
	int ready;		/* its ready line has arrived */
	uint16_t port;
	char pin[QUIC_PIN_SIZE];
	int feed[2];		/* --to: our end of its stdin, or -1 */
	int fed;		/* --to: address and identity sent */
	char prefix[sizeof(((struct ssh_conn *)0)->host) + 3];
};

struct launch {
	enum mode mode;
	struct side side[2];	/* --from/--to: SRC, DST; else one */
	int n;
	struct quic_identity *id;	/* the connecting end's identity */
	struct ssh_xfer xfer;		/* --pull, --push: our end */
	struct progress prog;
	int have_fail;			/* first local failure, in fail */
	struct rcp_error fail;
	const char *bin_dir, *port_range;
	unsigned connect_timeout;
	int progress;
};

/* Kills every remote job and stops our end of the transfer. */
static void
abort_all(struct launch *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (l->side[i].started)
			ssh_job_kill(&l->side[i].job);
	ssh_xfer_cancel(&l->xfer);
}

/* Records the first local failure, then ends everything. */
static void __attribute__((format(printf, 3, 4)))
fail(struct launch *l, int status, const char *fmt, ...)
{
	va_list ap;

	if (!l->have_fail) {
		l->have_fail = 1;
		l->fail.status = status;
		va_start(ap, fmt);
		vsnprintf(l->fail.msg, sizeof(l->fail.msg), fmt, ap);
		va_end(ap);
	}
	abort_all(l);
}

/*
 * --pull: the output is complete only when it is on disk, as with
 * rcp-quic-recv; a pipe or terminal needs nothing more.
 */
static int
finish_stdout(void *arg, struct rcp_error *e)
{
	(void)arg;
	if (io_sync_stdout() != 0)
		return error_set_errno(e, EXIT_FAIL, "stdout: fsync");
	return 0;
}

/*
 * --pull, --push: connect to the listener at the address we reached
 * over SSH (never the one it advertises), pinned to the fingerprint its
 * ready line gave, with the identity whose pin it was given.
 */
static void
start_xfer(struct launch *l, struct side *s)
{
	struct ssh_xfer *x = &l->xfer;
	struct rcp_error e;

	x->o.role = QUIC_CONNECT;
	x->o.dir = l->mode == MODE_PULL ? QUIC_RECV : QUIC_SEND;
	x->o.host = s->conn.addr;
	x->o.port = s->port;
	x->o.pin = s->pin;
	x->o.identity = l->id;
	x->o.data_fd = l->mode == MODE_PULL ? STDOUT_FILENO : STDIN_FILENO;
	x->o.progress = &l->prog;
	if (l->mode == MODE_PULL)
		x->o.finish = finish_stdout;
	if (l->connect_timeout > 0)
		x->o.connect_timeout = l->connect_timeout;
	if (ssh_xfer_start(x, &e) != 0)
		fail(l, e.status, "%s", e.msg);
}

static void
close_feed(struct side *d)
{
	if (d->feed[1] >= 0)
		close(d->feed[1]);
	d->feed[1] = -1;
}

/*
 * --from/--to: tells DST where SRC listens (the address we reached SRC
 * at) and its pin, then hands over the identity DST presents, through
 * DST's channel only.
 */
static void
feed_dst(struct launch *l, struct side *src)
{
	struct side *d = &l->side[1];
	struct rcp_error e;
	char line[QUIC_HOST_MAX + QUIC_PIN_SIZE + 16];
	const char *addr = src->conn.addr;
	char *pem;
	size_t len;
	int w;

	if (d->fed || d->feed[1] < 0)
		return;
	snprintf(line, sizeof(line), strchr(addr, ':') != NULL ?
	    "[%s]:%u %s\n" : "%s:%u %s\n", addr, (unsigned)src->port,
	    src->pin);
	if (quic_identity_export_pem(l->id, &pem, &len, &e) != 0) {
		fail(l, e.status, "%s", e.msg);
		return;
	}
	/* A few hundred bytes: the pipe takes them without blocking. */
	w = io_write_full(d->feed[1], line, strlen(line)) == 0 &&
	    io_write_full(d->feed[1], pem, len) == 0;
	quic_pem_free(pem, len);
	close_feed(d);
	if (!w) {
		fail(l, EXIT_FAIL, "%s: cannot pass the identity on: %s",
		    d->conn.host, strerror(errno));
		return;
	}
	d->fed = 1;
}

static void
on_ready_line(struct launch *l, struct side *s, const char *line)
{
	struct rcp_error e;
	char host[QUIC_HOST_MAX];

	if (s->ready || !s->listens)
		return;		/* only the first one counts */
	if (quic_ready_parse(line, host, &s->port, s->pin, &e) != 0) {
		fail(l, EXIT_FAIL, "%s: the remote %s gave a bad ready line: "
		    "%s", s->conn.host, s->quic_name, e.msg);
		return;
	}
	s->ready = 1;
	if (l->mode == MODE_FROMTO)
		feed_dst(l, s);
	else
		start_xfer(l, s);
}

static void
on_control(struct ssh_job *j, const char *line, void *arg)
{
	struct side *s = arg;
	int st;

	(void)j;
	switch (ssh_remote_control(line, &st)) {
	case 1:
		if (s->cmd_status < 0)
			s->cmd_status = st;
		return;
	case 2:
		if (s->quic_status < 0)
			s->quic_status = st;
		/* A failed rcp-quic-* leaves nothing to wait for. */
		if (st != 0)
			abort_all(s->l);
		return;
	}
	if (strncmp(line, "RCP_QUIC ", 9) == 0)
		on_ready_line(s->l, s, line);
}

static void
on_closed(struct ssh_job *j, void *arg)
{
	struct side *s = arg;
	struct launch *l = s->l;

	(void)j;
	/* SRC is gone before its ready line: DST's read gets EOF. */
	if (l->mode == MODE_FROMTO)
		close_feed(&l->side[1]);
	if (s->quic_status != 0)
		abort_all(l);
}

/* The transfer thread has ended. */
static int
on_xfer_done(void *arg)
{
	struct launch *l = arg;
	struct side *s = &l->side[0];

	if (ssh_xfer_reap(&l->xfer) && l->xfer.rc != 0 &&
	    !l->xfer.cancelled)
		fail(l, l->xfer.e.status, "%s: %s", s->conn.host,
		    l->xfer.e.msg);
	return 0;
}

/* True when our stdout is a pipe nobody reads any more. */
static int
stdout_broken(void)
{
	struct pollfd p = { STDOUT_FILENO, POLLOUT, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR) != 0;
}

/* Statuses that follow from another failure rather than cause one. */
static int
consequence(const struct side *s, int st)
{
	return st == 128 + SIGPIPE || (s->job.killed &&
	    (st == 128 + SIGTERM || st == 128 + SIGKILL));
}

/*
 * SPEC §6: 0 only when every remote command exited 0 and the transfer
 * was confirmed; else the first failing remote status (the user's
 * commands first, then the rcp-quic-* programs), 1 for a transfer
 * failure, 255 for an SSH failure.  Broken pipes and our own kills only
 * count when nothing else explains the failure.
 */
static int
final_status(struct launch *l)
{
	struct side *s;
	int i, st;

	for (i = 0; i < l->n; i++) {
		st = l->side[i].cmd_status;
		if (st > 0 && !consequence(&l->side[i], st))
			return st;
	}
	/* As in plain mode, a closed stdout is a SIGPIPE, not an error. */
	if (l->mode == MODE_PULL && (!l->xfer.reaped || l->xfer.rc != 0) &&
	    stdout_broken())
		return 128 + SIGPIPE;
	for (i = 0; i < l->n; i++) {
		s = &l->side[i];
		st = s->quic_status;
		if (st <= 0 || consequence(s, st))
			continue;
		if (st == 126 || st == 127)
			diag_warnx("%s: the remote %s could not be run (status "
			    "%d): put it in the remote PATH or give its "
			    "directory with --remote-bin", s->conn.host,
			    s->quic_name, st);
		return st;
	}
	if (l->have_fail) {
		diag_warnx("%s", l->fail.msg);
		return l->fail.status;
	}
	for (i = 0; i < l->n; i++) {
		if (l->side[i].job.lost) {
			diag_warnx("%s", l->side[i].job.lost_msg);
			return SSH_EXIT_SSH;
		}
	}
	for (i = 0; i < l->n; i++)
		if (l->side[i].cmd_status > 0 || l->side[i].quic_status > 0)
			return 128 + SIGPIPE;
	for (i = 0; i < l->n; i++) {
		s = &l->side[i];
		if (l->mode == MODE_FROMTO && i == 1 && !s->fed)
			continue;	/* never ran: SRC says why */
		if (s->cmd_status >= 0 && s->quic_status >= 0)
			continue;
		st = ssh_job_status(&s->job);
		if (st == 0 || st == SSH_EXIT_SSH)
			st = EXIT_FAIL;
		diag_warnx("%s: the remote %s ended without reporting how "
		    "(exit status %d); is the login shell a POSIX sh?",
		    s->conn.host, s->cmd_status < 0 ? "command" :
		    s->quic_name, ssh_job_status(&s->job));
		return st;
	}
	s = &l->side[0];
	if (!s->ready) {
		diag_warnx("%s: the remote %s ended without a ready line",
		    s->conn.host, s->quic_name);
		return EXIT_FAIL;
	}
	if (l->mode == MODE_FROMTO && !l->side[1].fed) {
		diag_warnx("%s: never started", l->side[1].conn.host);
		return EXIT_FAIL;
	}
	if (l->mode != MODE_FROMTO && (!l->xfer.reaped || l->xfer.rc != 0)) {
		diag_warnx("%s: transfer not confirmed%s", s->conn.host,
		    l->xfer.cancelled ? ": it did not end after the remote "
		    "side had" : "");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* Connects s to t and starts the script for kind on it. */
static void
start_side(struct launch *l, struct side *s, enum ssh_remote_kind kind,
    const char *command)
{
	struct ssh_remote_spec spec;
	struct rcp_error e;
	char *body;

	memset(&spec, 0, sizeof(spec));
	spec.kind = kind;
	spec.command = command;
	spec.bin_dir = l->bin_dir;
	spec.peer_pin = quic_identity_pin(l->id);
	spec.port_range = l->port_range;
	spec.connect_timeout = l->connect_timeout;
	spec.progress = l->progress && kind == SSH_REMOTE_TO;
	if ((body = ssh_remote_script(&spec)) == NULL)
		diag_die(SSH_EXIT_SSH, "out of memory");

	ssh_job_init(&s->job, &s->conn);
	s->listens = kind != SSH_REMOTE_TO;
	s->quic_name = kind == SSH_REMOTE_PULL ? "rcp-quic-send" :
	    "rcp-quic-recv";
	s->job.controls_pending += s->listens ? SSH_REMOTE_CONTROLS_LISTEN :
	    SSH_REMOTE_CONTROLS_TO;
	s->job.on_control = on_control;
	s->job.on_closed = on_closed;
	s->job.control_arg = s;
	/* Our stdin is the data (--push) or nobody's: never the command's. */
	s->job.in_fd = s->feed[0];
	/* With --pull our stdout is the data: keep stray output off it. */
	if (kind == SSH_REMOTE_PULL)
		s->job.out_fd = STDERR_FILENO;
	if (l->mode == MODE_FROMTO) {
		snprintf(s->prefix, sizeof(s->prefix), "%s: ", s->conn.host);
		s->job.err_prefix = s->prefix;
	}
	if (ssh_job_start(&s->job, body, &e) != 0) {
		free(body);
		fail(l, e.status, "%s", e.msg);
		return;
	}
	free(body);
	s->started = 1;
}

static void
init_side(struct launch *l, struct side *s)
{
	memset(s, 0, sizeof(*s));
	s->l = l;
	s->cmd_status = s->quic_status = -1;
	s->feed[0] = s->feed[1] = -1;
}

static void
free_side(struct side *s)
{
	if (s->started)
		ssh_job_free(&s->job);
	if (s->opened)
		ssh_conn_close(&s->conn);
	if (s->feed[0] >= 0)
		close(s->feed[0]);
	close_feed(s);
}

/*
 * --pull, --push (one host) and --from/--to (two).  Returns the exit
 * status; dies of the signal that interrupted it.
 */
static int
run_quic(struct launch *l, struct ssh_target *src, struct ssh_target *dst,
    const char *cmd_src, const char *cmd_dst)
{
	struct ssh_loop loop = { &got_signal, -1, on_xfer_done, l };
	struct ssh_job *jobs[2];
	struct rcp_error e;
	uint64_t size = 0;
	int i, njobs, rc, status, known;

	l->n = l->mode == MODE_FROMTO ? 2 : 1;
	for (i = 0; i < l->n; i++)
		init_side(l, &l->side[i]);
	if (ssh_xfer_init(&l->xfer, &e) != 0 ||
	    quic_identity_generate(&l->id, &e) != 0)
		diag_die_error(&e);
	open_conn(&l->side[0].conn, src);
	l->side[0].opened = 1;
	require_address(&l->side[0].conn);
	if (l->mode == MODE_FROMTO) {
		open_conn(&l->side[1].conn, dst);
		l->side[1].opened = 1;
		if (pipe2(l->side[1].feed, O_CLOEXEC) != 0)
			diag_die(EXIT_FAIL, "pipe: %s", strerror(errno));
	}

	if (l->mode == MODE_PULL) {
		io_grow_pipe(STDOUT_FILENO, IO_PIPE_SIZE);
		progress_init(&l->prog, l->progress, 0, 0);
	} else if (l->mode == MODE_PUSH) {
		io_grow_pipe(STDIN_FILENO, IO_PIPE_SIZE);
		known = io_regular_size(STDIN_FILENO, &size);
		progress_init(&l->prog, l->progress, known, size);
	}
	/* DST first: it only waits for SRC's address, guarded. */
	if (l->mode == MODE_FROMTO)
		start_side(l, &l->side[1], SSH_REMOTE_TO, cmd_dst);
	if (!l->have_fail)
		start_side(l, &l->side[0], l->mode == MODE_PUSH ?
		    SSH_REMOTE_PUSH : SSH_REMOTE_PULL, cmd_src);

	loop.wake_fd = l->xfer.done_fd;
	cancel_fd = ssh_xfer_cancel_fd(&l->xfer);
	for (i = 0, njobs = 0; i < l->n; i++)
		if (l->side[i].started)
			jobs[njobs++] = &l->side[i].job;
	rc = ssh_jobs_run(jobs, njobs, &loop, &e);
	if (rc < 0)
		fail(l, SSH_EXIT_SSH, "%s", e.msg);

	/*
	 * Every channel has closed (or we were stopped).  Our end of the
	 * transfer gets a little time only if the remote end succeeded.
	 */
	ssh_xfer_finish(&l->xfer, got_signal || l->side[0].quic_status != 0 ?
	    0 : XFER_LINGER, &got_signal);
	if (l->xfer.reaped && l->xfer.rc != 0 && !l->xfer.cancelled &&
	    !got_signal)
		fail(l, l->xfer.e.status, "%s: %s", l->side[0].conn.host,
		    l->xfer.e.msg);
	/* Never success with the local end unfinished. */
	if (l->xfer.abandoned && !got_signal)
		fail(l, EXIT_FAIL, "%s: the local end of the transfer did not "
		    "finish (is the local output stalled?)",
		    l->side[0].conn.host);
	if (l->mode != MODE_FROMTO && l->xfer.reaped)
		progress_finish(&l->prog);
	status = got_signal ? 0 : final_status(l);
	for (i = 0; i < l->n; i++)
		free_side(&l->side[i]);
	cancel_fd = -1;
	ssh_xfer_free(&l->xfer);
	quic_identity_free(l->id);
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
	struct ssh_target t, dst;
	struct launch l;
	struct quic_port_range ranges[QUIC_PORT_RANGES_MAX];
	struct rcp_error e;
	const char *from = NULL, *to = NULL;
	int ch, pull = 0, push = 0, status;
	size_t nranges;
	uint64_t v;
	char *command, *consumer;

	diag_init(argv[0]);
	memset(&t, 0, sizeof(t));
	memset(&l, 0, sizeof(l));
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
			l.progress = 1;
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
		l.mode = MODE_FROMTO;
		if ((command = strdup(argv[0])) == NULL ||
		    (consumer = strdup(argv[1])) == NULL)
			diag_die(SSH_EXIT_SSH, "out of memory");
		status = run_quic(&l, &t, &dst, command, consumer);
		free(command);
		free(consumer);
		return status;
	}
	if (argc < 1)
		usage("missing HOST");
	if (argc < 2)
		usage("missing COMMAND (rcp-launch never opens a login shell)");

	catch_signals();
	t.dest = argv[0];
	command = join_words(argc - 1, argv + 1);
	if (pull || push) {
		l.mode = pull ? MODE_PULL : MODE_PUSH;
		status = run_quic(&l, &t, NULL, command, NULL);
	} else {
		status = run_plain(&t, command);
	}
	free(command);
	return status;
}
