/* remote.c: remote scripts and control lines of rcp-launch's QUIC modes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

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
 * Listener options: the pin and ranges come from rcp-launch itself (a
 * pin is "sha256:" and hex; ranges were checked), quoted all the same.
 */
static int
listen_opts(FILE *f, const struct ssh_remote_spec *s)
{
	char *q;

	fprintf(f, " --listen 0 --peer-pin %s", s->peer_pin);
	if (s->port_range != NULL) {
		if ((q = ssh_shell_quote(s->port_range, 0)) == NULL)
			return -1;
		fprintf(f, " --port-range %s", q);
		free(q);
	}
	return 0;
}

/* The user's command in its own subshell, then its status report. */
static void
user_half(FILE *f, const char *command)
{
	fprintf(f, "{ (%s\n); printf '" SSH_REMOTE_STATUS "%%s\\n' $? >&2; }",
	    command);
}

char *
ssh_remote_script(const struct ssh_remote_spec *s)
{
	const char *name = s->kind == SSH_REMOTE_PULL ? "rcp-quic-send" :
	    "rcp-quic-recv";
	static const char report[] =
	    "; printf '" SSH_REMOTE_QUIC "%s\\n' $? >&2; }";
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
	switch (s->kind) {
	case SSH_REMOTE_PULL:
		user_half(f, s->command);
		fprintf(f, " | { %s", prog);
		rc = listen_opts(f, s);
		fputs(report, f);
		break;
	case SSH_REMOTE_PUSH:
		fprintf(f, "{ %s", prog);
		rc = listen_opts(f, s);
		fprintf(f, "%s | ", report);
		user_half(f, s->command);
		break;
	case SSH_REMOTE_TO:
		/* The identity stays in the channel: fd 3 is its stdin. */
		fprintf(f, "read -r rcp_to rcp_pin || exit 0\n"
		    "{ %s --connect \"$rcp_to\" --pin \"$rcp_pin\" "
		    "--identity /dev/fd/3", prog);
		if (s->connect_timeout > 0)
			fprintf(f, " --connect-timeout %u", s->connect_timeout);
		if (s->progress)
			fputs(" --progress", f);
		fprintf(f, " 3<&0 </dev/null%s | ", report);
		user_half(f, s->command);
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
