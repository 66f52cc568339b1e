/*
 * ssh_config.c: the ssh_config(5) lookup rcp-launch applies to
 * StrictHostKeyChecking and HashKnownHosts (lib/ssh/ssh_config.c): the
 * patterns, then lookups in configuration files written to a scratch
 * directory given as the only argument (it becomes HOME).  Run by
 * t/unit.bats; prints one line per failure and a count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ssh/ssh_config.h"

static int failures, checks;

static void
pattern(const char *p, const char *s, int want)
{
	checks++;
	if (ssh_config_pattern_match(p, s) != want) {
		failures++;
		printf("FAIL pattern %s against %s: want %d\n", p, s, want);
	}
}

static void
file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/*
 * want NULL: the keyword must not be found; code: 1 (found), 2 (found
 * in a Match block that may not apply).  hostname: after HostName.
 */
static void
lookup_as(const char *config, const char *host, const char *hostname,
    const char *kw, const char *want, const char *want_where, int code)
{
	char v[64], where[1024];
	int found = ssh_config_lookup(config, host, hostname, kw, v,
	    sizeof(v), where, sizeof(where));

	checks++;
	if (want == NULL ? found != 0 : found != code ||
	    strcmp(v, want) != 0 ||
	    (want_where != NULL && strcmp(where, want_where) != 0)) {
		failures++;
		printf("FAIL %s for %s in %s: got %d %s (%s), want %d %s "
		    "(%s)\n", kw, host, config != NULL ? config :
		    "~/.ssh/config", found, found ? v : "nothing",
		    found ? where : "-", want != NULL ? code : 0,
		    want != NULL ? want : "nothing",
		    want_where != NULL ? want_where : "-");
	}
}

static void
lookup(const char *config, const char *host, const char *kw,
    const char *want, const char *want_where)
{
	lookup_as(config, host, NULL, kw, want, want_where, 1);
}

int
main(int argc, char **argv)
{
	char p[4][1200];
	const char *d;

	if (argc != 2)
		return 2;
	d = argv[1];
	pattern("*", "db1", 1);
	pattern("db?", "db1", 1);
	pattern("db?", "db12", 0);
	pattern("DB*.example.com", "db7.EXAMPLE.com", 1);
	pattern("*.example.com", "example.com", 0);
	pattern("10.0.*", "10.0.3.4", 1);
	pattern("", "x", 0);
	pattern("a*b*c", "axxbyyc", 1);
	pattern("a*b*c", "axxbyy", 0);

	setenv("HOME", d, 1);
	snprintf(p[0], sizeof(p[0]), "%s/.ssh", d);
	mkdir(p[0], 0700);
	snprintf(p[0], sizeof(p[0]), "%s/.ssh/config", d);
	snprintf(p[1], sizeof(p[1]), "%s/.ssh/inc.d", d);
	mkdir(p[1], 0700);
	snprintf(p[1], sizeof(p[1]), "%.1100s/.ssh/inc.d/a.conf", d);
	snprintf(p[2], sizeof(p[2]), "%s/cfg", d);
	file(p[0],
	    "# a comment\n"
	    "Host db1 db2\n"
	    "    StrictHostKeyChecking=accept-new\n"
	    "Host *.example.com !secret.example.com\n"
	    "    StrictHostKeyChecking \"No\"\n"
	    "Match host web*,!web9 user root\n"
	    "    HashKnownHosts yes\n"
	    "Match originalhost web*,!web9\n"
	    "    HashKnownHosts no\n"
	    "Host *\n"
	    "    Include inc.d/*.conf\n"
	    "    StrictHostKeyChecking yes\n");
	file(p[1], "HashKnownHosts yes\nStrictHostKeyChecking off\n");
	/* The first value obtained wins; Host blocks pick it. */
	lookup(NULL, "db1", "StrictHostKeyChecking", "accept-new", p[0]);
	lookup(NULL, "a.example.com", "StrictHostKeyChecking", "no", p[0]);
	/* Negated: the next block that applies, here through Include. */
	lookup(NULL, "secret.example.com", "stricthostkeychecking", "off",
	    p[1]);
	/* Match with a criterion we cannot judge (user) may apply. */
	lookup_as(NULL, "web1", NULL, "HashKnownHosts", "yes", p[0], 2);
	lookup(NULL, "web9", "HashKnownHosts", "yes", p[1]);
	/* Match host is the name after HostName; originalhost as typed. */
	lookup(NULL, "alias", "HashKnownHosts", "yes", p[1]);
	lookup_as(NULL, "alias", "web2", "HashKnownHosts", "yes", p[0], 2);
	lookup_as(NULL, "web2", "alias", "HashKnownHosts", "no", p[0], 1);
	lookup(NULL, "other", "HashKnownHosts", "yes", p[1]);
	lookup(NULL, "other", "UserKnownHostsFile", NULL, NULL);
	/* Negated criteria; an unknown one in a block ruled out is moot. */
	file(p[2], "Match !host db* exec true\n  StrictHostKeyChecking no\n"
	    "Match !originalhost x* !all\n  StrictHostKeyChecking no\n"
	    "Host *\n  StrictHostKeyChecking accept-new\n");
	lookup_as(p[2], "web1", NULL, "StrictHostKeyChecking", "no", p[2], 2);
	lookup(p[2], "db1", "StrictHostKeyChecking", "accept-new", p[2]);
	/* Include inside a block that may apply: its lines may too. */
	snprintf(p[3], sizeof(p[3]), "Match user x\n  Include %.1100s\n",
	    p[1]);
	file(p[2], p[3]);
	lookup_as(p[2], "h", NULL, "HashKnownHosts", "yes", p[1], 2);
	/* -F: that file only, not ~/.ssh/config. */
	file(p[2], "Host x\n  HashKnownHosts yes\n");
	lookup(p[2], "db1", "StrictHostKeyChecking", NULL, NULL);
	lookup(p[2], "x", "HashKnownHosts", "yes", p[2]);
	/* An Include of itself ends at the depth limit. */
	file(p[2], "Include cfg\nHost *\n  HashKnownHosts no\n");
	snprintf(p[3], sizeof(p[3]), "Include %.1100s\nHost *\n  HashKnownHosts "
	    "no\n", p[2]);
	file(p[2], p[3]);
	lookup(p[2], "y", "HashKnownHosts", "no", p[2]);
	printf("%d checks, %d failed\n", checks, failures);
	return failures != 0;
}
