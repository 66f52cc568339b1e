/* io.c: short transfers and EINTR, handled once for the whole suite. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io.h"

/*
 * After a failed read or write on fd: whether to try again.  EINTR, yes.
 * EAGAIN means the descriptor was inherited in non-blocking mode (its
 * O_NONBLOCK is shared with other processes, so it is left alone): wait
 * in poll(2) until fd is ready for events, then yes.  Anything else is
 * the caller's error, errno intact.
 */
static int
io_retry(int fd, short events)
{
	struct pollfd pfd = { fd, events, 0 };

	if (errno == EINTR)
		return 1;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return 0;
	return poll(&pfd, 1, -1) >= 0 || errno == EINTR;
}

ssize_t
io_read_full(int fd, void *buf, size_t n, size_t *before_error)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0) {
			if (io_retry(fd, POLLIN))
				continue;
			if (before_error != NULL)
				*before_error = got;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

ssize_t
io_read_some(int fd, void *buf, size_t n)
{
	for (;;) {
		ssize_t r = read(fd, buf, n);
		if (r >= 0 || !io_retry(fd, POLLIN))
			return r;
	}
}

ssize_t
io_read_ready(int fd, void *buf, size_t n)
{
	for (;;) {
		ssize_t r = read(fd, buf, n);
		if (r >= 0 || errno != EINTR)
			return r;
	}
}

int
io_write_full(int fd, const void *buf, size_t n)
{
	return io_write_full_or_stop(fd, buf, n, NULL);
}

/* io_write_nowait's w->mode. */
#define IO_MODE_UNKNOWN 0
#define IO_MODE_NOWAIT 1	/* pwritev2 RWF_NOWAIT on fd */
#define IO_MODE_OWN_FD 2	/* write(2) on w->fd, O_NONBLOCK */
#define IO_MODE_BLOCKING 3

/*
 * A pipe without RWF_NOWAIT: opening it again by /proc/self/fd gives a
 * file description of our own on the same pipe, whose O_NONBLOCK nobody
 * else shares.
 */
static void
own_nonblocking(int fd, struct io_nowait *w)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	w->fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	w->mode = w->fd >= 0 ? IO_MODE_OWN_FD : IO_MODE_BLOCKING;
}

ssize_t
io_write_nowait(int fd, const void *buf, size_t n, struct io_nowait *w)
{
	struct iovec iov = { (void *)buf, n };
	struct stat st;
	ssize_t r;

	if (n == 0)
		return 0;
	if (w->mode == IO_MODE_UNKNOWN)
		w->mode = fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) ||
		    S_ISSOCK(st.st_mode)) ? IO_MODE_NOWAIT : IO_MODE_BLOCKING;
	while (w->mode == IO_MODE_NOWAIT || w->mode == IO_MODE_OWN_FD) {
		r = w->mode == IO_MODE_OWN_FD ? write(w->fd, buf, n) :
		    pwritev2(fd, &iov, 1, -1, RWF_NOWAIT);
		if (r >= 0)
			return r;
		if (errno == EAGAIN)
			return 0;
		if (w->mode == IO_MODE_NOWAIT && (errno == EOPNOTSUPP ||
		    errno == EINVAL || errno == ENOSYS)) {
			if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
				own_nonblocking(fd, w);
			else
				w->mode = IO_MODE_BLOCKING;
		} else if (errno != EINTR) {
			return -1;
		}
	}
	return io_write_full(fd, buf, n) == 0 ? (ssize_t)n : -1;
}

void
io_nowait_close(struct io_nowait *w)
{
	if (w->fd >= 0)
		(void)close(w->fd);
	w->fd = -1;
}

int
io_write_full_or_stop(int fd, const void *buf, size_t n,
    volatile sig_atomic_t *stop)
{
	const unsigned char *p = buf;

	while (n > 0) {
		ssize_t w;

		if (stop != NULL && *stop) {
			errno = EINTR;
			return -1;
		}
		w = write(fd, p, n);
		if (w < 0) {
			if (io_retry(fd, POLLOUT))
				continue;	/* *stop is checked above */
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
io_writev_full(int fd, struct iovec *iov, int iovcnt)
{
	while (iovcnt > 0) {
		int batch = iovcnt < IOV_MAX ? iovcnt : IOV_MAX;
		ssize_t w = writev(fd, iov, batch);
		size_t left;

		if (w < 0) {
			if (io_retry(fd, POLLOUT))
				continue;
			return -1;
		}
		left = (size_t)w;
		/* Skip the vectors written whole, trim the first partial one. */
		while (iovcnt > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

static int
io_is_pipe(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

int
io_splice_candidate(int in_fd, int out_fd)
{
	return io_is_pipe(in_fd) || io_is_pipe(out_fd);
}

ssize_t
io_splice_some(int in_fd, int out_fd, size_t n)
{
	for (;;) {
		ssize_t r = splice(in_fd, NULL, out_fd, NULL, n, SPLICE_F_MOVE);
		if (r >= 0 || errno != EINTR)
			return r;
	}
}

void
io_grow_pipe(int fd, size_t want)
{
	if (io_is_pipe(fd)) {
		int cur = fcntl(fd, F_GETPIPE_SZ);
		if (cur >= 0 && (size_t)cur < want)
			(void)fcntl(fd, F_SETPIPE_SZ, (int)want);
	}
}

int
io_sync_stdout(void)
{
	struct stat st;

	if (fstat(STDOUT_FILENO, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if (fsync(STDOUT_FILENO) != 0 && errno != EINVAL)
		return -1;
	return 0;
}

int
io_close_stdout(void)
{
	/* EINTR after close(2) on Linux means the fd is already closed. */
	if (close(STDOUT_FILENO) != 0 && errno != EINTR)
		return -1;
	return 0;
}

int
io_regular_size(int fd, uint64_t *size_out)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	*size_out = (uint64_t)st.st_size;
	return 1;
}

int
io_guard_stdfds(void)
{
	int fd, n;

	for (fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		n = open("/dev/null", fd == STDIN_FILENO ? O_WRONLY :
		    O_RDONLY);
		if (n < 0)
			return -1;
		if (n != fd) {	/* lower ones are open: cannot happen */
			if (dup2(n, fd) < 0)
				return -1;
			close(n);
		}
	}
	return 0;
}
