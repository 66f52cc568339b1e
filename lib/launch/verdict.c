/* verdict.c: the exit status of rcp-launch's QUIC modes (SPEC §6). */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "launch.h"

static int __attribute__((format(printf, 3, 4)))
verdict(struct launch_verdict *v, int status, const char *fmt, ...)
{
	va_list ap;

	v->status = status;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(v->warning, sizeof(v->warning), fmt, ap);
		va_end(ap);
	}
	return status;
}

/* Statuses that follow from another failure rather than cause one. */
static int
consequence(const struct launch_side_outcome *s, int st)
{
	return st == 128 + SIGPIPE || (s->killed &&
	    (st == 128 + SIGTERM || st == 128 + SIGKILL));
}

/* An rcp-quic-* status that is the answer, or 0. */
static int
quic_failure(const struct launch_outcome *o, struct launch_verdict *v)
{
	const struct launch_side_outcome *s;
	int i, st;

	for (i = 0; i < o->n; i++) {
		s = &o->side[i];
		st = s->quic_status;
		if (st <= 0 || (!s->quic_first && consequence(s, st)))
			continue;
		if (st == 126 || st == 127)
			return verdict(v, st, "%s: the remote %s could not be "
			    "run (status %d): put it in the remote PATH or "
			    "give its directory with --remote-bin", s->host,
			    s->quic_name, st);
		if (st > 128 && st < 128 + NSIG)	/* the OOM killer, say */
			return verdict(v, st, "%s: the remote %s was killed "
			    "by signal %d (%s)", s->host, s->quic_name,
			    st - 128, strsignal(st - 128));
		return verdict(v, st, NULL);
	}
	return 0;
}

/* A side whose script never said how it ended, or 0. */
static int
unreported(const struct launch_outcome *o, struct launch_verdict *v)
{
	const struct launch_side_outcome *s;
	int i, st;

	for (i = 0; i < o->n; i++) {
		s = &o->side[i];
		if (o->mode == LAUNCH_FROMTO && i == 1 && !s->fed)
			continue;	/* never ran: SRC says why */
		if (s->cmd_status >= 0 && s->quic_status >= 0)
			continue;
		st = s->job_status;
		if (st == 0 || st == SSH_EXIT_SSH)
			st = EXIT_FAIL;
		return verdict(v, st, "%s: the remote %s ended without "
		    "reporting how (exit status %d); is the login shell a "
		    "POSIX sh?", s->host, s->cmd_status < 0 ? "command" :
		    s->quic_name, s->job_status);
	}
	return 0;
}

void
launch_verdict(const struct launch_outcome *o, struct launch_verdict *v)
{
	const struct launch_side_outcome *s = &o->side[0];
	int i, st, xfer_failed = !o->xfer_reaped || o->xfer_rc != 0;

	v->status = EXIT_OK;
	v->warning[0] = '\0';
	for (i = 0; i < o->n; i++) {
		st = o->side[i].cmd_status;
		if (st > 128 && st < 128 + NSIG &&
		    !consequence(&o->side[i], st)) {
			/* Its shell's own words about it are not shown. */
			verdict(v, st, "%s: the remote command was killed by "
			    "signal %d (%s)", o->side[i].host, st - 128,
			    strsignal(st - 128));
			return;
		}
		if (st > 0 && !consequence(&o->side[i], st)) {
			verdict(v, st, NULL);
			return;
		}
	}
	/* As in plain mode, a closed stdout is a SIGPIPE, not an error. */
	if (o->mode == LAUNCH_PULL && xfer_failed && o->stdout_broken) {
		verdict(v, 128 + SIGPIPE, NULL);
		return;
	}
	/* The remote sender fails only because our output did. */
	if (o->have_fail && o->output_failed) {
		verdict(v, o->fail_status, "%s", o->fail_msg);
		return;
	}
	if (quic_failure(o, v) != 0)
		return;
	if (o->have_fail) {
		verdict(v, o->fail_status, "%s", o->fail_msg);
		return;
	}
	for (i = 0; i < o->n; i++) {
		if (o->side[i].lost) {
			verdict(v, SSH_EXIT_SSH, "%s", o->side[i].lost_msg);
			return;
		}
	}
	for (i = 0; i < o->n; i++) {
		if (o->side[i].cmd_status > 0 || o->side[i].quic_status > 0) {
			verdict(v, 128 + SIGPIPE, NULL);
			return;
		}
	}
	if (unreported(o, v) != 0)
		return;
	if (!s->ready)
		verdict(v, EXIT_FAIL, "%s: the remote %s ended without a "
		    "ready line", s->host, s->quic_name);
	else if (o->mode == LAUNCH_FROMTO && !o->side[1].fed)
		verdict(v, EXIT_FAIL, "%s: never started", o->side[1].host);
	else if (o->mode != LAUNCH_FROMTO && xfer_failed)
		verdict(v, EXIT_FAIL, "%s: transfer not confirmed%s", s->host,
		    o->xfer_cancelled ? ": it did not end after the remote "
		    "side had" : "");
}
