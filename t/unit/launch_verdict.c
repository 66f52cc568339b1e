/*
 * launch_verdict.c: rcp-launch's exit-status policy (launch_verdict),
 * first as a table of outcomes with the status and warning each must
 * give, then swept over every combination of remote statuses, transfer
 * outcome and local failure for the rules that hold across them all.
 * Run by t/unit.bats; prints one line per failure and a count.
 *
 * A signal never reaches the policy: launch_quic returns without a
 * verdict and rcp-launch dies of the signal (t/launch*.bats test that).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "launch.h"

static int failures, checks;

static void
check(int ok, const char *what, const char *name, int got)
{
	checks++;
	if (!ok) {
		failures++;
		printf("FAIL %s: %s (status %d)\n", name, what, got);
	}
}

/* A --pull or --push run where everything went well. */
static struct launch_outcome
good(enum launch_mode mode)
{
	struct launch_outcome o;
	int i;

	memset(&o, 0, sizeof(o));
	o.mode = mode;
	o.n = mode == LAUNCH_FROMTO ? 2 : 1;
	for (i = 0; i < o.n; i++) {
		o.side[i].host = i == 0 ? "src" : "dst";
		o.side[i].quic_name = i == 0 && mode != LAUNCH_PUSH ?
		    "rcp-quic-send" : "rcp-quic-recv";
		o.side[i].cmd_status = 0;
		o.side[i].quic_status = 0;
		o.side[i].lost_msg = "src: connection lost";
		o.side[i].ready = i == 0;
		o.side[i].fed = i == 1;
	}
	o.xfer_reaped = mode != LAUNCH_FROMTO;
	o.fail_msg = "";
	return o;
}

struct row {
	const char *name;
	struct launch_outcome o;
	int status;
	const char *warning;	/* a prefix of the one expected, or "" */
};

static void
run_table(void)
{
	struct row rows[64];
	struct launch_verdict v;
	size_t n = 0, i;

#define ROW(nm, st, w) do { rows[n].name = nm; rows[n].status = st; \
	rows[n].warning = w; n++; } while (0)
#define O (rows[n].o)
	O = good(LAUNCH_PULL); ROW("pull, all well", 0, "");
	O = good(LAUNCH_PUSH); ROW("push, all well", 0, "");
	O = good(LAUNCH_FROMTO); ROW("from/to, all well", 0, "");
	O = good(LAUNCH_PULL); O.side[0].cmd_status = 3;
	ROW("the command's status", 3, "");
	O = good(LAUNCH_PULL); O.side[0].cmd_status = 3;
	O.side[0].quic_status = 1; O.have_fail = 1; O.fail_status = 1;
	ROW("the command's status before rcp-quic's and ours", 3, "");
	O = good(LAUNCH_FROMTO); O.side[1].cmd_status = 5;
	O.side[0].cmd_status = 0;
	ROW("from/to: the consumer's status", 5, "");
	O = good(LAUNCH_FROMTO); O.side[0].cmd_status = 2;
	O.side[1].cmd_status = 5;
	ROW("from/to: the producer's status first", 2, "");
	O = good(LAUNCH_PULL); O.side[0].cmd_status = 128 + SIGPIPE;
	O.side[0].quic_status = 4;
	ROW("a SIGPIPE'd command yields to rcp-quic's status", 4, "");
	O = good(LAUNCH_PULL); O.side[0].killed = 1;
	O.side[0].cmd_status = 128 + SIGTERM; O.have_fail = 1;
	O.fail_status = 1; O.fail_msg = "src: peer failed";
	ROW("our kill yields to the failure that caused it", 1,
	    "src: peer failed");
	O = good(LAUNCH_PULL); O.side[0].quic_status = 128 + SIGKILL;
	O.side[0].quic_first = 1; O.side[0].killed = 1;
	O.side[0].cmd_status = 128 + SIGPIPE; O.xfer_rc = -1;
	ROW("the remote sender killed before our kill: its death, said",
	    128 + SIGKILL, "src: the remote rcp-quic-send was killed by "
	    "signal 9 (Killed)");
	O = good(LAUNCH_PULL); O.side[0].quic_status = 128 + SIGKILL;
	O.side[0].killed = 1; O.side[0].cmd_status = 128 + SIGTERM;
	O.have_fail = 1; O.fail_status = 1; O.fail_msg = "src: peer failed";
	ROW("a sender killed by our kill yields to the cause", 1,
	    "src: peer failed");
	O = good(LAUNCH_PULL); O.side[0].cmd_status = 128 + SIGTERM;
	ROW("a command killed by someone else", 128 + SIGTERM,
	    "src: the remote command was killed by signal 15 (Terminated)");
	O = good(LAUNCH_PULL); O.side[0].quic_status = 1; O.xfer_rc = -1;
	O.have_fail = 1; O.output_failed = 1; O.fail_status = 1;
	O.fail_msg = "stdout: write error: No space left on device";
	ROW("our output failed: ours said, not the remote sender's", 1,
	    "stdout: write error: No space left on device");
	O = good(LAUNCH_PULL); O.xfer_rc = -1; O.stdout_broken = 1;
	ROW("pull into a closed stdout", 128 + SIGPIPE, "");
	O = good(LAUNCH_PUSH); O.xfer_rc = -1; O.stdout_broken = 1;
	O.have_fail = 1; O.fail_status = 1; O.fail_msg = "x";
	ROW("push ignores stdout", 1, "x");
	O = good(LAUNCH_PULL); O.side[0].quic_status = 127;
	ROW("remote rcp-quic-send not found", 127,
	    "src: the remote rcp-quic-send could not be run (status 127)");
	O = good(LAUNCH_PUSH); O.side[0].quic_status = 126;
	ROW("remote rcp-quic-recv not runnable", 126,
	    "src: the remote rcp-quic-recv could not be run (status 126)");
	O = good(LAUNCH_PULL); O.side[0].quic_status = 4;
	ROW("rcp-quic's own status", 4, "");
	O = good(LAUNCH_PULL); O.have_fail = 1; O.fail_status = 4;
	O.fail_msg = "src: server certificate fingerprint mismatch";
	ROW("a local failure", 4, "src: server certificate");
	O = good(LAUNCH_PULL); O.side[0].lost = 1;
	ROW("the SSH connection lost", 255, "src: connection lost");
	O = good(LAUNCH_PULL); O.side[0].quic_status = 128 + SIGPIPE;
	ROW("only a SIGPIPE to explain the failure", 128 + SIGPIPE, "");
	O = good(LAUNCH_PULL); O.side[0].cmd_status = -1;
	O.side[0].job_status = 0;
	ROW("no status reported, channel 0", 1,
	    "src: the remote command ended without reporting how "
	    "(exit status 0)");
	O = good(LAUNCH_PULL); O.side[0].quic_status = -1;
	O.side[0].job_status = 9;
	ROW("rcp-quic's status never reported", 9,
	    "src: the remote rcp-quic-send ended without reporting how");
	O = good(LAUNCH_PULL); O.side[0].cmd_status = -1;
	O.side[0].job_status = 255;
	ROW("no status, the channel says 255", 1, "src: the remote command");
	O = good(LAUNCH_FROMTO); O.side[1].cmd_status = -1;
	O.side[1].quic_status = -1; O.side[1].fed = 0;
	O.side[0].ready = 0;
	ROW("from/to: DST never fed, SRC never ready", 1,
	    "src: the remote rcp-quic-send ended without a ready line");
	O = good(LAUNCH_FROMTO); O.side[1].fed = 0;
	ROW("from/to: DST never fed", 1, "dst: never started");
	O = good(LAUNCH_PULL); O.side[0].ready = 0;
	ROW("no ready line", 1, "src: the remote rcp-quic-send ended "
	    "without a ready line");
	O = good(LAUNCH_PULL); O.xfer_reaped = 0;
	ROW("our end never finished", 1, "src: transfer not confirmed");
	O = good(LAUNCH_PUSH); O.xfer_rc = -1; O.xfer_cancelled = 1;
	ROW("our end cancelled after the remote ended well", 1,
	    "src: transfer not confirmed: it did not end after the remote");
#undef O
#undef ROW
	for (i = 0; i < n; i++) {
		launch_verdict(&rows[i].o, &v);
		check(v.status == rows[i].status, "wrong status", rows[i].name,
		    v.status);
		check(strncmp(v.warning, rows[i].warning,
		    strlen(rows[i].warning)) == 0 &&
		    (rows[i].warning[0] != '\0') == (v.warning[0] != '\0'),
		    "wrong warning", rows[i].name, v.status);
		if (strncmp(v.warning, rows[i].warning,
		    strlen(rows[i].warning)) != 0)
			printf("  warning was: \"%s\"\n", v.warning);
	}
}

/* The rules that hold for every outcome. */
static void
sweep(void)
{
	static const int statuses[] = { -1, 0, 1, 3, 4, 126, 127,
	    128 + SIGPIPE, 128 + SIGTERM };
	static const enum launch_mode modes[] = { LAUNCH_PULL, LAUNCH_PUSH,
	    LAUNCH_FROMTO };
	const int ns = sizeof(statuses) / sizeof(statuses[0]);
	struct launch_outcome o;
	struct launch_verdict v;
	int m, c0, q0, c1, x, f, k, all_well;
	char name[128];

	for (m = 0; m < 3; m++)
	for (c0 = 0; c0 < ns; c0++)
	for (q0 = 0; q0 < ns; q0++)
	for (c1 = 0; c1 < (modes[m] == LAUNCH_FROMTO ? ns : 1); c1++)
	for (x = 0; x < 4; x++)		/* ok, failed, cancelled, unreaped */
	for (f = 0; f < 2; f++)		/* a local failure */
	for (k = 0; k < 2; k++) {	/* we killed the jobs */
		o = good(modes[m]);
		o.side[0].cmd_status = statuses[c0];
		o.side[0].quic_status = statuses[q0];
		o.side[0].killed = o.side[1].killed = k;
		o.side[0].job_status = 0;
		if (o.n == 2)
			o.side[1].cmd_status = statuses[c1];
		o.xfer_rc = x == 1 || x == 2 ? -1 : 0;
		o.xfer_cancelled = x == 2;
		o.xfer_reaped = modes[m] != LAUNCH_FROMTO && x != 3;
		o.have_fail = f;
		o.fail_status = 4;
		o.fail_msg = "local";
		snprintf(name, sizeof(name), "sweep mode %d cmd %d quic %d "
		    "dst %d xfer %d fail %d killed %d", m, statuses[c0],
		    statuses[q0], o.n == 2 ? statuses[c1] : 0, x, f, k);
		launch_verdict(&o, &v);

		all_well = o.side[0].cmd_status == 0 &&
		    o.side[0].quic_status == 0 &&
		    (o.n == 1 || o.side[1].cmd_status == 0) &&
		    !f && (modes[m] == LAUNCH_FROMTO || x == 0);
		/* 0 exactly when every part succeeded. */
		check((v.status == 0) == all_well, "0 iff all well", name,
		    v.status);
		/* A user's command that failed on its own is the answer. */
		if (statuses[c0] > 0 && statuses[c0] != 128 + SIGPIPE &&
		    !(k && statuses[c0] == 128 + SIGTERM))
			check(v.status == statuses[c0], "command first", name,
			    v.status);
		/* Never a status outside what a shell can see. */
		check(v.status >= 0 && v.status <= 255, "in 0..255", name,
		    v.status);
		/* A status of our own making always says why. */
		if (v.status == 1 && !f && statuses[c0] != 1 &&
		    statuses[q0] != 1 && (o.n == 1 || statuses[c1] != 1))
			check(v.warning[0] != '\0', "a 1 says why", name,
			    v.status);
	}
}

int
main(void)
{
	run_table();
	sweep();
	printf("%d checks, %d failed\n", checks, failures);
	return failures != 0;
}
