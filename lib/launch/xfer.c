/* xfer.c: quic_transfer in a thread, with a done fd and a cancel fd. */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "io.h"
#include "xfer.h"

int
ssh_xfer_init(struct ssh_xfer *x, struct rcp_error *e)
{
	memset(x, 0, sizeof(*x));
	quic_opts_init(&x->o);
	x->done_pipe[0] = x->done_pipe[1] = -1;
	x->cancel_pipe[0] = x->cancel_pipe[1] = -1;
	x->done_fd = -1;
	if (pipe2(x->done_pipe, O_CLOEXEC) != 0 ||
	    pipe2(x->cancel_pipe, O_CLOEXEC) != 0)
		return error_set_errno(e, EXIT_FAIL, "pipe");
	x->done_fd = x->done_pipe[0];
	x->o.cancel_fd = x->cancel_pipe[0];
	return 0;
}

static void *
run(void *arg)
{
	struct ssh_xfer *x = arg;

	x->rc = quic_transfer(&x->o, &x->st, &x->e);
	(void)io_write_full(x->done_pipe[1], "", 1);
	return NULL;
}

int
ssh_xfer_start(struct ssh_xfer *x, struct rcp_error *e)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&x->thread, NULL, run, x);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		return error_set_errno(e, EXIT_FAIL, "cannot start the "
		    "transfer thread");
	}
	x->started = 1;
	return 0;
}

int
ssh_xfer_running(const struct ssh_xfer *x)
{
	return x->started && !x->reaped;
}

void
ssh_xfer_cancel(struct ssh_xfer *x)
{
	if (!ssh_xfer_running(x) || x->cancelled)
		return;
	x->cancelled = 1;
	(void)io_write_full(x->cancel_pipe[1], "", 1);
}

int
ssh_xfer_cancel_fd(const struct ssh_xfer *x)
{
	return x->cancel_pipe[1];
}

int
ssh_xfer_reap(struct ssh_xfer *x)
{
	struct pollfd p = { x->done_pipe[0], POLLIN, 0 };
	char c;

	if (!ssh_xfer_running(x))
		return x->reaped;
	if (poll(&p, 1, 0) <= 0)
		return 0;
	(void)io_read_some(x->done_pipe[0], &c, 1);
	pthread_join(x->thread, NULL);
	x->reaped = 1;
	return 1;
}

void
ssh_xfer_finish(struct ssh_xfer *x, double secs,
    volatile sig_atomic_t *stop)
{
	double deadline = clock_now() + secs;
	struct pollfd p;
	int ms;

	double cancelled_at = 0;

	while (ssh_xfer_running(x) && !ssh_xfer_reap(x)) {
		if (!x->cancelled && ((stop != NULL && *stop) ||
		    (secs >= 0 && clock_now() >= deadline)))
			ssh_xfer_cancel(x);
		/* Cancelled here or before: the grace period starts now. */
		if (x->cancelled && cancelled_at == 0)
			cancelled_at = clock_now();
		if (x->cancelled &&
		    clock_now() - cancelled_at >= SSH_XFER_CANCEL_GRACE) {
			/*
			 * Still blocked, in a write to a reader that stalled:
			 * leave the thread behind; the process is on its way
			 * out and takes the thread with it.
			 */
			x->abandoned = 1;
			return;
		}
		ms = x->cancelled ? 100 : secs < 0 ? -1 :
		    (int)((deadline - clock_now()) * 1000) + 1;
		p.fd = x->done_pipe[0];
		p.events = POLLIN;
		(void)poll(&p, 1, ms);	/* EINTR: look at stop again */
	}
}

void
ssh_xfer_free(struct ssh_xfer *x)
{
	int i;

	/* An abandoned thread may still use the pipes: exit closes them. */
	if (x->abandoned)
		return;
	for (i = 0; i < 2; i++) {
		if (x->done_pipe[i] >= 0)
			close(x->done_pipe[i]);
		if (x->cancel_pipe[i] >= 0)
			close(x->cancel_pipe[i]);
		x->done_pipe[i] = x->cancel_pipe[i] = -1;
	}
	x->done_fd = -1;
}
