/*
 * atomic_partial.c: the partial mode of atomic_out (rcp-quic-recv
 * --resume): a file beside the target that keeps what a failed transfer
 * received, for the next run to append to.
 *
 * Its name, TARGET.rcp-partial, is predictable and the directory may be
 * shared, so whatever is found there is treated as if another user had
 * planted it: a symbolic link is never followed, and only a regular
 * file of ours with a single link is used (a hard link would let a
 * stranger aim our writes at a file we may write but did not make).
 * An flock(2) on the open file says which run owns it; every step that
 * renames or removes the name holds that lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "atomic_out.h"
#include "atomic_out_int.h"
#include "parse.h"

#define PARTIAL_MODE 0600
/* "18446744073709551614" and a NUL. */
#define SIZE_TEXT_MAX 24

/* TARGET.rcp-partial, or NULL with errno. */
static char *
partial_name(const char *target)
{
	char *name;

	if (asprintf(&name, "%s%s", target, ATOMIC_OUT_PARTIAL_SUFFIX) < 0)
		return NULL;
	return name;
}

/* What a file that is not a regular one is, for a message. */
static const char *
kind_name(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

static int
refuse_kind(const char *name, mode_t mode, struct rcp_error *e)
{
	if (S_ISLNK(mode))
		return error_set(e, EXIT_FAIL, "%s: is a symbolic link, not "
		    "followed", name);
	return error_set(e, EXIT_FAIL, "%s: is %s, not a regular file", name,
	    kind_name(mode));
}

/* A user's name, or else its number. */
static void
user_text(char *buf, size_t size, uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "uid %u", (unsigned)uid);
}

/* The file we would make ourselves: regular, ours, one link. */
static int
partial_is_ours(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_uid == geteuid() &&
	    st->st_nlink == 1;
}

/* Whether name still names the open file fd. */
static int
names_fd(const char *name, int fd)
{
	struct stat open_st, name_st;

	return fstat(fd, &open_st) == 0 && lstat(name, &name_st) == 0 &&
	    open_st.st_dev == name_st.st_dev &&
	    open_st.st_ino == name_st.st_ino;
}

/*
 * Opens the partial file, or creates it empty where there is none.
 * O_NOFOLLOW refuses a symbolic link even if one appears after the
 * lstat; O_NONBLOCK keeps a FIFO put there meanwhile from hanging us
 * before partial_check refuses it.
 */
static int
partial_open(struct atomic_out *ao, struct rcp_error *e)
{
	const char *name = ao->tmp_path;
	struct stat st;
	int attempt, why;

	for (attempt = 0; attempt < 3; attempt++) {
		if (lstat(name, &st) == 0 && !S_ISREG(st.st_mode))
			return refuse_kind(name, st.st_mode, e);
		ao->fd = open(name, O_RDWR | O_NOFOLLOW | O_NONBLOCK |
		    O_NOCTTY | O_CLOEXEC);
		if (ao->fd >= 0 || errno != ENOENT)
			break;
		ao->fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, PARTIAL_MODE);
		/* EEXIST: another run made it between our two opens. */
		if (ao->fd >= 0 || errno != EEXIST)
			break;
	}
	if (ao->fd >= 0)
		return 0;
	why = errno;
	if (lstat(name, &st) == 0 && !S_ISREG(st.st_mode))
		return refuse_kind(name, st.st_mode, e);
	errno = why;
	return error_set_errno(e, EXIT_FAIL, "%s", name);
}

static int
partial_check(struct atomic_out *ao, struct rcp_error *e)
{
	const char *name = ao->tmp_path;
	char owner[64], us[64];
	struct stat st;

	if (fstat(ao->fd, &st) != 0)
		return error_set_errno(e, EXIT_FAIL, "%s: fstat", name);
	if (!S_ISREG(st.st_mode))
		return refuse_kind(name, st.st_mode, e);
	if (st.st_uid != geteuid()) {
		user_text(owner, sizeof(owner), st.st_uid);
		user_text(us, sizeof(us), geteuid());
		return error_set(e, EXIT_FAIL, "%s: owned by %s, not by %s",
		    name, owner, us);
	}
	if (st.st_nlink != 1)
		return error_set(e, EXIT_FAIL, "%s: has %ju links, not 1",
		    name, (uintmax_t)st.st_nlink);
	return 0;
}

/*
 * The lock says which run owns the file.  A run that held it may have
 * published or removed the file between our open and our flock: then
 * the name is no longer this file, which is not ours to use either.
 */
static int
partial_lock(struct atomic_out *ao, struct rcp_error *e)
{
	const char *name = ao->tmp_path;

	if (flock(ao->fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK)
			return error_set_errno(e, EXIT_FAIL, "%s: flock",
			    name);
	} else if (names_fd(name, ao->fd)) {
		return 0;
	}
	return error_set(e, EXIT_FAIL, "%s: in use by another transfer",
	    name);
}

/* The size recorded by atomic_out_partial_record_size, if any. */
static uint64_t
partial_recorded_size(int fd)
{
	char text[SIZE_TEXT_MAX];
	uint64_t size;
	ssize_t n;

	n = fgetxattr(fd, ATOMIC_OUT_SIZE_XATTR, text, sizeof(text) - 1);
	if (n <= 0)
		return ATOMIC_OUT_SIZE_UNKNOWN;
	text[n] = '\0';
	/* Anything else there was not written by us: no size, then. */
	if (parse_uint(text, 0, ATOMIC_OUT_SIZE_UNKNOWN - 1, &size) != 0)
		return ATOMIC_OUT_SIZE_UNKNOWN;
	return size;
}

/* 0600, blocking writes, the offset at the end: ready to append. */
static int
partial_prepare(struct atomic_out *ao, uint64_t *have, struct rcp_error *e)
{
	const char *name = ao->tmp_path;
	struct stat st;
	off_t end;
	int fl;

	if (fstat(ao->fd, &st) != 0)
		return error_set_errno(e, EXIT_FAIL, "%s: fstat", name);
	if ((st.st_mode & 07777) != PARTIAL_MODE &&
	    fchmod(ao->fd, PARTIAL_MODE) != 0)
		return error_set_errno(e, EXIT_FAIL, "%s: fchmod", name);
	if ((fl = fcntl(ao->fd, F_GETFL)) < 0 ||
	    fcntl(ao->fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
		return error_set_errno(e, EXIT_FAIL, "%s: fcntl", name);
	if ((end = lseek(ao->fd, 0, SEEK_END)) < 0)
		return error_set_errno(e, EXIT_FAIL, "%s: lseek", name);
	*have = (uint64_t)end;
	ao->source_size = partial_recorded_size(ao->fd);
	return 0;
}

int
atomic_out_open_partial(struct atomic_out *ao, const char *path,
    uint64_t *have, struct rcp_error *e)
{
	mode_t kind;

	switch (atomic_out_target(ao, path, &kind, e)) {
	case -1:
		return -1;
	case 1:
		error_set(e, EXIT_USAGE, "%s: is %s", ao->path,
		    kind_name(kind));
		goto fail;
	}
	if ((ao->tmp_path = partial_name(ao->path)) == NULL) {
		error_set_errno(e, EXIT_FAIL, "%s", ao->path);
		goto fail;
	}
	if (partial_open(ao, e) != 0 || partial_check(ao, e) != 0 ||
	    partial_lock(ao, e) != 0 || partial_prepare(ao, have, e) != 0)
		goto fail;
	ao->partial = 1;
	return 0;
fail:
	/* Nothing was written: what is at the name stays as it was. */
	if (ao->fd >= 0)
		close(ao->fd);
	ao->fd = -1;
	free(ao->tmp_path);
	ao->tmp_path = NULL;
	free(ao->path);
	ao->path = NULL;
	return -1;
}

int
atomic_out_partial_record_size(struct atomic_out *ao, uint64_t size,
    struct rcp_error *e)
{
	char text[SIZE_TEXT_MAX];
	int rc;

	if (size == ATOMIC_OUT_SIZE_UNKNOWN) {
		rc = fremovexattr(ao->fd, ATOMIC_OUT_SIZE_XATTR);
		if (rc != 0 && errno == ENODATA)
			rc = 0;
	} else {
		snprintf(text, sizeof(text), "%" PRIu64, size);
		rc = fsetxattr(ao->fd, ATOMIC_OUT_SIZE_XATTR, text,
		    strlen(text), 0);
	}
	if (rc != 0 && errno != ENOTSUP && errno != EPERM)
		return error_set_errno(e, EXIT_FAIL, "%s: %s", ao->tmp_path,
		    ATOMIC_OUT_SIZE_XATTR);
	ao->source_size = size;
	return 0;
}

int
atomic_out_partial_size(const struct atomic_out *ao, uint64_t *size)
{
	struct stat st;

	if (ao->fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (fstat(ao->fd, &st) != 0)
		return -1;
	*size = (uint64_t)st.st_size;
	return 0;
}

void
atomic_partial_forget_size(struct atomic_out *ao)
{
	(void)fremovexattr(ao->fd, ATOMIC_OUT_SIZE_XATTR);
}

/*
 * sync has given the file the target's owner and mode and fsynced it.
 * What is published is the open file itself, not whatever the partial
 * name holds by now: an operator may have removed that name during the
 * transfer, and another run, or anyone who may write the directory,
 * put another file there.  So the file gets a fresh name by its
 * descriptor, which is renamed over the target; then the partial name
 * goes, if it is still this file.  The file stays open and locked
 * throughout: a run that opened the name just before finds, once it
 * has the lock, that the name is no longer its file (partial_lock).
 * Without a way to link by descriptor, the partial name itself is
 * renamed, once it is checked to be still this file.
 */
int
atomic_partial_publish(struct atomic_out *ao, struct rcp_error *e)
{
	char *fresh = NULL;
	const char *from;

	if (atomic_out_link_fresh(ao->fd, ao->path, &fresh) == 0)
		from = fresh;
	else if (names_fd(ao->tmp_path, ao->fd))
		from = ao->tmp_path;
	else {
		error_set(e, EXIT_FAIL, "%s: not published: %s is no longer "
		    "the file this transfer wrote", ao->path, ao->tmp_path);
		atomic_partial_abort(ao);
		return -1;
	}
	if (rename(from, ao->path) != 0) {
		error_set_errno(e, EXIT_FAIL, "%s: rename", ao->path);
		if (fresh != NULL)
			(void)unlink(fresh);
		free(fresh);
		atomic_partial_abort(ao);
		return -1;
	}
	if (fresh != NULL && names_fd(ao->tmp_path, ao->fd))
		(void)unlink(ao->tmp_path);
	free(fresh);
	free(ao->tmp_path);
	ao->tmp_path = NULL;
	atomic_out_sync_dir(ao->path);
	/* After the fsync, close has nothing left to report. */
	close(ao->fd);
	ao->fd = -1;
	free(ao->path);
	ao->path = NULL;
	return 0;
}

/*
 * A failed commit may have given the file the target's owner and mode,
 * and removed the recorded size: it becomes ours and 0600 again, with
 * the size, so that the next run takes it as it was.  Then fsync, so
 * that the bytes a later run trusts outlive a crash too.
 */
static void
partial_keep(int fd, uint64_t source_size)
{
	char text[SIZE_TEXT_MAX];
	struct stat st;

	if (source_size != ATOMIC_OUT_SIZE_UNKNOWN) {
		snprintf(text, sizeof(text), "%" PRIu64, source_size);
		(void)fsetxattr(fd, ATOMIC_OUT_SIZE_XATTR, text, strlen(text),
		    0);
	}

	if (fstat(fd, &st) == 0) {
		if (st.st_uid != geteuid())
			(void)fchown(fd, geteuid(), (gid_t)-1);
		if ((st.st_mode & 07777) != PARTIAL_MODE)
			(void)fchmod(fd, PARTIAL_MODE);
	}
	(void)fsync(fd);
}

void
atomic_partial_abort(struct atomic_out *ao)
{
	uint64_t size;

	if (ao->fd >= 0) {
		/* Still locked: the name is ours to remove, if it is still
		 * this file (not one put there since). */
		if (ao->tmp_path != NULL &&
		    atomic_out_partial_size(ao, &size) == 0 && size == 0 &&
		    names_fd(ao->tmp_path, ao->fd))
			(void)unlink(ao->tmp_path);
		else
			partial_keep(ao->fd, ao->source_size);
		close(ao->fd);	/* and the lock with it */
		ao->fd = -1;
	}
	free(ao->tmp_path);
	ao->tmp_path = NULL;
	free(ao->path);
	ao->path = NULL;
}

void
atomic_partial_drop_stale(const char *target)
{
	char *name = partial_name(target);
	struct stat st;
	int fd;

	if (name == NULL)
		return;
	/* lstat first: opening a device has effects of its own. */
	if (lstat(name, &st) != 0 || !partial_is_ours(&st)) {
		free(name);
		return;
	}
	fd = open(name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && partial_is_ours(&st) &&
	    flock(fd, LOCK_EX | LOCK_NB) == 0 && names_fd(name, fd))
		(void)unlink(name);
	if (fd >= 0)
		close(fd);
	free(name);
}
