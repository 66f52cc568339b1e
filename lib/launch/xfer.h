/*
 * xfer.h: rcp-launch's own end of a QUIC transfer (--pull, --push),
 * run by quic_transfer in a thread while the main thread relays the SSH
 * channels (SPEC §6).
 *
 * The thread writes one byte to done_fd when quic_transfer has returned;
 * the main loop polls done_fd (ssh_loop.wake_fd) and then reaps the
 * thread.  ssh_xfer_cancel makes quic_transfer give up at once, through
 * quic_opts.cancel_fd.  Signals are blocked in the thread, so SIGINT and
 * SIGTERM always reach the main thread's poll.
 */
#ifndef RCP_LAUNCH_XFER_H
#define RCP_LAUNCH_XFER_H

/*
 * Seconds ssh_xfer_finish waits for a cancelled transfer before leaving
 * its thread behind (blocked writing to a reader that stopped reading).
 */
#define SSH_XFER_CANCEL_GRACE 2.0

#include <pthread.h>
#include <signal.h>

#include "quic.h"
#include "rcp.h"

struct ssh_xfer {
	struct quic_opts o;	/* the caller fills it in before start */
	int done_fd;		/* readable once the transfer has ended */

	/* Results, valid once reaped. */
	int rc;			/* quic_transfer's return */
	struct rcp_error e;
	struct quic_stats st;
	int cancelled;		/* ssh_xfer_cancel was called first */

	/* private */
	pthread_t thread;
	int started, reaped;
	int abandoned;		/* finish gave up on a stuck thread */
	int done_pipe[2], cancel_pipe[2];
};

/* quic_opts_init and the pipes.  Returns 0, or -1 with e (status 1). */
int ssh_xfer_init(struct ssh_xfer *x, struct rcp_error *e);
/* Starts the thread.  Returns 0, or -1 with e. */
int ssh_xfer_start(struct ssh_xfer *x, struct rcp_error *e);
/* True while started and not reaped. */
int ssh_xfer_running(const struct ssh_xfer *x);
/* Asks a running transfer to stop (idempotent; safe in any state). */
void ssh_xfer_cancel(struct ssh_xfer *x);
/*
 * The fd a signal handler may write one byte to for the same effect
 * (write(2) is async-signal-safe; the cancelled flag is not set then).
 */
int ssh_xfer_cancel_fd(const struct ssh_xfer *x);
/*
 * If the thread has said it is done, joins it and returns 1 (the
 * results are then valid); else 0.  Never blocks for long.
 */
int ssh_xfer_reap(struct ssh_xfer *x);
/*
 * Waits up to secs seconds (negative: forever) for the thread to end,
 * cancelling it when stop becomes nonzero or time runs out, then joins
 * it.  Does nothing if it was never started or is reaped already.
 */
void ssh_xfer_finish(struct ssh_xfer *x, double secs,
    volatile sig_atomic_t *stop);
/* Closes the pipes; the thread must be reaped or never started. */
void ssh_xfer_free(struct ssh_xfer *x);

#endif
