/*
 * atomic_partial.c: the partial mode of atomic_out (lib/core/
 * atomic_partial.c), in a scratch directory given as the only argument:
 * a run that fails keeps its bytes and the size it recorded, the next
 * one appends after them, a commit publishes the file as the normal
 * mode would (mode, no recorded size left) and a failed commit leaves
 * the partial file usable.  What needs a sender (the --resume protocol)
 * is not here.  Run by t/unit.bats; prints one line per failure and a
 * count.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "atomic_out.h"

static int failures, checks;
static int have_xattrs;		/* the scratch file system keeps user.* */

static void
check(int ok, const char *what)
{
	checks++;
	if (!ok) {
		failures++;
		printf("FAIL %s\n", what);
	}
}

static void
check_text(const char *path, const char *want, const char *what)
{
	char buf[256] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n >= 0)
		buf[n] = '\0';
	checks++;
	if (n < 0 || strcmp(buf, want) != 0) {
		failures++;
		printf("FAIL %s: %s holds \"%s\", want \"%s\"\n", what, path,
		    n < 0 ? strerror(errno) : buf, want);
	}
}

static unsigned
mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int
has_size_xattr(const char *path)
{
	char buf[32];

	return getxattr(path, ATOMIC_OUT_SIZE_XATTR, buf, sizeof(buf)) >= 0;
}

static int
open_partial(struct atomic_out *ao, const char *target, uint64_t *have)
{
	struct rcp_error e;

	if (atomic_out_open_partial(ao, target, have, &e) == 0)
		return 0;
	printf("FAIL open_partial %s: %s\n", target, e.msg);
	failures++;
	return -1;
}

static void
write_text(struct atomic_out *ao, const char *text)
{
	check(write(ao->fd, text, strlen(text)) == (ssize_t)strlen(text),
	    "write to the partial file");
}

/* A failed run keeps its bytes and the size; the next one appends. */
static void
kept_then_appended(const char *dir)
{
	char target[4096], partial[4200];
	struct atomic_out ao;
	struct rcp_error e;
	uint64_t have = 1;

	snprintf(target, sizeof(target), "%s/kept", dir);
	snprintf(partial, sizeof(partial), "%s.rcp-partial", target);
	if (open_partial(&ao, target, &have) != 0)
		return;
	check(have == 0, "a new partial file is empty");
	check(ao.source_size == ATOMIC_OUT_SIZE_UNKNOWN,
	    "a new partial file has no size recorded");
	check(mode_of(partial) == 0600, "a new partial file is 0600");
	write_text(&ao, "hello");
	check(atomic_out_partial_record_size(&ao, 11, &e) == 0,
	    "record_size");
	have_xattrs = has_size_xattr(partial);
	atomic_out_abort(&ao);
	check_text(partial, "hello", "abort keeps the partial file");
	check(!exists(target), "abort publishes nothing");

	if (open_partial(&ao, target, &have) != 0)
		return;
	check(have == 5, "the second run has the first one's 5 bytes");
	check(lseek(ao.fd, 0, SEEK_CUR) == 5, "positioned at the end");
	check(!have_xattrs || ao.source_size == 11,
	    "the second run reads the recorded size");
	write_text(&ao, " world");
	check(atomic_out_commit(&ao, &e) == 0, "commit");
	check_text(target, "hello world", "commit publishes both runs' bytes");
	check(mode_of(target) == 0644, "published with 0666 & ~umask");
	check(!has_size_xattr(target), "published without the recorded size");
	check(!exists(partial), "the partial name is gone once published");
}

/* An existing target's mode is the published file's, as in normal mode. */
static void
keeps_target_mode(const char *dir)
{
	char target[4096];
	struct atomic_out ao;
	struct rcp_error e;
	uint64_t have;
	int fd;

	snprintf(target, sizeof(target), "%s/mode", dir);
	if ((fd = open(target, O_WRONLY | O_CREAT, 0640)) < 0 ||
	    fchmod(fd, 0640) != 0 || close(fd) != 0) {
		perror(target);
		exit(2);
	}
	if (open_partial(&ao, target, &have) != 0)
		return;
	write_text(&ao, "new");
	check(atomic_out_commit(&ao, &e) == 0, "commit over a 0640 file");
	check(mode_of(target) == 0640, "the replaced file's mode is kept");
	check_text(target, "new", "the replaced file's content");
}

/* Recorded sizes: forgotten on request; anything malformed is none. */
static void
recorded_sizes(const char *dir)
{
	char target[4096], partial[4200];
	struct atomic_out ao;
	struct rcp_error e;
	uint64_t have;

	if (!have_xattrs) {
		printf("# no user xattrs in %s: recorded sizes not checked\n",
		    dir);
		return;
	}
	snprintf(target, sizeof(target), "%s/sizes", dir);
	snprintf(partial, sizeof(partial), "%s.rcp-partial", target);
	if (open_partial(&ao, target, &have) != 0)
		return;
	write_text(&ao, "x");
	check(atomic_out_partial_record_size(&ao, 7, &e) == 0 &&
	    atomic_out_partial_record_size(&ao, ATOMIC_OUT_SIZE_UNKNOWN,
	    &e) == 0, "record_size, then forget it");
	check(!has_size_xattr(partial), "an unknown size removes the record");
	check(atomic_out_partial_record_size(&ao, ATOMIC_OUT_SIZE_UNKNOWN,
	    &e) == 0, "forgetting twice is no error");
	atomic_out_abort(&ao);
	check(setxattr(partial, ATOMIC_OUT_SIZE_XATTR, "12x", 3, 0) == 0,
	    "setxattr");
	if (open_partial(&ao, target, &have) != 0)
		return;
	check(ao.source_size == ATOMIC_OUT_SIZE_UNKNOWN,
	    "a malformed record is no size");
	atomic_out_abort(&ao);
}

/* A second open while the first holds the lock; an empty abort. */
static void
locked_and_empty(const char *dir)
{
	char target[4096], partial[4200];
	struct atomic_out ao, second;
	struct rcp_error e;
	uint64_t have;

	snprintf(target, sizeof(target), "%s/locked", dir);
	snprintf(partial, sizeof(partial), "%s.rcp-partial", target);
	if (open_partial(&ao, target, &have) != 0)
		return;
	checks++;
	if (atomic_out_open_partial(&second, target, &have, &e) == 0 ||
	    e.status != EXIT_FAIL || strstr(e.msg, ": in use by another "
	    "transfer") == NULL) {
		failures++;
		printf("FAIL a second open of a held partial file: %s\n",
		    e.msg);
	}
	atomic_out_abort(&ao);
	check(!exists(partial), "an empty partial file is not kept");
}

/*
 * A commit whose rename fails (a directory appeared at the target) gave
 * the file the target's mode first: abort makes it 0600 again, with
 * its bytes, for the next run.
 */
static void
failed_commit(const char *dir)
{
	char target[4096], partial[4200], inside[4300];
	struct atomic_out ao;
	struct rcp_error e;
	uint64_t have;

	snprintf(target, sizeof(target), "%s/failed", dir);
	snprintf(partial, sizeof(partial), "%s.rcp-partial", target);
	snprintf(inside, sizeof(inside), "%s/x", target);
	if (open_partial(&ao, target, &have) != 0)
		return;
	write_text(&ao, "data");
	check(atomic_out_partial_record_size(&ao, 9, &e) == 0, "record_size");
	if (mkdir(target, 0755) != 0 || mkdir(inside, 0755) != 0) {
		perror(target);
		exit(2);
	}
	check(atomic_out_commit(&ao, &e) == -1, "commit onto a directory");
	check_text(partial, "data", "a failed commit keeps the bytes");
	check(mode_of(partial) == 0600, "a failed commit leaves it 0600");
	check(!have_xattrs || has_size_xattr(partial),
	    "a failed commit keeps the recorded size");
}

/* Puts a file of its own, holding text, at name (mode 0600). */
static void
plant(const char *name, const char *text)
{
	int fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    close(fd) != 0) {
		perror(name);
		exit(2);
	}
}

/*
 * The partial name is taken from a run that holds its partial file, and
 * another file is put there (an operator's rm or mv, then a second
 * --resume run; or anyone who may write the directory): the run
 * publishes the file it wrote, or nothing, never what the name holds by
 * then; nor does an empty run's abort remove that other file.
 */
static void
name_replaced(const char *dir)
{
	char target[4096], partial[4200], moved[4300];
	struct atomic_out ao;
	struct rcp_error e;
	uint64_t have;

	snprintf(target, sizeof(target), "%s/swapped", dir);
	snprintf(partial, sizeof(partial), "%s.rcp-partial", target);
	snprintf(moved, sizeof(moved), "%s.moved", partial);

	/* Moved away: still a file with a name, which is published. */
	if (open_partial(&ao, target, &have) != 0)
		return;
	write_text(&ao, "ours, whole");
	check(rename(partial, moved) == 0, "move the partial file away");
	plant(partial, "another run's");
	check(atomic_out_commit(&ao, &e) == 0, "commit a moved partial file");
	check_text(target, "ours, whole",
	    "a commit publishes the file it wrote");
	check(mode_of(target) == 0644, "published with the target's mode");
	check_text(partial, "another run's",
	    "the file now at the partial name is left alone");
	check(unlink(partial) == 0 && unlink(target) == 0 &&
	    unlink(moved) == 0, "clean up");

	/* Removed: nothing left to publish but the other file. */
	if (open_partial(&ao, target, &have) != 0)
		return;
	write_text(&ao, "ours, whole");
	check(unlink(partial) == 0, "unlink the partial name");
	plant(partial, "another run's");
	checks++;
	if (atomic_out_commit(&ao, &e) == 0 || strstr(e.msg,
	    "is no longer the file this transfer wrote") == NULL) {
		failures++;
		printf("FAIL a commit of a removed partial file: %s\n",
		    e.msg);
	}
	check(!exists(target), "... publishes nothing");
	check_text(partial, "another run's", "... leaves the other alone");
	check(unlink(partial) == 0, "unlink the planted file");

	/* An empty run's abort. */
	if (open_partial(&ao, target, &have) != 0)
		return;
	check(unlink(partial) == 0, "unlink the empty partial name");
	plant(partial, "planted");
	atomic_out_abort(&ao);
	check_text(partial, "planted",
	    "an empty run's abort removes only its own file");
}

int
main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: atomic_partial DIR\n");
		return 2;
	}
	umask(022);
	kept_then_appended(argv[1]);
	keeps_target_mode(argv[1]);
	recorded_sizes(argv[1]);
	locked_and_empty(argv[1]);
	failed_commit(argv[1]);
	name_replaced(argv[1]);
	printf("%d checks, %d failed\n", checks, failures);
	return failures != 0;
}
