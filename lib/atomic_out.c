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
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_out.h"

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

static void
atomic_out_install_handlers(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = atomic_out_on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;
		/* Respect a signal the caller chose to ignore (nohup). */
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

int
atomic_out_open(struct atomic_out *ao, const char *path, struct rcp_error *e)
{
	char *copy1 = NULL, *copy2 = NULL, *tmp = NULL;
	const char *dir, *base;
	struct stat st;
	mode_t mask;
	size_t len;

	memset(ao, 0, sizeof(*ao));
	ao->fd = -1;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return error_set(e, EXIT_USAGE, "%s: is a directory",
			    path);
		ao->mode = st.st_mode & 07777;
	} else {
		mask = umask(0);
		umask(mask);
		ao->mode = 0666 & ~mask;
	}
	if ((copy1 = strdup(path)) == NULL || (copy2 = strdup(path)) == NULL ||
	    (ao->path = strdup(path)) == NULL)
		goto nomem;
	dir = dirname(copy1);
	base = basename(copy2);
	len = strlen(dir) + strlen(base) + 16;
	if ((tmp = malloc(len)) == NULL)
		goto nomem;
	snprintf(tmp, len, "%s/.%s.XXXXXX", dir, base);
	atomic_out_install_handlers();
	ao->fd = mkostemp(tmp, O_CLOEXEC);
	if (ao->fd < 0) {
		error_set_errno(e, EXIT_FAIL, "%s: cannot create temporary "
		    "file in %s", path, dir);
		free(tmp);
		free(copy1);
		free(copy2);
		free(ao->path);
		ao->path = NULL;
		return -1;
	}
	ao->tmp_path = tmp;
	pending_tmp = tmp;
	free(copy1);
	free(copy2);
	return 0;
nomem:
	free(copy1);
	free(copy2);
	free(ao->path);
	ao->path = NULL;
	return error_set_errno(e, EXIT_FAIL, "%s", path);
}

void
atomic_out_abort(struct atomic_out *ao)
{
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

int
atomic_out_commit(struct atomic_out *ao, struct rcp_error *e)
{
	char *copy;
	int dfd;

	if (fchmod(ao->fd, (mode_t)ao->mode) != 0) {
		error_set_errno(e, EXIT_FAIL, "%s: fchmod", ao->tmp_path);
		goto fail;
	}
	if (fsync(ao->fd) != 0) {
		error_set_errno(e, EXIT_FAIL, "%s: fsync", ao->path);
		goto fail;
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
	if ((copy = strdup(ao->path)) != NULL) {
		dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
		free(copy);
	}
	free(ao->path);
	ao->path = NULL;
	return 0;
fail:
	atomic_out_abort(ao);
	return -1;
}
