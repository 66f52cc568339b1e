/* ssh_config.c: ssh_config(5) keywords looked up as ssh(1) does. */
#include <ctype.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ssh_config.h"
#include "ssh_session.h"

struct lookup {
	const char *host, *hostname, *keyword;
	char *value, *where;
	size_t vsize, wsize;
	int found;
};

int
ssh_config_pattern_match(const char *p, const char *s)
{
	for (; *p != '\0'; p++, s++) {
		if (*p == '*') {
			for (; *s != '\0'; s++)
				if (ssh_config_pattern_match(p + 1, s))
					return 1;
			return ssh_config_pattern_match(p + 1, s);
		}
		if (*s == '\0' || (*p != '?' &&
		    tolower((unsigned char)*p) != tolower((unsigned char)*s)))
			return 0;
	}
	return *s == '\0';
}

/*
 * A pattern list (words split by any of seps): a negated pattern that
 * matches rules host out; else one plain pattern must match.
 */
static int
list_matches(char *list, const char *seps, const char *host)
{
	char *save = NULL, *w;
	int yes = 0;

	for (w = strtok_r(list, seps, &save); w != NULL;
	    w = strtok_r(NULL, seps, &save)) {
		if (*w == '!') {
			if (ssh_config_pattern_match(w + 1, host))
				return 0;
		} else if (ssh_config_pattern_match(w, host)) {
			yes = 1;
		}
	}
	return yes;
}

/*
 * "Match all", "Match host A,B !originalhost C": all must hold.  host is
 * the name after HostName, originalhost the name as typed.  Returns 1
 * (applies), 0 (does not), or 2 (may: a criterion we cannot judge, such
 * as exec or user, and none that rules the block out).
 */
static int
match_applies(const struct lookup *l, char *args)
{
	char *save = NULL, *w, *list;
	int maybe = 0, neg, yes;

	for (w = strtok_r(args, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if ((neg = *w == '!'))
			w++;
		if (strcasecmp(w, "all") == 0) {
			if (neg)
				return 0;
			continue;
		}
		if (strcasecmp(w, "host") != 0 &&
		    strcasecmp(w, "originalhost") != 0) {
			maybe = 1;
			/* Its argument, if it takes one (canonical, final: no). */
			if (strcasecmp(w, "canonical") != 0 &&
			    strcasecmp(w, "final") != 0)
				(void)strtok_r(NULL, " \t", &save);
			continue;
		}
		if ((list = strtok_r(NULL, " \t", &save)) == NULL)
			return 0;
		yes = list_matches(list, ",", strcasecmp(w, "host") == 0 ?
		    l->hostname : l->host);
		if (yes == neg)
			return 0;
	}
	return maybe ? 2 : 1;
}

static void read_file(struct lookup *l, const char *path, const char *base,
    int depth, int applies);

/*
 * Include: each word a glob, relative to base when not absolute; its
 * lines apply as the including block does, until a Host or Match.
 */
static void
include(struct lookup *l, char *args, const char *base, int depth,
    int applies)
{
	char *save = NULL, *w, path[2048];
	glob_t g;
	size_t i;

	for (w = strtok_r(args, " \t", &save); w != NULL && !l->found;
	    w = strtok_r(NULL, " \t", &save)) {
		if (strncmp(w, "~/", 2) == 0)
			snprintf(path, sizeof(path), "%s/%s", ssh_home_dir(),
			    w + 2);
		else if (*w != '/')
			snprintf(path, sizeof(path), "%s/%s", base, w);
		else
			snprintf(path, sizeof(path), "%s", w);
		if (glob(path, 0, NULL, &g) != 0)
			continue;
		for (i = 0; i < g.gl_pathc && !l->found; i++)
			read_file(l, g.gl_pathv[i], base, depth + 1, applies);
		globfree(&g);
	}
}

static void
read_file(struct lookup *l, const char *path, const char *base, int depth,
    int applies)
{
	char line[4096], *kw, *args, *end;
	FILE *f;

	if (depth > SSH_CONFIG_DEPTH || (f = fopen(path, "r")) == NULL)
		return;
	while (!l->found && fgets(line, sizeof(line), f) != NULL) {
		kw = line + strspn(line, " \t");
		args = kw + strcspn(kw, " \t=\r\n");
		end = args + strspn(args, " \t");
		if (*end == '=')
			end++;
		*args = '\0';
		args = end + strspn(end, " \t");
		args[strcspn(args, "\r\n")] = '\0';
		if (*kw == '\0' || *kw == '#')
			continue;
		if (strcasecmp(kw, "Host") == 0) {
			applies = list_matches(args, " \t", l->host);
		} else if (strcasecmp(kw, "Match") == 0) {
			applies = match_applies(l, args);
		} else if (!applies) {
			continue;
		} else if (strcasecmp(kw, "Include") == 0) {
			include(l, args, base, depth, applies);
		} else if (strcasecmp(kw, l->keyword) == 0) {
			char *v = args + (*args == '"');

			v[strcspn(v, " \t\"")] = '\0';
			for (end = v; *end != '\0'; end++)
				*end = (char)tolower((unsigned char)*end);
			snprintf(l->value, l->vsize, "%s", v);
			snprintf(l->where, l->wsize, "%s", path);
			l->found = applies;
		}
	}
	fclose(f);
}

int
ssh_config_lookup(const char *config, const char *host, const char *hostname,
    const char *keyword, char *value, size_t vsize, char *where,
    size_t wsize)
{
	struct lookup l = { host, hostname != NULL ? hostname : host, keyword,
	    value, where, vsize, wsize, 0 };
	char user[2100], dir[2048];

	snprintf(dir, sizeof(dir), "%.2000s/.ssh", ssh_home_dir());
	if (config != NULL) {
		read_file(&l, config, dir, 0, 1);
		return l.found;
	}
	snprintf(user, sizeof(user), "%s/config", dir);
	read_file(&l, user, dir, 0, 1);
	if (!l.found)
		read_file(&l, SSH_CONFIG_SYSTEM, "/etc/ssh", 0, 1);
	return l.found;
}
