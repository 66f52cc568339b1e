/*
 * atomic_out.c: publish a file whole or not at all.
 *
 * One temporary file per process may be pending at a time: that is all a
 * filter needs, and it lets the signal handler find the path without
 * locking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_out.h"
#include "atomic_out_int.h"
#include "sig.h"

static char *volatile pending_tmp;

static void
atomic_out_on_signal(int sig)
{
	char *p = pending_tmp;

	if (p != NULL)
		unlink(p);
	/* Die of the same signal, so the parent sees what happened. */
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * The name of a temporary file for path: ".BASE.XXXXXX" in its directory,
 * the X's left for mkostemp or replaced by the caller.  NULL on ENOMEM.
 */
static char *
atomic_out_tmp_name(const char *path)
{
	char *copy1, *copy2, *tmp = NULL;
	size_t len;

	copy1 = strdup(path);
	copy2 = strdup(path);
	if (copy1 != NULL && copy2 != NULL) {
		const char *dir = dirname(copy1), *base = basename(copy2);

		len = strlen(dir) + strlen(base) + 16;
		if ((tmp = malloc(len)) != NULL)
			snprintf(tmp, len, "%s/.%s.XXXXXX", dir, base);
	}
	free(copy1);
	free(copy2);
	return tmp;
}

#define LINKS_MAX 40	/* as the kernel's ELOOP limit */

/*
 * The file a path names once its symbolic links are followed (the last
 * component's; a link to a link is followed too), existing or not: a
 * dangling link names the file to create, as `cp` creates it.  Returns
 * a new string, or NULL with errno (ELOOP, ENOMEM, readlink's).
 */
static char *
follow_links(const char *path)
{
	char *p = strdup(path), *dir, *q, target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int i;

	for (i = 0; p != NULL && i < LINKS_MAX; i++) {
		if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode))
			return p;
		if ((n = readlink(p, target, sizeof(target) - 1)) < 0) {
			free(p);
			return NULL;
		}
		target[n] = '\0';
		if (target[0] == '/') {
			q = strdup(target);
		} else if ((dir = strdup(p)) != NULL) {
			if (asprintf(&q, "%s/%s", dirname(dir), target) < 0)
				q = NULL;
			free(dir);
		} else {
			q = NULL;
		}
		free(p);
		p = q;
	}
	if (p != NULL) {
		free(p);
		errno = ELOOP;
	}
	return NULL;
}

/* A device, FIFO or socket: opened and written as `> PATH` does. */
static int
atomic_out_open_direct(struct atomic_out *ao, struct rcp_error *e)
{
	ao->fd = open(ao->path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (ao->fd < 0) {
		error_set_errno(e, EXIT_FAIL, "%s", ao->path);
		free(ao->path);
		ao->path = NULL;
		return -1;
	}
	ao->direct = 1;
	return 0;
}

/*
 * The temporary file is unnamed where the file system allows it
 * (O_TMPFILE): then even SIGKILL, or a crash, leaves nothing behind, and
 * it gets a name only at commit, just before the rename.  Elsewhere it
 * is a named ".BASE.XXXXXX" from the start, removed on failure and on
 * the signals that can be caught.
 */
int
atomic_out_open(struct atomic_out *ao, const char *path, struct rcp_error *e)
{
	return atomic_out_open_flags(ao, path, 0, e);
}

int
atomic_out_target(struct atomic_out *ao, const char *path, mode_t *kind,
    struct rcp_error *e)
{
	struct stat st;
	mode_t mask;

	memset(ao, 0, sizeof(*ao));
	ao->fd = -1;
	ao->source_size = ATOMIC_OUT_SIZE_UNKNOWN;
	/* "" would name "./.rcp-partial" or a temporary file of nothing. */
	if (path[0] == '\0')
		return error_set(e, EXIT_USAGE, "empty output file name");
	if ((ao->path = follow_links(path)) == NULL)
		return error_set_errno(e, EXIT_FAIL, "%s", path);
	if (stat(ao->path, &st) != 0) {
		mask = umask(0);
		umask(mask);
		ao->mode = 0666 & ~mask;
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		error_set(e, EXIT_USAGE, "%s: is a directory", ao->path);
		free(ao->path);
		ao->path = NULL;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		*kind = st.st_mode;
		return 1;
	}
	ao->mode = st.st_mode & 07777;
	ao->keep_owner = 1;
	ao->uid = st.st_uid;
	ao->gid = st.st_gid;
	return 0;
}

int
atomic_out_open_flags(struct atomic_out *ao, const char *path, int flags,
    struct rcp_error *e)
{
	char *copy = NULL, *tmp = NULL;
	mode_t kind;

	switch (atomic_out_target(ao, path, &kind, e)) {
	case -1:
		return -1;
	case 1:
		return atomic_out_open_direct(ao, e);
	}
	path = ao->path;
	if ((copy = strdup(path)) == NULL)
		goto nomem;
	if (!(flags & ATOMIC_OUT_OWN_SIGNALS))
		sig_catch_stops(atomic_out_on_signal);
	ao->fd = open(dirname(copy), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	free(copy);
	if (ao->fd >= 0)
		return 0;
	/* No O_TMPFILE here (or no such directory: mkostemp says so). */
	if ((tmp = atomic_out_tmp_name(path)) == NULL)
		goto nomem;
	ao->fd = mkostemp(tmp, O_CLOEXEC);
	if (ao->fd < 0) {
		copy = strdup(path);
		error_set_errno(e, EXIT_FAIL, "%s: cannot create temporary "
		    "file in %s", path, copy != NULL ? dirname(copy) : "?");
		free(copy);
		free(tmp);
		free(ao->path);
		ao->path = NULL;
		return -1;
	}
	ao->tmp_path = tmp;
	pending_tmp = tmp;
	return 0;
nomem:
	free(ao->path);
	ao->path = NULL;
	return error_set_errno(e, EXIT_FAIL, "%s", path);
}

int
atomic_out_link_fresh(int fd, const char *path, char **out)
{
	char proc[64], *name;
	size_t len;
	unsigned attempt;
	int rc = -1;

	if ((name = atomic_out_tmp_name(path)) == NULL)
		return -1;
	len = strlen(name);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	for (attempt = 0; attempt < 100; attempt++) {
		unsigned v = ((unsigned)getpid() * 2654435761u + attempt *
		    40503u) & 0xffffffu;

		snprintf(name + len - 6, 7, "%06x", v);
		rc = linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW);
		/* Without /proc, AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH). */
		if (rc != 0 && errno == ENOENT)
			rc = linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH);
		if (rc == 0 || errno != EEXIST)
			break;
	}
	if (rc != 0) {
		free(name);
		return -1;
	}
	*out = name;
	return 0;
}

/*
 * Gives the unnamed temporary file a fresh ".BASE.XXXXXX" name beside
 * the target.  Returns 0, or -1 with errno set.
 */
static int
atomic_out_link(struct atomic_out *ao)
{
	char *name;

	if (atomic_out_link_fresh(ao->fd, ao->path, &name) != 0)
		return -1;
	ao->tmp_path = name;
	pending_tmp = name;
	return 0;
}

void
atomic_out_abort(struct atomic_out *ao)
{
	if (ao->partial) {
		atomic_partial_abort(ao);
		return;
	}
	pending_tmp = NULL;
	if (ao->fd >= 0) {
		close(ao->fd);
		ao->fd = -1;
	}
	if (ao->tmp_path != NULL) {
		unlink(ao->tmp_path);
		free(ao->tmp_path);
		ao->tmp_path = NULL;
	}
	free(ao->path);
	ao->path = NULL;
}

/* "user:group" of ids, by name where they have one. */
static void
owner_text(char *buf, size_t size, unsigned uid, unsigned gid)
{
	struct passwd *pw = getpwuid(uid);
	struct group *gr = getgrgid(gid);
	char u[32], g[32];

	snprintf(u, sizeof(u), "%u", uid);
	snprintf(g, sizeof(g), "%u", gid);
	snprintf(buf, size, "%s:%s", pw != NULL ? pw->pw_name : u,
	    gr != NULL ? gr->gr_name : g);
}

/*
 * The replaced file's owner and group for the new one, before its mode
 * (a chown clears set-id bits).  Where we may not give them, the file
 * is published all the same, and the warning says whose it is now.
 */
static void
atomic_out_keep_owner(struct atomic_out *ao)
{
	char was[80], now[80];
	struct stat st;
	int why;

	if (!ao->keep_owner || fchown(ao->fd, (uid_t)ao->uid,
	    (gid_t)ao->gid) == 0)
		return;
	why = errno;
	(void)fchown(ao->fd, (uid_t)-1, (gid_t)ao->gid);	/* a group of ours */
	if (fstat(ao->fd, &st) != 0 || (st.st_uid == ao->uid &&
	    st.st_gid == ao->gid))
		return;
	owner_text(was, sizeof(was), ao->uid, ao->gid);
	owner_text(now, sizeof(now), st.st_uid, st.st_gid);
	snprintf(ao->warning, sizeof(ao->warning), "%s: owner %s not kept "
	    "(%s): the new file is %s's", ao->path, was, strerror(why), now);
}

int
atomic_out_sync(struct atomic_out *ao, struct rcp_error *e)
{
	ao->warning[0] = '\0';
	if (ao->direct)
		return 0;
	atomic_out_keep_owner(ao);
	if (fchmod(ao->fd, (mode_t)ao->mode) != 0) {
		error_set_errno(e, EXIT_FAIL, "%s: fchmod", ao->path);
		goto fail;
	}
	/* Before the fsync: a crash after the rename must not leave it. */
	if (ao->partial)
		atomic_partial_forget_size(ao);
	if (fsync(ao->fd) != 0) {
		error_set_errno(e, EXIT_FAIL, "%s: fsync", ao->path);
		goto fail;
	}
	if (ao->tmp_path == NULL && atomic_out_link(ao) != 0) {
		error_set_errno(e, EXIT_FAIL, "%s: cannot name the temporary "
		    "file", ao->path);
		goto fail;
	}
	return 0;
fail:
	atomic_out_abort(ao);
	return -1;
}

int
atomic_out_commit(struct atomic_out *ao, struct rcp_error *e)
{
	return atomic_out_sync(ao, e) != 0 ? -1 : atomic_out_publish(ao, e);
}

void
atomic_out_sync_dir(const char *path)
{
	char *copy;
	int dfd;

	if ((copy = strdup(path)) == NULL)
		return;
	dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(copy);
}

int
atomic_out_publish(struct atomic_out *ao, struct rcp_error *e)
{
	int rc;

	if (ao->partial)
		return atomic_partial_publish(ao, e);
	if (ao->direct) {
		rc = close(ao->fd);
		ao->fd = -1;
		if (rc != 0) {
			error_set_errno(e, EXIT_FAIL, "%s: close", ao->path);
			goto fail;
		}
		free(ao->path);
		ao->path = NULL;
		return 0;
	}
	if (close(ao->fd) != 0) {
		ao->fd = -1;
		error_set_errno(e, EXIT_FAIL, "%s: close", ao->path);
		goto fail;
	}
	ao->fd = -1;
	if (rename(ao->tmp_path, ao->path) != 0) {
		error_set_errno(e, EXIT_FAIL, "%s: rename", ao->path);
		goto fail;
	}
	pending_tmp = NULL;
	free(ao->tmp_path);
	ao->tmp_path = NULL;
	/* Make the rename itself durable. */
	atomic_out_sync_dir(ao->path);
	atomic_partial_drop_stale(ao->path);
	free(ao->path);
	ao->path = NULL;
	return 0;
fail:
	atomic_out_abort(ao);
	return -1;
}
