/*
 * launch.c: rcp-launch's engine (launch.h).  Each remote host is a side:
 * an SSH connection and one job on it, whose control lines (remote.h)
 * drive the run: a listener's ready line starts our end of the transfer
 * (--pull, --push) or is passed to DST (--from/--to); the statuses
 * reported decide the verdict.
 */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "launch.h"
#include "progress.h"
#include "quic.h"
#include "remote.h"
#include "resume_out.h"
#include "ssh/ssh_job.h"
#include "xfer.h"

/*
 * Once the remote side of --pull/--push has ended well, how long our own
 * end of the transfer may take to see the connection's close.
 */
#define XFER_LINGER 10.0

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
	int quic_first;		/* ... reported before we killed its job */
	int ready;		/* its ready line has arrived */
	uint16_t port;
	char pin[QUIC_PIN_SIZE];
	int feed[2];		/* --to: our end of its stdin, or -1 */
	int fed;		/* --to: address and identity sent */
	char prefix[sizeof(((struct ssh_conn *)0)->host) + 3];
};

struct launch {
	const struct launch_opts *o;
	struct side side[2];	/* --from/--to: SRC, DST; else one */
	int n;
	struct quic_identity *id;	/* the connecting end's identity */
	struct ssh_xfer xfer;		/* --pull, --push: our end */
	int xfer_said;			/* -v: its confirmation was said */
	struct progress prog;
	int have_fail;			/* first local failure, in fail */
	int output_failed;		/* ... which was --pull's output */
	struct rcp_error fail;
	struct resume_out out;		/* --pull --output */
	int out_open;
};

static void __attribute__((format(printf, 3, 4)))
say(const struct launch_opts *o, enum launch_say kind, const char *fmt, ...)
{
	char line[LAUNCH_WARNING_MAX];
	va_list ap;

	if (o->say == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	o->say(kind, line);
}

static void
report_host_key(const struct launch_opts *o, const struct ssh_conn *c)
{
	if (c->note[0] != '\0')
		say(o, LAUNCH_SAY_WARNING, "%s: %s", c->host, c->note);
	if (c->hostkey_changed)
		say(o, LAUNCH_SAY_HOSTKEY_CHANGED, "%s", c->host);
	if (c->hostkey_revoked)
		say(o, LAUNCH_SAY_HOSTKEY_REVOKED, "%s", c->host);
	if (c->hostkey_added)
		say(o, LAUNCH_SAY_WARNING, "warning: permanently added '%s' "
		    "(%s) to %s", c->host, c->key_desc, c->known_hosts);
}

static int
open_conn(const struct launch_opts *o, struct ssh_conn *c,
    const struct ssh_target *t, struct rcp_error *e)
{
	int rc = ssh_conn_open(c, t, e);

	report_host_key(o, c);
	return rc;
}

#define debug(o, ...) do { if ((o)->verbose) \
	say((o), LAUNCH_SAY_DEBUG, __VA_ARGS__); } while (0)

/* ---- plain mode ------------------------------------------------------- */

int
launch_plain(const struct launch_opts *o, const struct ssh_target *t,
    const char *command, struct rcp_error *e)
{
	struct ssh_loop loop = { o->stop, -1, NULL, NULL };
	struct ssh_conn conn;
	struct ssh_job job, *jobs[1] = { &job };
	int rc, status;

	if (open_conn(o, &conn, t, e) != 0)
		return -1;
	ssh_job_init(&job, &conn);
	if (ssh_job_start(&job, command, e) != 0) {
		ssh_job_free(&job);
		ssh_conn_close(&conn);
		return -1;
	}
	debug(o, "%s: remote command started", conn.host);
	io_grow_pipe(STDOUT_FILENO, SSH_JOB_IO_BUF);
	rc = ssh_jobs_run(jobs, 1, &loop, e);
	if (rc < 0)
		say(o, LAUNCH_SAY_ERROR, "%s", e->msg);
	if (job.lost && !*o->stop)
		say(o, LAUNCH_SAY_ERROR, "%s", job.lost_msg);
	if (job.out_broken != 0 && job.out_broken != EPIPE)
		say(o, LAUNCH_SAY_ERROR, "write error: stdout: %s",
		    strerror(job.out_broken));
	status = ssh_job_status(&job);
	/* A local failure is not an SSH one: 1, as the QUIC modes say. */
	if (job.out_broken == EPIPE)
		status = 128 + SIGPIPE;
	else if (job.out_broken != 0 || rc < 0)
		status = EXIT_FAIL;
	else if (status == SSH_EXIT_SSH && !job.lost && !*o->stop &&
	    job.exit_signal[0] == '\0')
		say(o, LAUNCH_SAY_ERROR, "%s: remote command ended without "
		    "an exit status", conn.host);
	else if (job.exit_signal[0] != '\0' && status == SSH_EXIT_SSH)
		say(o, LAUNCH_SAY_ERROR, "%s: remote command killed by "
		    "unknown signal %s", conn.host, job.exit_signal);
	ssh_job_free(&job);
	ssh_conn_close(&conn);
	return status;
}

/* ---- the QUIC modes ----------------------------------------------------- */

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
 * --pull --output: the file is made durable here, before the
 * confirmation, but published only once the run's verdict is success
 * (publish_output), so that a failed producer's partial output never
 * takes the file's place.  Runs on the transfer's thread.
 */
static int
finish_output(void *arg, struct rcp_error *e)
{
	struct launch *l = arg;

	return atomic_out_sync(&l->out.ao, e);
}

/*
 * Our end's non-fatal events (quic_opts.log), such as a socket buffer
 * the kernel capped: warnings, as the remote end's would be on its
 * stderr.  Runs on the transfer's thread.
 */
static void
xfer_log(void *arg, const char *msg)
{
	say(arg, LAUNCH_SAY_WARNING, "%s", msg);
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
	int pull = l->o->mode == LAUNCH_PULL;

	x->o.role = QUIC_CONNECT;
	x->o.dir = pull ? QUIC_RECV : QUIC_SEND;
	x->o.host = s->conn.addr;
	x->o.port = s->port;
	x->o.pin = s->pin;
	x->o.identity = l->id;
	x->o.data_fd = !pull ? STDIN_FILENO : l->out_open ? l->out.ao.fd :
	    STDOUT_FILENO;
	x->o.data_name = pull && l->out_open ? resume_out_name(&l->out,
	    l->o->output) : NULL;
	x->o.progress = &l->prog;
	x->o.limit_rate = pull ? 0 : l->o->limit_rate;
	x->o.connections = l->o->connections;	/* 0: auto */
	x->o.debug = l->o->quic_debug;
	x->o.no_gso = l->o->quic_no_gso;
	x->o.log = xfer_log;
	x->o.log_arg = (void *)(uintptr_t)l->o;
	if (pull) {
		x->o.finish = l->out_open ? finish_output : finish_stdout;
		x->o.finish_arg = l;
		if (l->out_open)
			resume_out_opts(&l->out, &x->o);
	}
	if (l->o->connect_timeout > 0)
		x->o.connect_timeout = l->o->connect_timeout;
	debug(l->o, "%s: QUIC: connecting to %s port %u, pinned to %s",
	    s->conn.host, x->o.host, (unsigned)x->o.port, s->pin);
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
	debug(l->o, "%s: passing %s's address and pin on", d->conn.host,
	    src->conn.host);
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
	debug(l->o, "%s: ready line received: the remote %s listens on "
	    "port %u", s->conn.host, s->quic_name, (unsigned)s->port);
	if (l->o->mode == LAUNCH_FROMTO)
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
		if (s->quic_status < 0) {
			s->quic_status = st;
			/* Then its death is no consequence of our kill. */
			s->quic_first = !s->job.killed;
		}
		/* A failed rcp-quic-* leaves nothing to wait for. */
		if (st != 0)
			abort_all(s->l);
		return;
	}
	if (strncmp(line, QUIC_READY_TAG, strlen(QUIC_READY_TAG)) == 0)
		on_ready_line(s->l, s, line);
}

static void
on_closed(struct ssh_job *j, void *arg)
{
	struct side *s = arg;
	struct launch *l = s->l;

	(void)j;
	/* SRC is gone before its ready line: DST's read gets EOF. */
	if (l->o->mode == LAUNCH_FROMTO)
		close_feed(&l->side[1]);
	if (s->quic_status != 0)
		abort_all(l);
}

/*
 * Our end of the transfer failed.  When it was our own data that failed
 * (our output with --pull, our input with --push: the message names
 * it), that is a local error, said as one: the remote side only learns
 * that its peer failed, and may report that (which cancels us) before
 * we reap.
 */
static void
xfer_failed(struct launch *l)
{
	const char *msg = l->xfer.e.msg;

	if (!l->xfer.st.data_failed) {
		if (!l->xfer.cancelled)
			fail(l, l->xfer.e.status, "%s: %s",
			    l->side[0].conn.host, msg);
		return;
	}
	if (!l->have_fail && l->o->mode == LAUNCH_PULL)
		l->output_failed = 1;
	fail(l, EXIT_FAIL, "%s", msg);
}

/* The transfer thread has ended. */
/* -v: our end of the transfer was confirmed, once said. */
static void
xfer_confirmed(struct launch *l)
{
	const struct quic_stats *st = &l->xfer.st;

	if (l->xfer.rc != 0 || l->xfer_said)
		return;
	l->xfer_said = 1;
	debug(l->o, "%s: QUIC: transfer confirmed: %llu bytes from %s over "
	    "%u connection%s", l->side[0].conn.host,
	    (unsigned long long)st->bytes, st->peer, st->connections,
	    st->connections == 1 ? "" : "s");
}

static int
on_xfer_done(void *arg)
{
	struct launch *l = arg;

	if (ssh_xfer_reap(&l->xfer))
		xfer_confirmed(l);
	if (l->xfer.reaped && l->xfer.rc != 0)
		xfer_failed(l);
	return 0;
}

/* True when our stdout is a pipe nobody reads any more. */
static int
stdout_broken(void)
{
	struct pollfd p = { STDOUT_FILENO, POLLOUT, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR) != 0;
}

/* What launch_verdict needs to know, read off the run. */
static void
outcome(const struct launch *l, struct launch_outcome *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	out->mode = l->o->mode;
	out->n = l->n;
	for (i = 0; i < l->n; i++) {
		const struct side *s = &l->side[i];
		struct launch_side_outcome *so = &out->side[i];

		so->host = s->conn.host;
		so->quic_name = s->quic_name;
		so->cmd_status = s->cmd_status;
		so->quic_status = s->quic_status;
		so->killed = s->job.killed;
		so->quic_first = s->quic_first;
		so->lost = s->job.lost;
		so->lost_msg = s->job.lost_msg;
		so->job_status = ssh_job_status(&s->job);
		so->ready = s->ready;
		so->fed = s->fed;
	}
	out->xfer_reaped = l->xfer.reaped;
	out->xfer_rc = l->xfer.rc;
	out->xfer_cancelled = l->xfer.cancelled;
	if (l->o->mode == LAUNCH_PULL && (!l->xfer.reaped ||
	    l->xfer.rc != 0))
		out->stdout_broken = stdout_broken();
	out->have_fail = l->have_fail;
	out->output_failed = l->output_failed;
	out->fail_status = l->fail.status;
	out->fail_msg = l->fail.msg;
}

/* Starts the script for kind on s, whose connection is open. */
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
	spec.bin_dir = l->o->bin_dir;
	spec.peer_pin = quic_identity_pin(l->id);
	spec.port_range = l->o->port_range;
	spec.connect_timeout = l->o->connect_timeout;
	spec.limit_rate = l->o->limit_rate;
	spec.connections = l->o->connections;
	spec.output = kind == SSH_REMOTE_PUSH ? l->o->output : NULL;
	spec.resume = l->o->resume;
	spec.progress = l->o->progress_label != NULL &&
	    kind == SSH_REMOTE_TO;
	if ((body = ssh_remote_script(&spec)) == NULL) {
		fail(l, SSH_EXIT_SSH, "out of memory");
		return;
	}
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
	/*
	 * With --pull our stdout is the data: keep stray output off it; and
	 * once its reader has gone (| head), the remote side's complaints
	 * about that are not worth a line, as with any pipeline.
	 */
	if (kind == SSH_REMOTE_PULL) {
		s->job.out_fd = STDERR_FILENO;
		if (!l->out_open)
			s->job.mute_fd = STDOUT_FILENO;
	}
	/* Remote lines say where they come from, ours being local. */
	snprintf(s->prefix, sizeof(s->prefix), "%s: ", s->conn.host);
	s->job.err_prefix = s->prefix;
	if (ssh_job_start(&s->job, body, &e) != 0) {
		ssh_job_free(&s->job);	/* what a half start opened */
		fail(l, e.status, "%s", e.msg);
	} else {
		s->started = 1;
		debug(l->o, "%s: remote command and %s started", s->conn.host,
		    s->quic_name);
	}
	free(body);
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

static void
free_launch(struct launch *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		free_side(&l->side[i]);
	/* An --output not published is removed (a second abort is safe). */
	if (l->out_open && !l->xfer.abandoned) {
		atomic_out_abort(&l->out.ao);
		resume_out_free(&l->out);
	}
	*l->o->cancel_fd = -1;
	ssh_xfer_free(&l->xfer);
	quic_identity_free(l->id);
}

/*
 * Opens the connections (SRC, then DST) and DST's feed pipe.  The QUIC
 * modes connect to the address SSH reached; over a ProxyCommand or
 * ProxyJump there is none to learn, so say so before starting anything.
 */
static int
open_sides(struct launch *l, const struct ssh_target *src,
    const struct ssh_target *dst, struct rcp_error *e)
{
	struct side *s = &l->side[0];

	if (open_conn(l->o, &s->conn, src, e) != 0)
		return -1;
	s->opened = 1;
	if (s->conn.addr[0] == '\0')
		return error_set(e, SSH_EXIT_SSH, "%s: no network address "
		    "to connect QUIC to: the SSH connection does not go to "
		    "the host directly (ProxyCommand or ProxyJump?); --pull, "
		    "--push and --from/--to need a direct connection",
		    s->conn.host);
	if (l->o->mode != LAUNCH_FROMTO)
		return 0;
	if (open_conn(l->o, &l->side[1].conn, dst, e) != 0)
		return -1;
	l->side[1].opened = 1;
	if (pipe2(l->side[1].feed, O_CLOEXEC) != 0)
		return error_set_errno(e, EXIT_FAIL, "pipe");
	return 0;
}

/*
 * --output: published when everything succeeded, else removed.  A
 * transfer thread that never ended (abandoned) may still hold the file:
 * it is left to go with the process (unnamed, where O_TMPFILE works).
 * Returns the run's status, EXIT_FAIL when publishing failed.
 */
static int
publish_output(struct launch *l, int status)
{
	const struct launch_opts *o = l->o;
	struct rcp_error e;

	if (l->xfer.abandoned)
		return status;
	if (status != 0 || *o->stop || !l->xfer.reaped || l->xfer.rc != 0) {
		int refused = (l->xfer.rc != 0 ? l->xfer.e.status : status) ==
		    EXIT_DATA;
		uint64_t kept;
		int any = resume_out_kept(&l->out, &kept) == 0 && kept > 0;

		/* With --resume, the partial file stays: say where. */
		atomic_out_abort(&l->out.ao);
		if (!any)
			return status;
		if (refused)
			say(o, LAUNCH_SAY_ERROR, "%s is not the start of the "
			    "data: remove it or run without --resume",
			    l->out.partial_name);
		else
			say(o, LAUNCH_SAY_ERROR, "kept %" PRIu64 " bytes in %s; "
			    "run again with --resume to continue", kept,
			    l->out.partial_name);
		return status;
	}
	if (l->out.ao.warning[0] != '\0')
		say(o, LAUNCH_SAY_WARNING, "warning: %s", l->out.ao.warning);
	if (atomic_out_publish(&l->out.ao, &e) != 0) {
		say(o, LAUNCH_SAY_ERROR, "%s", e.msg);
		return EXIT_FAIL;
	}
	return status;
}

int
launch_quic(const struct launch_opts *o, const struct ssh_target *src,
    const struct ssh_target *dst, const char *cmd_src, const char *cmd_dst,
    struct rcp_error *e)
{
	struct launch l;
	struct ssh_loop loop = { o->stop, -1, on_xfer_done, &l };
	struct ssh_job *jobs[2];
	struct launch_outcome out;
	struct launch_verdict v;
	uint64_t size = 0;
	int i, njobs, rc, known;

	memset(&l, 0, sizeof(l));
	l.o = o;
	l.n = o->mode == LAUNCH_FROMTO ? 2 : 1;
	for (i = 0; i < l.n; i++) {
		l.side[i].l = &l;
		l.side[i].cmd_status = l.side[i].quic_status = -1;
		l.side[i].feed[0] = l.side[i].feed[1] = -1;
	}
	/* The output first: a bad path needs no connection to be told. */
	if (o->mode == LAUNCH_PULL && o->output != NULL) {
		if (resume_out_open(&l.out, o->output, o->resume, e) != 0) {
			if (o->resume && e->status == EXIT_USAGE) {
				char why[sizeof(e->msg)];
				snprintf(why, sizeof(why), "%s", e->msg);
				error_set(e, EXIT_USAGE, "--resume needs --output "
				    "to name a regular file: %s", why);
			}
			return -1;
		}
		l.out_open = 1;
	}
	if (ssh_xfer_init(&l.xfer, e) != 0 ||
	    quic_identity_generate(&l.id, e) != 0 ||
	    open_sides(&l, src, dst, e) != 0) {
		free_launch(&l);	/* closing also ends a ProxyCommand */
		return -1;
	}

	if (o->mode == LAUNCH_PULL) {
		io_grow_pipe(STDOUT_FILENO, IO_PIPE_SIZE);
		progress_init(&l.prog, o->progress_label, 0, 0);
	} else if (o->mode == LAUNCH_PUSH) {
		io_grow_pipe(STDIN_FILENO, IO_PIPE_SIZE);
		known = io_regular_size(STDIN_FILENO, &size);
		progress_init(&l.prog, o->progress_label, known, size);
	}
	/* DST first: it only waits for SRC's address, guarded. */
	if (o->mode == LAUNCH_FROMTO)
		start_side(&l, &l.side[1], SSH_REMOTE_TO, cmd_dst);
	if (!l.have_fail)
		start_side(&l, &l.side[0], o->mode == LAUNCH_PUSH ?
		    SSH_REMOTE_PUSH : SSH_REMOTE_PULL, cmd_src);

	loop.wake_fd = l.xfer.done_fd;
	*o->cancel_fd = ssh_xfer_cancel_fd(&l.xfer);
	for (i = 0, njobs = 0; i < l.n; i++)
		if (l.side[i].started)
			jobs[njobs++] = &l.side[i].job;
	rc = ssh_jobs_run(jobs, njobs, &loop, e);
	if (rc < 0)
		fail(&l, SSH_EXIT_SSH, "%s", e->msg);

	/*
	 * Every channel has closed (or we were stopped).  Our end of the
	 * transfer gets a little time only if the remote end succeeded.
	 */
	ssh_xfer_finish(&l.xfer, *o->stop || l.side[0].quic_status != 0 ?
	    0 : XFER_LINGER, o->stop);
	if (l.xfer.reaped)
		xfer_confirmed(&l);
	if (l.xfer.reaped && l.xfer.rc != 0 && !*o->stop)
		xfer_failed(&l);
	/* Never success with the local end unfinished. */
	if (l.xfer.abandoned && !*o->stop)
		fail(&l, EXIT_FAIL, "%s: the local end of the transfer did "
		    "not finish (is the local output stalled?)",
		    l.side[0].conn.host);
	/* Even with the transfer thread abandoned: the display's thread
	 * must not outlive l, on this stack. */
	if (o->mode != LAUNCH_FROMTO)
		progress_finish(&l.prog);
	v.status = 0;
	if (!*o->stop) {
		outcome(&l, &out);
		launch_verdict(&out, &v);
		if (v.warning[0] != '\0')
			say(o, LAUNCH_SAY_ERROR, "%s", v.warning);
	}
	if (l.out_open)
		v.status = publish_output(&l, v.status);
	free_launch(&l);
	return v.status;
}
