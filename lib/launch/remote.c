/* remote.c: remote scripts and control lines of rcp-launch's QUIC modes. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"
#include "ssh/ssh_job.h"

/* A control line's head in a printf format, and its argument. */
#define CONTROL "RCP_LAUNCH %s "
#define SECRET "\"$" SSH_JOB_SECRET_VAR "\""

char *
ssh_shell_quote(const char *s, int expand_home)
{
	size_t n = 0, i;
	char *q, *p;

	for (i = 0; s[i] != '\0'; i++)
		n += s[i] == '\'' ? 4 : 1;
	if ((q = malloc(n + 3 + sizeof("\"$HOME\"/"))) == NULL)
		return NULL;
	p = q;
	if (expand_home && strncmp(s, "~/", 2) == 0) {
		p += sprintf(p, "\"$HOME\"/");
		s += 2;
	}
	*p++ = '\'';
	for (; *s != '\0'; s++) {
		if (*s == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = *s;
		}
	}
	*p++ = '\'';
	*p = '\0';
	return q;
}

/* "DIR/NAME" quoted, or plain NAME for a PATH lookup. */
static char *
program(const char *dir, const char *name)
{
	char *path, *q;
	size_t n;

	if (dir == NULL)
		return strdup(name);
	n = strlen(dir) + strlen(name) + 2;
	if ((path = malloc(n)) == NULL)
		return NULL;
	snprintf(path, n, "%s%s%s", dir,
	    dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/", name);
	q = ssh_shell_quote(path, 1);
	free(path);
	return q;
}

/*
 * A listener's address and options: the address the SSH connection
 * arrived on (SSH_CONNECTION: client address and port, then ours), so
 * that the listener is not reachable on every interface of the host;
 * every interface when that is unset, odd, or link-local (which needs a
 * scope the variable does not give).
 * The pin and ranges come from rcp-launch itself (a pin is "sha256:"
 * and hex; ranges were checked), quoted all the same.  Its ready line
 * goes to fd 3, a pipe to ready_relay.
 */
static int
listen_opts(FILE *f, const struct ssh_remote_spec *s)
{
	char *q;

	fprintf(f, " --listen \"$rcp_ip\" --peer-pin %s --ready-fd 3",
	    s->peer_pin);
	if (s->port_range != NULL) {
		if ((q = ssh_shell_quote(s->port_range, 0)) == NULL)
			return -1;
		fprintf(f, " --port-range %s", q);
		free(q);
	}
	return 0;
}

/*
 * --push --output FILE [--resume]: the remote receiver writes FILE
 * itself, as rcp-quic-recv -o FILE does ("~/" is the remote home).
 */
static int
output_opts(FILE *f, const struct ssh_remote_spec *s)
{
	char *q;

	if (s->output == NULL)
		return 0;
	if ((q = ssh_shell_quote(s->output, 1)) == NULL)
		return -1;
	fprintf(f, " -o %s%s", q, s->resume ? " --resume" : "");
	free(q);
	return 0;
}

/* Without word splitting, which zsh, a login shell, does not do. */
static const char listen_addr[] =
    "rcp_ip=${SSH_CONNECTION#* * }; rcp_ip=${rcp_ip%% *}\n"
    "case $rcp_ip in ''|*[!0-9a-fA-F.:]*|[fF][eE][89aAbB]?:*) rcp_ip=0 ;;\n"
    "*:*) rcp_ip=\"[$rcp_ip]:0\" ;; *) rcp_ip=\"$rcp_ip:0\" ;; esac\n";

/*
 * The script's own shell says nothing the user would see: its stderr
 * (a pipeline member's death by a signal, "command not found") goes
 * nowhere; fd 5 is the channel's stderr, given to what it runs.  A
 * program that is missing or cannot be run is told by its status
 * alone, 127 or 126, as the shell would give it.
 */
static const char head[] =
    "exec 5>&2 2>/dev/null\n"
    "rcp_x() { case $1 in */*) [ -f \"$1\" ] || return 127; "
    "[ -x \"$1\" ] || return 126 ;; *) command -v \"$1\" >/dev/null || "
    "return 127 ;; esac; \"$@\" 2>&5 5>&-; }\n";

/* Reads the listener's ready line and sends it on as a control line. */
static const char ready_relay[] =
    "{ IFS= read -r rcp_l && printf '" CONTROL "%s\\n' " SECRET
    " \"$rcp_l\" >&5; } >/dev/null";

/*
 * The user's command, then its status report.  As ssh(1) runs it: the
 * login shell's "$SHELL -c COMMAND", here from a quoted word rather than
 * pasted into the script, so that the shell parses it where its stderr
 * is the user's: a syntax error is said as ssh shows it and is its
 * status (2), not the script's; and what that shell says of its own
 * jobs is what it would say under ssh, no more.
 */
static int
user_half(FILE *f, const char *command)
{
	char *q = ssh_shell_quote(command, 0);

	if (q == NULL)
		return -1;
	fprintf(f, "{ (unset %s rcp_ip rcp_to rcp_pin; exec \"${SHELL:-/bin/sh}\" "
	    "-c %s 2>&5 5>&-); ", SSH_JOB_SECRET_VAR, q);
	free(q);
	fputs("printf '" CONTROL SSH_REMOTE_STATUS "%s\\n' " SECRET
	    " $? >&5; }", f);
	return 0;
}

char *
ssh_remote_script(const struct ssh_remote_spec *s)
{
	const char *name = s->kind == SSH_REMOTE_PULL ? "rcp-quic-send" :
	    "rcp-quic-recv";
	/* (rcp_x gives the program the channel's stderr: were the
	 * redirection here, the shell's note on its death would go
	 * there too.) */
	static const char report[] = "; printf '" CONTROL
	    SSH_REMOTE_QUIC "%s\\n' " SECRET " $? >&5; }";
	char *prog, *buf = NULL;
	size_t len;
	FILE *f;
	int rc = 0;

	if ((prog = program(s->bin_dir, name)) == NULL)
		return NULL;
	if ((f = open_memstream(&buf, &len)) == NULL) {
		free(prog);
		return NULL;
	}
	fputs(head, f);
	switch (s->kind) {
	case SSH_REMOTE_PULL:
		/* The program's stdout is unused: its fd 3 takes the pipe. */
		fputs(listen_addr, f);
		rc = user_half(f, s->command);
		fprintf(f, " | { { rcp_x %s", prog);
		rc |= listen_opts(f, s);
		if (s->limit_rate > 0)
			fprintf(f, " --limit-rate %" PRIu64, s->limit_rate);
		/* 0 is auto, the remote program's default too. */
		if (s->connections > 0)
			fprintf(f, " --connections %u", s->connections);
		fputs(" 3>&1 >/dev/null", f);
		fputs(report, f);
		fprintf(f, " | %s; }", ready_relay);
		break;
	case SSH_REMOTE_PUSH:
		/* Its stdout, the data, goes round the relay's pipe on fd 4. */
		fputs(listen_addr, f);
		fprintf(f, "{ { rcp_x %s", prog);
		rc = listen_opts(f, s);
		rc |= output_opts(f, s);
		fputs(" 3>&1 >&4 4>&-", f);
		fputs(report, f);
		fprintf(f, " | %s 4>&-; } 4>&1 | ", ready_relay);
		/* With -o, stdout carries nothing: ":" is the command. */
		rc |= user_half(f, s->output != NULL ? ":" : s->command);
		break;
	case SSH_REMOTE_TO:
		/* The identity stays in the channel: fd 3 is its stdin. */
		fprintf(f, "read -r rcp_to rcp_pin || exit 0\n"
		    "{ rcp_x %s --connect \"$rcp_to\" --pin \"$rcp_pin\" "
		    "--identity /dev/fd/3", prog);
		if (s->connect_timeout > 0)
			fprintf(f, " --connect-timeout %u", s->connect_timeout);
		if (s->progress)
			fputs(" --progress", f);
		fputs(" 3<&0 </dev/null", f);
		fputs(report, f);
		fputs(" | ", f);
		rc = user_half(f, s->command);
		break;
	}
	fputc('\n', f);
	free(prog);
	if (fclose(f) != 0 || rc != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int
ssh_remote_control(const char *line, int *status)
{
	const char *p;
	int kind, v = 0;

	if (strncmp(line, SSH_REMOTE_STATUS, strlen(SSH_REMOTE_STATUS)) == 0) {
		kind = 1;
		p = line + strlen(SSH_REMOTE_STATUS);
	} else if (strncmp(line, SSH_REMOTE_QUIC,
	    strlen(SSH_REMOTE_QUIC)) == 0) {
		kind = 2;
		p = line + strlen(SSH_REMOTE_QUIC);
	} else {
		return 0;
	}
	if (*p == '\0' || strlen(p) > 3)
		return 0;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		v = v * 10 + (*p - '0');
	}
	if (v > 255)
		return 0;
	*status = v;
	return kind;
}
