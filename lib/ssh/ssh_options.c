/*
 * ssh_options.c: ssh(1)'s -o, read as ssh reads it and applied through
 * libssh's own configuration parser, so that every keyword libssh knows
 * works as it would in a config file.
 */
#define _GNU_SOURCE	/* memfd_create */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>
#include <libssh/callbacks.h>

#include "parse.h"
#include "ssh_session.h"

/* Keywords ssh refuses on its command line; libssh would obey them. */
static const char *const not_cli[] = { "host", "match", "include" };

/* Keywords rcp-launch reads itself (ssh_config_cli), not libssh. */
static const char *const ours[] = {
	"stricthostkeychecking", "hashknownhosts", "batchmode",
};

/* What libssh's parser said about the line under test. */
static struct {
	int unknown, ignored;
	char warning[256];
} probe;

/*
 * libssh's parser reports a keyword it does not know, or knows but does
 * not apply, only in its log.  Should its wording ever change, the
 * option is taken as known: applied by libssh as it sees fit.
 */
static void
probe_log(int prio, const char *fn, const char *buf, void *arg)
{
	const char *p;

	(void)fn;
	(void)arg;
	if (strstr(buf, "Unknown option") != NULL)
		probe.unknown = 1;
	else if (strstr(buf, "Unsupported option") != NULL ||
	    strstr(buf, "Unapplicable option") != NULL)
		probe.ignored = 1;
	else if (prio == SSH_LOG_WARN && probe.warning[0] == '\0') {
		/* "function: what is wrong": the function is libssh's. */
		p = strstr(buf, ": ");
		snprintf(probe.warning, sizeof(probe.warning), "%s",
		    p != NULL ? p + 2 : buf);
	}
}

/* The lines, as a config file libssh can open by name. */
static int
config_fd(const char *text, char *path, size_t psize)
{
	int fd = memfd_create("rcp-launch-o", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return -1;
	}
	snprintf(path, psize, "/proc/self/fd/%d", fd);
	return fd;
}

static int
ssh_options_apply_text(ssh_session s, const char *text, struct rcp_error *e)
{
	char path[64];
	int fd, rc;

	if (text[0] == '\0')
		return 0;
	if ((fd = config_fd(text, path, sizeof(path))) < 0)
		return error_set_errno(e, SSH_EXIT_SSH, "-o");
	rc = ssh_options_parse_config(s, path);
	close(fd);
	if (rc < 0)
		return error_set(e, SSH_EXIT_SSH, "-o: %s", ssh_get_error(s));
	return 0;
}

/*
 * Algorithm lists: libssh 0.11's parser takes a list it cannot use
 * without a word (0.10 warns), and the connection then goes ahead with
 * the defaults, which is not what ssh does ("Bad SSH2 cipher spec").
 * Setting the list directly fails the same on both.
 */
static const struct {
	const char *kw;
	enum ssh_options_e opt;
} algo_lists[] = {
	{ "ciphers", SSH_OPTIONS_CIPHERS_C_S },
	{ "kexalgorithms", SSH_OPTIONS_KEY_EXCHANGE },
	{ "hostkeyalgorithms", SSH_OPTIONS_HOSTKEYS },
	{ "macs", SSH_OPTIONS_HMAC_C_S },
};

/* 0, or -1 when kw is an algorithm list libssh cannot use (e). */
static int
probe_algorithms(const char *arg, const char *kw, const char *v,
    struct rcp_error *e)
{
	size_t i;
	ssh_session s;
	int rc = 0;

	for (i = 0; i < sizeof(algo_lists) / sizeof(algo_lists[0]); i++) {
		if (strcmp(kw, algo_lists[i].kw) != 0)
			continue;
		if ((s = ssh_new()) == NULL)
			return error_set(e, SSH_EXIT_SSH, "cannot create SSH "
			    "session");
		if (ssh_options_set(s, algo_lists[i].opt, v) < 0)
			rc = error_set(e, SSH_EXIT_SSH, "-o '%s': bad value: "
			    "%s", arg, ssh_get_error(s));
		ssh_free(s);
		break;
	}
	return rc;
}

/* Runs line through libssh's parser on a scratch session. */
static int
probe_line(const char *line, struct rcp_error *e)
{
	ssh_logging_callback old_cb = ssh_get_log_callback();
	void *old_data = ssh_get_log_userdata();
	int old_level = ssh_get_log_level(), no = 0, rc;
	ssh_session s;

	memset(&probe, 0, sizeof(probe));
	if ((s = ssh_new()) == NULL)
		return error_set(e, SSH_EXIT_SSH, "cannot create SSH session");
	(void)ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
	(void)ssh_options_set(s, SSH_OPTIONS_HOST, "probe");
	ssh_set_log_callback(probe_log);
	ssh_set_log_level(SSH_LOG_TRACE);
	rc = ssh_options_apply_text(s, line, e);
	ssh_set_log_level(old_level);
	ssh_set_log_callback(old_cb);
	ssh_set_log_userdata(old_data);
	ssh_free(s);
	return rc;
}

static int
in_list(const char *kw, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(kw, list[i]) == 0)
			return 1;
	return 0;
}

/* The values ssh accepts for the keywords we read ourselves. */
static int
value_ok(const char *kw, const char *v)
{
	static const char *const yesno[] = { "yes", "no", "true", "false" };
	static const char *const strict[] = { "yes", "no", "true", "false",
	    "ask", "accept-new", "off" };
	uint64_t n;

	if (strcmp(kw, "stricthostkeychecking") == 0)
		return in_list(v, strict, sizeof(strict) / sizeof(strict[0]));
	if (strcmp(kw, "hashknownhosts") == 0 || strcmp(kw, "batchmode") == 0)
		return in_list(v, yesno, sizeof(yesno) / sizeof(yesno[0]));
	if (strcmp(kw, "port") == 0)
		return parse_uint(v, 1, 65535, &n) == 0;
	if (strcmp(kw, "connecttimeout") == 0)
		return strcasecmp(v, "none") == 0 ||
		    parse_uint(v, 0, 86400, &n) == 0;
	return 1;
}

int
ssh_option_split(const char *arg, char *kw, size_t ksize, const char **value)
{
	size_t n = strcspn(arg, " \t=");
	const char *v = arg + n;

	v += strspn(v, " \t");
	if (*v == '=')
		v++;
	v += strspn(v, " \t");
	if (n == 0 || n >= ksize)
		return -1;
	memcpy(kw, arg, n);
	kw[n] = '\0';
	for (n = 0; kw[n] != '\0'; n++)
		kw[n] = (char)tolower((unsigned char)kw[n]);
	*value = v;
	return 0;
}

int
ssh_option_check(const char *arg, char *kw, size_t ksize,
    struct rcp_error *e)
{
	const char *v, *p;
	char *line;
	int rc;

	/*
	 * One option, one line: a newline would smuggle in a second line
	 * (Match exec, Host, Include) past the checks below, as ssh -G
	 * refuses it.  No control character has a use in a value.
	 */
	for (p = arg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return error_set(e, SSH_EXIT_SSH, "-o: a control "
			    "character (0x%02x) in an option", *p);
		else if ((unsigned char)*p == 0x7f)
			return error_set(e, SSH_EXIT_SSH, "-o: a control "
			    "character (0x7f) in an option");
	if (ssh_option_split(arg, kw, ksize, &v) != 0)
		return error_set(e, SSH_EXIT_SSH, "-o '%s': no keyword", arg);
	if (*v == '\0')
		return error_set(e, SSH_EXIT_SSH, "-o '%s': no value after "
		    "the keyword", arg);
	if (in_list(kw, not_cli, sizeof(not_cli) / sizeof(not_cli[0])))
		return error_set(e, SSH_EXIT_SSH, "-o '%s': not supported "
		    "on the command line (as in ssh)", arg);
	if (!value_ok(kw, v))
		return error_set(e, SSH_EXIT_SSH, "-o '%s': bad value '%s'",
		    arg, v);
	if (in_list(kw, ours, sizeof(ours) / sizeof(ours[0])))
		return 0;
	if (asprintf(&line, "%s %s\n", kw, v) < 0)
		return error_set(e, SSH_EXIT_SSH, "out of memory");
	rc = probe_line(line, e);
	free(line);
	if (rc != 0)
		return -1;
	if (probe.unknown)
		return error_set(e, SSH_EXIT_SSH, "-o '%s': unknown option "
		    "'%s'", arg, kw);
	if (probe.warning[0] != '\0')
		return error_set(e, SSH_EXIT_SSH, "-o '%s': bad value: %s",
		    arg, probe.warning);
	if (probe_algorithms(arg, kw, v, e) != 0)
		return -1;
	if (probe.ignored) {
		error_set(e, 0, "warning: -o '%s': libssh does not support "
		    "%s: ignored", arg, kw);
		return 1;
	}
	return 0;
}

int
ssh_option_lookup(const struct ssh_target *t, const char *keyword,
    char *value, size_t vsize)
{
	char kw[64];
	const char *v;
	int i;

	for (i = 0; i < t->noptions; i++) {
		if (ssh_option_split(t->options[i], kw, sizeof(kw), &v) != 0 ||
		    strcasecmp(kw, keyword) != 0)
			continue;
		snprintf(value, vsize, "%.*s", (int)strcspn(v, " \t"), v);
		for (; *value != '\0'; value++)
			*value = (char)tolower((unsigned char)*value);
		return 1;
	}
	return 0;
}

int
ssh_options_apply(ssh_session s, const struct ssh_target *t,
    struct rcp_error *e)
{
	char kw[64], *text = NULL;
	const char *v;
	size_t len = 0;
	FILE *f;
	int i, rc;

	if (t->noptions == 0)
		return 0;
	if ((f = open_memstream(&text, &len)) == NULL)
		return error_set_errno(e, SSH_EXIT_SSH, "-o");
	/* In their order: libssh keeps the first value, as ssh does. */
	for (i = 0; i < t->noptions; i++)
		if (ssh_option_split(t->options[i], kw, sizeof(kw), &v) == 0 &&
		    !in_list(kw, ours, sizeof(ours) / sizeof(ours[0])))
			fprintf(f, "%s %s\n", kw, v);
	if (fclose(f) != 0) {
		free(text);
		return error_set_errno(e, SSH_EXIT_SSH, "-o");
	}
	rc = ssh_options_apply_text(s, text, e);
	free(text);
	return rc;
}
