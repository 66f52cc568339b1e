/* ssh_job.c: a remote command, its stdio relay and its watchdog. */
#define _GNU_SOURCE	/* vasprintf */
#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/clock.h"
#include "progress.h"
#include "io.h"
#include "ssh_job.h"
#include "wipe.h"

/*
 * The watchdog, run first by its own remote login shell (POSIX sh).  It
 * makes a private rendezvous directory named by the job's token; the
 * command's wrapper (job_head) records its process group there and
 * runs only if the watchdog has not yet closed the directory.  One line
 * on stdin ends the watch: "done" disarms it; anything else, or EOF (we
 * died, the connection dropped), kills the group.  "closed" is made
 * before pg is read, and the wrapper checks it after writing pg, so
 * either the watchdog sees the group or the command never starts.  A
 * wrapper still starting (waiting for the directory) is given as long
 * to show up as it waits, so that it finds "closed" and gives up at
 * once rather than at the end of its wait.
 */
static const char watchdog_script[] =
    "umask 077\n"
    "rcp_d=\"${TMPDIR:-/tmp}/rcp-launch.%s\"\n"
    "mkdir \"$rcp_d\" || exit 0\n"
    "read -r what\n"
    "mkdir \"$rcp_d/closed\"\n"
    "rcp_i=0\n"
    "while [ \"$what\" != done ] && [ ! -f \"$rcp_d/pg\" ] &&\n"
    "    [ \"$rcp_i\" -lt %d ]; do\n"
    "\trcp_i=$((rcp_i + 1))\n"
    "\tsleep 0.1\n"
    "done\n"
    "pg=\n"
    "[ -f \"$rcp_d/pg\" ] && read -r pg <\"$rcp_d/pg\"\n"
    "if [ \"$what\" != done ] && [ -n \"$pg\" ]; then\n"
    "\tkill -s TERM -- -\"$pg\" 2>/dev/null\n"
    "\tsleep 1\n"
    "\tkill -s KILL -- -\"$pg\" 2>/dev/null\n"
    "fi\n"
    "rm -rf \"$rcp_d\"\n"
    "exit 0\n";

/*
 * The main channel's script: wait for the watchdog's directory (its
 * channel was opened first, but its shell may start after ours: we look
 * every 10 ms, which adds about that to a command's start), record our
 * group (sshd makes each session's shell a session and group leader) by
 * an atomic rename, and run body only if the watch is still open.
 */
static const char job_head[] =
    "rcp_d=\"${TMPDIR:-/tmp}/rcp-launch.%s\" rcp_i=0\n"
    "until [ -d \"$rcp_d\" ]; do\n"
    "\trcp_i=$((rcp_i + 1))\n"
    "\t[ \"$rcp_i\" -le %d ] || { echo \"rcp-launch: the remote watchdog "
    "did not start in $rcp_d\" >&2; exit 255; }\n"
    "\tsleep 0.01\n"
    "done\n"
    "[ -O \"$rcp_d\" ] || { echo \"rcp-launch: $rcp_d is not ours\" >&2; "
    "exit 255; }\n"
    "{ echo $$ >\"$rcp_d/pg.new\" && mv -f \"$rcp_d/pg.new\" \"$rcp_d/pg\"; "
    "} || exit 255\n"
    "[ ! -d \"$rcp_d/closed\" ] || exit 255\n"
    "unset rcp_d rcp_i\n";

/* With control lines: their secret, the first line of our stdin. */
static const char job_secret[] =
    "IFS= read -r " SSH_JOB_SECRET_VAR " || exit 255\n";

static const struct {
	const char *name;
	int num;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
	{ "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ }, { "SYS", SIGSYS },
};

/* 16 bytes from the CSPRNG in hex: a token or a secret. */
static int
job_random_hex(char out[33])
{
	unsigned char r[16];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	for (i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	wipe(r, sizeof(r));
	return 0;
}

/* printf-style into a new string.  NULL on allocation failure. */
static char *script_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static char *
script_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

static void
on_exit_status(ssh_session s, ssh_channel ch, int status, void *arg)
{
	struct ssh_job *j = arg;

	(void)s;
	(void)ch;
	j->have_status = 1;
	j->exit_status = status;
}

static void
on_exit_signal(ssh_session s, ssh_channel ch, const char *sig, int core,
    const char *errmsg, const char *lang, void *arg)
{
	struct ssh_job *j = arg;

	(void)s;
	(void)ch;
	(void)core;
	(void)errmsg;
	(void)lang;
	snprintf(j->exit_signal, sizeof(j->exit_signal), "%s",
	    sig != NULL ? sig : "?");
}

void
ssh_job_init(struct ssh_job *j, struct ssh_conn *c)
{
	memset(j, 0, sizeof(*j));
	j->conn = c;
	j->in_fd = STDIN_FILENO;
	j->out_fd = STDOUT_FILENO;
	j->err_fd = STDERR_FILENO;
	j->mute_fd = -1;
	j->at_line_start = 1;
}

/*
 * Opens a session channel and runs cmd on it.  cb, if not NULL, is in
 * place before the exec request: a command that ends at once may have its
 * exit status in the same read as the request's reply, and libssh hands
 * it to whatever callbacks are set when it reads it.
 */
static ssh_channel
open_exec(struct ssh_job *j, const char *cmd, ssh_channel_callbacks cb,
    struct rcp_error *e)
{
	ssh_channel ch = ssh_channel_new(j->conn->s);

	if (ch == NULL) {
		error_set(e, SSH_EXIT_SSH, "%s: cannot create channel: %s",
		    j->conn->host, ssh_get_error(j->conn->s));
		return NULL;
	}
	if (cb != NULL)
		ssh_set_channel_callbacks(ch, cb);
	if (ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		error_set(e, SSH_EXIT_SSH, "%s: cannot start remote command: "
		    "%s", j->conn->host, ssh_get_error(j->conn->s));
		ssh_channel_free(ch);
		return NULL;
	}
	return ch;
}

int
ssh_job_start(struct ssh_job *j, const char *body, struct rcp_error *e)
{
	char *watch = NULL, *head = NULL, *script = NULL;
	char line[sizeof(j->secret) + 1];
	int rc = -1, w;

	if ((j->inbuf = malloc(SSH_JOB_IO_BUF)) == NULL ||
	    (j->outbuf = malloc(SSH_JOB_IO_BUF)) == NULL)
		return error_set_errno(e, SSH_EXIT_SSH, "buffer");
	if (job_random_hex(j->token) != 0 || (j->controls_pending > 0 &&
	    job_random_hex(j->secret) != 0))
		return error_set_errno(e, SSH_EXIT_SSH, "getrandom");
	if ((watch = script_printf(watchdog_script, j->token,
	    SSH_JOB_GUARD_WAIT * 10)) == NULL ||
	    (head = script_printf(job_head, j->token,
	    SSH_JOB_GUARD_WAIT * 100)) == NULL ||
	    (script = script_printf("%s%s%s\n", head, j->secret[0] != '\0' ?
	    job_secret : "", body)) == NULL) {
		error_set_errno(e, SSH_EXIT_SSH, "script");
		goto out;
	}
	ssh_callbacks_init(&j->cb);
	j->cb.userdata = j;
	j->cb.channel_exit_status_function = on_exit_status;
	j->cb.channel_exit_signal_function = on_exit_signal;
	/* The watchdog first: the command never runs unguarded. */
	if ((j->watch = open_exec(j, watch, NULL, e)) == NULL ||
	    (j->ch = open_exec(j, script, &j->cb, e)) == NULL)
		goto out;
	/*
	 * Ahead of anything from in_fd, which the loop feeds later; one
	 * write, as two small ones would wait on Nagle and a delayed ACK.
	 */
	if (j->secret[0] != '\0') {
		snprintf(line, sizeof(line), "%s\n", j->secret);
		w = ssh_channel_write(j->ch, line, (uint32_t)strlen(line));
		wipe(line, sizeof(line));
		if (w == SSH_ERROR) {
			error_set(e, SSH_EXIT_SSH, "%s: cannot start remote "
			    "command: %s", j->conn->host,
			    ssh_get_error(j->conn->s));
			goto out;
		}
	}
	rc = 0;
out:
	free(watch);
	free(head);
	free(script);
	return rc;
}

static void
watchdog_say(struct ssh_job *j, const char *what)
{
	if (j->watch == NULL || !ssh_channel_is_open(j->watch))
		return;
	(void)ssh_channel_write(j->watch, what, (uint32_t)strlen(what));
}

void
ssh_job_kill(struct ssh_job *j)
{
	if (j->killed || j->closed)
		return;
	j->killed = 1;
	watchdog_say(j, "kill\n");
}

int
ssh_job_status(const struct ssh_job *j)
{
	size_t i;

	if (j->exit_signal[0] != '\0') {
		for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
			if (strcmp(j->exit_signal, signals[i].name) == 0)
				return 128 + signals[i].num;
		return SSH_EXIT_SSH;
	}
	if (j->have_status)
		return j->exit_status;
	return SSH_EXIT_SSH;
}

void
ssh_job_free(struct ssh_job *j)
{
	if (j->watch != NULL) {
		if (ssh_channel_is_open(j->watch)) {
			if (!j->killed)
				watchdog_say(j, "done\n");
			ssh_channel_send_eof(j->watch);
			ssh_channel_close(j->watch);
		}
		ssh_channel_free(j->watch);
		j->watch = NULL;
	}
	if (j->ch != NULL) {
		if (ssh_channel_is_open(j->ch))
			ssh_channel_close(j->ch);
		ssh_channel_free(j->ch);
		j->ch = NULL;
	}
	/* It carried --to's private key on its way to DST. */
	if (j->inbuf != NULL)
		wipe(j->inbuf, SSH_JOB_IO_BUF);
	free(j->inbuf);
	free(j->outbuf);
	j->inbuf = j->outbuf = NULL;
	wipe(j->secret, sizeof(j->secret));
}

/*
 * Writes stderr text, putting err_prefix at each line start.  A "\r"
 * starts a line too, so a remote progress display keeps its prefix.
 */
static void
relay_err(struct ssh_job *j, const char *p, size_t n)
{
	struct pollfd m = { j->mute_fd, POLLOUT, 0 };
	struct progress *shown;

	/* A pipe whose reader has gone polls as POLLERR. */
	if (j->mute_fd >= 0 && poll(&m, 1, 0) == 1 &&
	    (m.revents & POLLERR) != 0)
		return;
	/* Not glued to our progress line, nor cut by it. */
	shown = progress_message_begin();
	while (n > 0) {
		const char *nl = j->err_prefix != NULL ?
		    memchr(p, '\r', n) : NULL;
		const char *lf = memchr(p, '\n', nl != NULL ?
		    (size_t)(nl - p) : n);
		size_t len;

		if (lf != NULL)
			nl = lf;
		len = nl != NULL ? (size_t)(nl - p) + 1 : n;

		if (j->at_line_start && j->err_prefix != NULL &&
		    !(len == 1 && *p == '\r'))
			(void)io_write_full(j->err_fd, j->err_prefix,
			    strlen(j->err_prefix));
		(void)io_write_full(j->err_fd, p, len);
		j->at_line_start = nl != NULL;
		p += len;
		n -= len;
	}
	progress_message_end(shown);
}

/*
 * Where line holds a control line's head, "RCP_LAUNCH SECRET ", or NULL.
 * It is looked for anywhere, not only at the start: the remote command's
 * processes share the channel's stderr with the script's reports, so one
 * of them may have written part of a line first ("cat: " before its file
 * name).  Only the script knows the secret, so only it can write one.
 */
static char *
find_control(const struct ssh_job *j, char *line, size_t len)
{
	size_t mlen = strlen(SSH_JOB_MARKER), slen = strlen(j->secret);
	char *m = line, *end = line + len;

	if (slen == 0)
		return NULL;
	while ((m = memmem(m, (size_t)(end - m), SSH_JOB_MARKER, mlen)) !=
	    NULL) {
		if ((size_t)(end - m) > mlen + slen &&
		    memcmp(m + mlen, j->secret, slen) == 0 &&
		    m[mlen + slen] == ' ')
			return m;
		m++;
	}
	return NULL;
}

/* One complete stderr line (terminator included, if any). */
static void
filter_line(struct ssh_job *j, char *line, size_t len)
{
	char *m, term = '\0';
	size_t body = len;

	if (body > 0 && (line[body - 1] == '\n' || line[body - 1] == '\r'))
		term = line[--body];
	line[body] = '\0';
	if ((m = find_control(j, line, body)) == NULL) {
		line[body] = term;
		relay_err(j, line, len);
		return;
	}
	/*
	 * Text before the head is another process's, cut by our line:
	 * relay it as the start of a line that its next write completes.
	 */
	if (m > line)
		relay_err(j, line, (size_t)(m - line));
	j->controls_pending--;
	if (j->on_control != NULL)
		j->on_control(j, m + strlen(SSH_JOB_MARKER) +
		    strlen(j->secret) + 1, j->control_arg);
}

/*
 * The held line is full with no end in sight: someone's long line, which
 * may have a control line cut in two at the end.  Relays all of it but
 * what may be that control line's start: from a head found near the end,
 * or else the last SSH_JOB_CONTROL_MAX bytes, where a head may begin.
 */
static void
filter_full(struct ssh_job *j)
{
	size_t keep = j->line_len < SSH_JOB_CONTROL_MAX ? j->line_len :
	    SSH_JOB_CONTROL_MAX;
	char *m = find_control(j, j->line, j->line_len);

	if (m != NULL && j->line_len - (size_t)(m - j->line) < keep)
		keep = j->line_len - (size_t)(m - j->line);
	relay_err(j, j->line, j->line_len - keep);
	memmove(j->line, j->line + j->line_len - keep, keep);
	j->line_len = keep;
}

void
ssh_job_filter_err(struct ssh_job *j, const char *p, size_t n)
{
	size_t i;

	if (j->controls_pending <= 0 && j->line_len == 0) {
		relay_err(j, p, n);
		return;
	}
	for (i = 0; i < n; i++) {
		j->line[j->line_len++] = p[i];
		if (j->line_len == sizeof(j->line) - 1 && p[i] != '\n' &&
		    p[i] != '\r') {
			filter_full(j);
			continue;
		}
		if (p[i] == '\n' || p[i] == '\r') {
			filter_line(j, j->line, j->line_len);
			j->line_len = 0;
			if (j->controls_pending <= 0) {
				relay_err(j, p + i + 1, n - i - 1);
				return;
			}
		}
	}
}

void
ssh_job_filter_end(struct ssh_job *j)
{
	if (j->line_len > 0)
		filter_line(j, j->line, j->line_len);
	j->line_len = 0;
}

static void
lose(struct ssh_job *j, const char *what)
{
	if (j->lost)
		return;
	j->lost = 1;
	snprintf(j->lost_msg, sizeof(j->lost_msg), "%.200s: %s: %.200s",
	    j->conn->host, what, ssh_get_error(j->conn->s));
}

/*
 * Moves what the channel holds to the local side.  stdout is batched into
 * outbuf so a fast stream costs few write(2)s; the remote EOF (SSH_EOF) is
 * the end of that stream, and the channel's CLOSE ends the job.
 */
static void
drain(struct ssh_job *j, volatile sig_atomic_t *stop)
{
	int is_err, n, rounds;
	size_t have;

	for (is_err = 0; is_err <= 1; is_err++) {
		have = 0;
		for (rounds = 0; rounds < 64; rounds++) {
			n = ssh_channel_read_nonblocking(j->ch,
			    j->outbuf + have,
			    (uint32_t)(SSH_JOB_IO_BUF - have), is_err);
			if (n == SSH_ERROR) {
				lose(j, "connection lost");
				break;
			}
			if (n <= 0)	/* nothing now, or SSH_EOF */
				break;
			have += (size_t)n;
			if (have == SSH_JOB_IO_BUF)
				break;
		}
		if (have == 0)
			continue;
		if (is_err) {
			ssh_job_filter_err(j, (char *)j->outbuf, have);
		} else if (!j->out_broken &&
		    io_write_full_or_stop(j->out_fd, j->outbuf, have,
		    stop) != 0) {
			/* Stopping: the loop kills the jobs next. */
			if (errno == EINTR)
				return;
			/*
			 * The local reader went away (EPIPE) or failed.
			 * Like a process in a shell pipeline, the remote
			 * command is ended; its status becomes 128+SIGPIPE.
			 */
			j->out_broken = errno;
			ssh_job_kill(j);
		}
	}
}

/* stdin -> channel.  Our stdin's EOF becomes the channel's EOF. */
static void
feed(struct ssh_job *j)
{
	int w;

	if (j->in_len > 0 && ssh_channel_is_open(j->ch) && !j->eof_sent) {
		w = ssh_channel_write(j->ch, j->inbuf + j->in_off,
		    (uint32_t)j->in_len);
		if (w == SSH_ERROR) {
			/* The remote end closed: what is left is dropped. */
			j->in_len = 0;
			j->in_eof = 1;
		} else {
			j->in_off += (size_t)w;
			j->in_len -= (size_t)w;
		}
	}
	if (j->in_len == 0 && j->in_eof && !j->eof_sent &&
	    ssh_channel_is_open(j->ch)) {
		ssh_channel_send_eof(j->ch);
		j->eof_sent = 1;
	}
}

static int
on_stdin(socket_t fd, int revents, void *arg)
{
	struct ssh_job *j = arg;
	ssize_t r;

	(void)revents;
	if (j->in_len > 0 || j->in_eof)
		return 0;
	r = io_read_ready(fd, j->inbuf, SSH_JOB_IO_BUF);
	if (r < 0 && errno == EAGAIN)
		return 0;
	if (r <= 0) {
		/* EOF, or a read error (reported by the caller as EOF
		 * would hide it: keep errno in in_eof as a negative). */
		j->in_eof = r < 0 ? -errno : 1;
		return 0;
	}
	j->in_off = 0;
	j->in_len = (size_t)r;
	return 0;
}

/* Registers stdin with the event only while there is room for it. */
static void
poll_stdin(struct ssh_job *j, ssh_event ev)
{
	int want = j->in_fd >= 0 && !j->in_eof && j->in_len == 0 &&
	    ssh_channel_is_open(j->ch);

	if (want && !j->in_polled) {
		if (ssh_event_add_fd(ev, j->in_fd, POLLIN, on_stdin, j) ==
		    SSH_OK)
			j->in_polled = 1;
	} else if (!want && j->in_polled) {
		ssh_event_remove_fd(ev, j->in_fd);
		j->in_polled = 0;
	}
}

static int
on_wake(socket_t fd, int revents, void *arg)
{
	int *flag = arg;

	(void)fd;
	(void)revents;
	*flag = 1;
	return 0;
}

int
ssh_jobs_run(struct ssh_job **jobs, int n, struct ssh_loop *loop,
    struct rcp_error *e)
{
	ssh_event ev;
	double kill_deadline = 0;
	int i, open, woke = 0, rc = 0;

	if ((ev = ssh_event_new()) == NULL)
		return error_set(e, EXIT_FAIL, "cannot create event loop");
	for (i = 0; i < n; i++) {
		ssh_set_blocking(jobs[i]->conn->s, 0);
		/* Two jobs may share a connection: add it once. */
		if (i == 0 || jobs[i]->conn != jobs[i - 1]->conn)
			ssh_event_add_session(ev, jobs[i]->conn->s);
		if (jobs[i]->in_fd < 0)
			jobs[i]->in_eof = 1;
	}
	if (loop != NULL && loop->wake_fd >= 0)
		ssh_event_add_fd(ev, loop->wake_fd, POLLIN, on_wake, &woke);

	for (;;) {
		if (loop != NULL && loop->stop != NULL && *loop->stop &&
		    kill_deadline == 0) {
			for (i = 0; i < n; i++)
				ssh_job_kill(jobs[i]);
			kill_deadline = clock_now() + SSH_JOB_KILL_GRACE;
			rc = 1;
		}
		if (woke) {
			woke = 0;
			if (loop->wake_fn(loop->wake_arg) != 0) {
				rc = 1;
				break;
			}
		}
		open = 0;
		for (i = 0; i < n; i++) {
			struct ssh_job *j = jobs[i];

			if (j->closed)
				continue;
			drain(j, loop->stop);
			feed(j);
			if (j->in_eof < 0) {
				errno = -j->in_eof;
				error_set_errno(e, EXIT_FAIL, "stdin");
				rc = -1;
				j->in_eof = 1;
				ssh_job_kill(j);
				if (kill_deadline == 0)
					kill_deadline = clock_now() +
					    SSH_JOB_KILL_GRACE;
			}
			poll_stdin(j, ev);
			if (!ssh_is_connected(j->conn->s))
				lose(j, "connection lost");
			if (j->lost || ssh_channel_is_closed(j->ch)) {
				j->closed = 1;
				ssh_job_filter_end(j);
				if (j->in_polled) {
					ssh_event_remove_fd(ev, j->in_fd);
					j->in_polled = 0;
				}
				if (j->on_closed != NULL)
					j->on_closed(j, j->control_arg);
				continue;
			}
			open++;
		}
		if (open == 0)
			break;
		if (kill_deadline != 0 && clock_now() > kill_deadline)
			break;
		/* Signals interrupt the wait; the timeout bounds a race. */
		(void)ssh_event_dopoll(ev, 500);
	}

	for (i = 0; i < n; i++) {
		if (jobs[i]->in_polled)
			ssh_event_remove_fd(ev, jobs[i]->in_fd);
		jobs[i]->in_polled = 0;
		if (i == 0 || jobs[i]->conn != jobs[i - 1]->conn)
			ssh_event_remove_session(ev, jobs[i]->conn->s);
	}
	if (loop != NULL && loop->wake_fd >= 0)
		ssh_event_remove_fd(ev, loop->wake_fd);
	ssh_event_free(ev);
	return rc;
}
