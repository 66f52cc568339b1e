/*
 * ssh_job.h: one remote command on an SSH connection, its stdio relayed,
 * and a watchdog that kills it when we go away (SPEC §6).
 *
 * Every job runs on two session channels of the same connection:
 *
 *   watchdog  opened first: a shell that makes a private directory
 *             named by a per-job random token, then reads one line from
 *             its stdin.  "done" means the job ended normally; anything
 *             else, or EOF (our process died, the connection dropped and
 *             sshd closed the channel), makes it send SIGTERM to the
 *             command's group, then SIGKILL a second later;
 *   main      the command, wrapped so that its login shell (sshd makes
 *             it a session and group leader) records its group in that
 *             directory before it runs anything, and runs nothing once
 *             the watchdog has stopped watching.
 *
 * OpenSSH's sshd neither kills a non-pty command when its channel closes
 * nor (before 9.x for every request) honours "signal" requests, so the
 * watchdog is what keeps SPEC §6's promise: every remote process gone
 * within 5 seconds after SIGINT, SIGTERM or a dropped connection.
 *
 * A job that expects control lines (controls_pending > 0) gets a
 * per-job secret from the CSPRNG, sent as the first line of the main
 * channel's stdin, never in the command line (which other users of the
 * remote host can read in ps): the wrapper reads it into the shell
 * variable SSH_JOB_SECRET_VAR, unexported, before body runs.  Control
 * lines travel on the channel's stderr as "RCP_LAUNCH SECRET TEXT"; they
 * are consumed, never relayed, and on_control gets TEXT.  Nothing the
 * user's commands print can pass for one: they never see the secret.
 * Every other byte of stderr is relayed as it came, prefixed with
 * err_prefix at each line start when that is set.
 */
#ifndef RCP_SSH_JOB_H
#define RCP_SSH_JOB_H

#include <signal.h>
#include <stddef.h>
#include <libssh/libssh.h>
#include <libssh/callbacks.h>

#include "rcp.h"
#include "ssh_session.h"

#define SSH_JOB_IO_BUF (256 * 1024)	/* stdin chunk, stdout batch */
#define SSH_JOB_LINE_MAX 4096		/* longest stderr line held back */
/* Longest control line: its head (marker, secret, space) and TEXT. */
#define SSH_JOB_CONTROL_MAX 512
#define SSH_JOB_MARKER "RCP_LAUNCH "
#define SSH_JOB_SECRET_VAR "rcp_k"	/* the remote shell's name for it */
#define SSH_JOB_KILL_GRACE 4.0		/* seconds we wait after killing */
#define SSH_JOB_GUARD_WAIT 5		/* seconds the command waits for it */

struct ssh_job;

/* Called for each control line's TEXT (newline stripped). */
typedef void (*ssh_job_control_fn)(struct ssh_job *j, const char *line,
    void *arg);

struct ssh_job {
	struct ssh_conn *conn;
	ssh_channel ch;
	ssh_channel watch;
	struct ssh_channel_callbacks_struct cb;

	int in_fd;		/* -1: the remote stdin gets EOF at once */
	int out_fd;		/* where the remote stdout goes */
	int err_fd;		/* where the remote stderr goes */
	const char *err_prefix;	/* "HOST: " or NULL */
	/* >= 0: once this fd's reader is gone, stderr is no longer relayed
	 * (what the remote side says then is about that, and moot). */
	int mute_fd;
	int controls_pending;	/* control lines still expected on stderr */
	ssh_job_control_fn on_control;
	void *control_arg;
	/* Called once when the main channel has closed (or was lost),
	 * after the last control line; gets control_arg.  Or NULL. */
	void (*on_closed)(struct ssh_job *j, void *arg);

	/* stdin -> channel */
	unsigned char *inbuf;
	size_t in_off, in_len;
	int in_eof, in_polled, eof_sent;
	/* channel -> stdout, stderr */
	unsigned char *outbuf;
	int out_broken;		/* local stdout refused (EPIPE) */
	char line[SSH_JOB_LINE_MAX];
	size_t line_len;
	int at_line_start;

	char token[33];		/* names the remote rendezvous directory */
	char secret[33];	/* marks control lines; "" without any */
	int killed;

	/* how it ended */
	int closed;
	int have_status, exit_status;
	char exit_signal[32];	/* "TERM" etc., empty if none */
	int lost;		/* connection failed under it */
	char lost_msg[512];
};

/*
 * Opens the watchdog and main channels on c and runs body (a shell
 * script) on the main one, behind the guard described above.  The job's
 * fds and control settings must be filled in by the caller beforehand
 * (ssh_job_init gives plain-mode defaults).  Returns 0, or -1 with
 * SSH_EXIT_SSH.
 */
void ssh_job_init(struct ssh_job *j, struct ssh_conn *c);
int ssh_job_start(struct ssh_job *j, const char *body,
    struct rcp_error *e);

/*
 * Hooks for ssh_jobs_run: stop is polled after every wake-up (a signal
 * handler sets it; the wait is interrupted by signals); wake_fd, when
 * >= 0, is polled too and wake_fn called when it is readable (a thread
 * reporting).  wake_fn returns nonzero to make the loop return early.
 */
struct ssh_loop {
	volatile sig_atomic_t *stop;
	int wake_fd;
	int (*wake_fn)(void *arg);
	void *wake_arg;
};

/*
 * Runs the jobs until every main channel has closed, relaying stdio.
 * When *stop becomes nonzero the jobs are killed through their
 * watchdogs and the loop waits up to SSH_JOB_KILL_GRACE seconds for
 * their channels to close.  Returns 0 when every job ended (check each
 * job's have_status / exit_signal / lost), 1 when stopped or returned
 * early by wake_fn, -1 with e on a local error (out of memory, stdin
 * read error).
 */
int ssh_jobs_run(struct ssh_job **jobs, int n, struct ssh_loop *loop,
    struct rcp_error *e);

/* Asks the watchdog to kill the job's process group now. */
void ssh_job_kill(struct ssh_job *j);

/*
 * The job's exit status as ssh(1) would give it: the remote status,
 * 128+N for signal N, SSH_EXIT_SSH when the connection was lost or no
 * status arrived.
 */
int ssh_job_status(const struct ssh_job *j);

/*
 * The remote stderr filter, exposed for its fuzz target: takes the next
 * n bytes of the channel's stderr, relays them to err_fd and hands
 * control lines to on_control; ssh_job_filter_end takes the end of the
 * stream (a last line without a newline).
 */
void ssh_job_filter_err(struct ssh_job *j, const char *p, size_t n);
void ssh_job_filter_end(struct ssh_job *j);

/* Closes the channels (telling the watchdog "done") and frees buffers. */
void ssh_job_free(struct ssh_job *j);

#endif
