/*
 * launch.h: rcp-launch's engine (SPEC §6): a command on another host
 * over SSH with its stdio relayed (plain mode), or with its data carried
 * over QUIC (--pull, --push, --from/--to).
 *
 * Nothing here prints or exits.  Lines for the user go through
 * launch_opts.say as they happen (a host-key banner, a recorded key, the
 * one warning that explains the exit status); failures that stop a run
 * before it starts come back as an rcp_error.  The caller's SIGINT,
 * SIGTERM and SIGHUP handler sets *stop and writes one byte to
 * *cancel_fd when it is >= 0; the run then ends everything it started
 * and returns, and the caller dies of the signal.
 */
#ifndef RCP_LAUNCH_H
#define RCP_LAUNCH_H

#include <signal.h>

#include "rcp.h"
#include "ssh_session.h"

enum launch_mode { LAUNCH_PLAIN, LAUNCH_PULL, LAUNCH_PUSH, LAUNCH_FROMTO };

enum launch_say {
	LAUNCH_SAY_ERROR,		/* one line: why the run failed */
	LAUNCH_SAY_WARNING,		/* one line a -q run does without */
	LAUNCH_SAY_DEBUG,		/* one -v line: a step of the run */
	LAUNCH_SAY_HOSTKEY_CHANGED,	/* the man-in-the-middle banner */
	LAUNCH_SAY_HOSTKEY_REVOKED,	/* the revoked-key banner */
};

struct launch_opts {
	enum launch_mode mode;
	const char *bin_dir;		/* --remote-bin, or NULL: PATH */
	const char *port_range;		/* --port-range, checked, or NULL */
	unsigned connect_timeout;	/* seconds, 0: the default */
	const char *progress_label;	/* --progress[=NAME], or NULL */
	/* --output FILE, or NULL: --pull, ours; --push, the remote one. */
	const char *output;
	int resume;			/* --resume (with --output) */
	uint64_t limit_rate;		/* bytes/s of the data, 0: none */
	unsigned connections;		/* the sender's --connections, 0: auto */
	int quic_debug, quic_no_gso;	/* quic_opts.debug, .no_gso */
	int verbose;			/* -v: LAUNCH_SAY_DEBUG lines wanted */
	volatile sig_atomic_t *stop;
	volatile sig_atomic_t *cancel_fd;
	void (*say)(enum launch_say kind, const char *text);
};

/*
 * Plain mode: runs command on t, relaying stdin, stdout and stderr, and
 * returns its exit status as ssh(1) would (255 when SSH failed, 128+N
 * for signal N, 141 when our stdout's reader went away).  Returns -1
 * with e when the connection could not be made.
 */
int launch_plain(const struct launch_opts *o, const struct ssh_target *t,
    const char *command, struct rcp_error *e);

/*
 * --pull and --push (src only; dst and cmd_dst NULL) or --from/--to:
 * returns the exit status of SPEC §6 (launch_verdict), or -1 with e when
 * the run could not start (a connection, a ProxyCommand, memory).
 */
int launch_quic(const struct launch_opts *o, const struct ssh_target *src,
    const struct ssh_target *dst, const char *cmd_src, const char *cmd_dst,
    struct rcp_error *e);

/* ---- the exit-status policy, a pure function ------------------------ */

/* How one remote side ended, as launch_quic saw it. */
struct launch_side_outcome {
	const char *host;	/* as the user wrote it */
	const char *quic_name;	/* "rcp-quic-send" or "rcp-quic-recv" */
	int cmd_status;		/* the user's command; -1: never reported */
	int quic_status;	/* the rcp-quic-* program; -1 likewise */
	int killed;		/* we killed its job */
	int quic_first;		/* quic_status came before that kill */
	int lost;		/* its SSH connection failed under it */
	const char *lost_msg;
	int job_status;		/* the channel's own exit status */
	int ready;		/* its listener's ready line came */
	int fed;		/* --to: it was given SRC's address */
};

struct launch_outcome {
	enum launch_mode mode;
	int n;			/* sides: 1, or 2 for --from/--to (SRC, DST) */
	struct launch_side_outcome side[2];
	int stdout_broken;	/* --pull: our stdout's reader is gone */
	int xfer_reaped;	/* our end of the transfer ended ... */
	int xfer_rc;		/* ... with quic_transfer's return */
	int xfer_cancelled;	/* ... because we cancelled it */
	int have_fail;		/* a local failure came first: */
	int output_failed;	/* ... --pull's output (a full disk) */
	int fail_status;
	const char *fail_msg;
};

#define LAUNCH_WARNING_MAX 1024

struct launch_verdict {
	int status;
	char warning[LAUNCH_WARNING_MAX];	/* "" or one line to print */
};

/*
 * SPEC §6: 0 only when every remote command exited 0 and the transfer
 * was confirmed; else the first failing remote status (the user's
 * commands first, then the rcp-quic-* programs), 1 for a transfer
 * failure, 255 for an SSH failure.  Broken pipes and our own kills only
 * count when nothing else explains the failure.
 */
void launch_verdict(const struct launch_outcome *o, struct launch_verdict *v);

#endif
