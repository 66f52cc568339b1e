/*
 * fault_inject.c: an LD_PRELOAD shim for the fault tests (t/faults.bats).
 * Built by the Makefile into build/libfault_inject.so; not installed.
 *
 * It makes read(2)/readv(2) or write(2)/writev(2)/pwritev2(2) on one
 * file descriptor fail, with a chosen errno, once a given number of bytes
 * went through that descriptor in this process (splice(2) counts as a
 * read of its input and a write of its output):
 *
 *   FAULT_READ_FD=N      the descriptor to break for reading: a number,
 *                        or "file" for every descriptor on a regular file
 *   FAULT_READ_AFTER=B   bytes that pass before the fault (default 0)
 *   FAULT_WRITE_FD=N     likewise for writing
 *   FAULT_WRITE_AFTER=B
 *   FAULT_ERRNO=NAME     EIO (default), ENOSPC, EPIPE, EFBIG, EINVAL or
 *                        a number
 *   FAULT_READ_MAX=B     no read(2)/readv(2) on any descriptor returns
 *                        more than B bytes: short reads everywhere
 *   FAULT_NONBLOCK=N,... these descriptors get O_NONBLOCK at start, as
 *                        if inherited so from a parent
 *   FAULT_CALL=NAME      this call fails with FAULT_ERRNO every time:
 *                        fsync, rename, linkat, splice, or close (close
 *                        only on regular files, and the descriptor is
 *                        closed)
 *   FAULT_STOP_CALL=NAME the process stops itself (SIGSTOP) the first
 *                        time it makes this call, before making it: a
 *                        test knows the program reached that point and
 *                        changes the world (a firewall rule) before
 *                        SIGCONT; the call then goes ahead
 *   FAULT_RMEM_MAX=B     the socket buffers of a user without
 *   FAULT_WMEM_MAX=B     CAP_NET_ADMIN under net.core.rmem_max=B (and
 *                        wmem_max): SO_RCVBUFFORCE (SO_SNDBUFFORCE)
 *                        fails with EPERM, and SO_RCVBUF (SO_SNDBUF)
 *                        asks the kernel for B at most, which it then
 *                        doubles as always
 *
 *   LD_PRELOAD=build/libfault_inject.so FAULT_READ_FD=0 \
 *       FAULT_READ_AFTER=1000000 entropy-frame <in >out
 *
 * A transfer that would cross B bytes is shortened to end at B (the
 * programs must cope with short transfers anyway), and every call after
 * that fails: the device stays broken.  readv and writev are shortened
 * at a vector boundary only, so they may pass a little more than B.
 * Bytes are counted per descriptor number, for descriptors below
 * FAULT_FD_MAX, from the descriptor's last close.  Calls glibc makes
 * internally (stdio) are not seen.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define FAULT_FD_MAX 1024
#define FAULT_FD_NONE (-2)
#define FAULT_FD_FILE (-1)

struct fault {
	const char *fd_var, *after_var;
	int fd;			/* FAULT_FD_NONE, FAULT_FD_FILE or a number */
	unsigned long long after;
	unsigned long long count[FAULT_FD_MAX];
};

static struct fault rd = { "FAULT_READ_FD", "FAULT_READ_AFTER", 0, 0, {0} };
static struct fault wr = { "FAULT_WRITE_FD", "FAULT_WRITE_AFTER", 0, 0, {0} };
static int fault_errno = EIO;
static size_t read_max;		/* 0: reads are not shortened */
static const char *fail_call = "";	/* FAULT_CALL */
static const char *stop_call = "";	/* FAULT_STOP_CALL */

static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_readv)(int, const struct iovec *, int);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev2)(int, const struct iovec *, int, off_t, int);

static void
fault_parse(struct fault *f)
{
	const char *v = getenv(f->fd_var), *a = getenv(f->after_var);

	f->fd = FAULT_FD_NONE;
	if (v != NULL && strcmp(v, "file") == 0)
		f->fd = FAULT_FD_FILE;
	else if (v != NULL && *v != '\0')
		f->fd = atoi(v);
	f->after = a != NULL ? strtoull(a, NULL, 10) : 0;
}

static void
fault_init(void)
{
	static const struct { const char *name; int no; } names[] = {
		{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EPIPE", EPIPE },
		{ "EFBIG", EFBIG }, { "EDQUOT", EDQUOT }, { "EINVAL", EINVAL },
	};
	const char *en = getenv("FAULT_ERRNO");
	const char *rm = getenv("FAULT_READ_MAX");
	size_t i;

	real_read = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
	real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT,
	    "write");
	real_readv = (ssize_t (*)(int, const struct iovec *, int))dlsym(
	    RTLD_NEXT, "readv");
	real_writev = (ssize_t (*)(int, const struct iovec *, int))dlsym(
	    RTLD_NEXT, "writev");
	real_pwritev2 = (ssize_t (*)(int, const struct iovec *, int, off_t,
	    int))dlsym(RTLD_NEXT, "pwritev2");
	fault_parse(&rd);
	fault_parse(&wr);
	if (rm != NULL)
		read_max = (size_t)strtoull(rm, NULL, 10);
	if (getenv("FAULT_CALL") != NULL)
		fail_call = getenv("FAULT_CALL");
	if (getenv("FAULT_STOP_CALL") != NULL)
		stop_call = getenv("FAULT_STOP_CALL");
	if (en != NULL && *en != '\0') {
		fault_errno = atoi(en);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(en, names[i].name) == 0)
				fault_errno = names[i].no;
	}
}

__attribute__((constructor)) static void
fault_ctor(void)
{
	const char *nb = getenv("FAULT_NONBLOCK");
	char *end;

	if (real_read == NULL)
		fault_init();
	while (nb != NULL && *nb != '\0') {
		int fd = (int)strtol(nb, &end, 10);
		int fl = fcntl(fd, F_GETFL);

		if (end == nb)
			break;
		if (fl >= 0)
			(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		nb = *end == ',' ? end + 1 : end;
	}
}

/*
 * How many of n bytes may pass on fd: n when fd is not the target, less
 * when the threshold is near, 0 (and errno set) once it was reached.
 * Returns -1 for "fail now".
 */
static long long
fault_allow(struct fault *f, int fd, size_t n)
{
	struct stat st;
	unsigned long long done;

	if (f->fd == FAULT_FD_NONE || fd < 0 || fd >= FAULT_FD_MAX)
		return (long long)n;
	if (f->fd == FAULT_FD_FILE) {
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
			return (long long)n;
	} else if (fd != f->fd) {
		return (long long)n;
	}
	done = __atomic_load_n(&f->count[fd], __ATOMIC_RELAXED);
	if (done >= f->after && n > 0) {
		errno = fault_errno;
		return -1;
	}
	if (n > f->after - done)
		n = (size_t)(f->after - done);
	return (long long)n;
}

static void
fault_count(struct fault *f, int fd, ssize_t r)
{
	if (r > 0 && fd >= 0 && fd < FAULT_FD_MAX)
		__atomic_fetch_add(&f->count[fd], (unsigned long long)r,
		    __ATOMIC_RELAXED);
}

ssize_t
read(int fd, void *buf, size_t n)
{
	long long ok;
	ssize_t r;

	if (real_read == NULL)
		fault_init();	/* called before our constructor ran */
	if ((ok = fault_allow(&rd, fd, n)) < 0)
		return -1;
	if (read_max > 0 && (size_t)ok > read_max)
		ok = (long long)read_max;
	r = real_read(fd, buf, (size_t)ok);
	fault_count(&rd, fd, r);
	return r;
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	long long ok;
	ssize_t r;

	if (real_write == NULL)
		fault_init();
	if ((ok = fault_allow(&wr, fd, n)) < 0)
		return -1;
	r = real_write(fd, buf, (size_t)ok);
	fault_count(&wr, fd, r);
	return r;
}

/* The vector count whose bytes reach the allowance (at least one). */
static int
fault_trim(const struct iovec *iov, int cnt, long long ok)
{
	long long sum = 0;
	int i;

	for (i = 0; i < cnt; i++) {
		sum += (long long)iov[i].iov_len;
		if (sum >= ok)
			return i + 1;
	}
	return cnt;
}

ssize_t
readv(int fd, const struct iovec *iov, int cnt)
{
	struct iovec short_iov[1];
	size_t n = 0;
	long long ok;
	ssize_t r;
	int i;

	if (real_readv == NULL)
		fault_init();
	for (i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	if ((ok = fault_allow(&rd, fd, n)) < 0)
		return -1;
	if (read_max > 0 && cnt > 0) {
		/* Short reads: only the first vector, cut to read_max. */
		short_iov[0] = iov[0];
		if (short_iov[0].iov_len > read_max)
			short_iov[0].iov_len = read_max;
		if ((long long)short_iov[0].iov_len > ok)
			short_iov[0].iov_len = (size_t)ok;
		r = real_readv(fd, short_iov, 1);
	} else {
		r = real_readv(fd, iov, fault_trim(iov, cnt, ok));
	}
	fault_count(&rd, fd, r);
	return r;
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	size_t n = 0;
	long long ok;
	ssize_t r;
	int i;

	if (real_writev == NULL)
		fault_init();
	for (i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	if ((ok = fault_allow(&wr, fd, n)) < 0)
		return -1;
	r = real_writev(fd, iov, fault_trim(iov, cnt, ok));
	fault_count(&wr, fd, r);
	return r;
}

/*
 * lib/core/io.c's io_write_nowait writes with pwritev2(RWF_NOWAIT), which
 * _FILE_OFFSET_BITS=64 turns into pwritev64v2: the shim has both.
 */
ssize_t
pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	size_t n = 0;
	long long ok;
	ssize_t r;
	int i;

	if (real_pwritev2 == NULL)
		fault_init();
	for (i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	if ((ok = fault_allow(&wr, fd, n)) < 0)
		return -1;
	r = real_pwritev2(fd, iov, fault_trim(iov, cnt, ok), off, flags);
	fault_count(&wr, fd, r);
	return r;
}

ssize_t
pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return pwritev2(fd, iov, cnt, off, flags);
}

static int fault_call(const char *name);

/*
 * splice(2) moves bytes off its input and onto its output: both counts,
 * both thresholds (the nearer one shortens it), and FAULT_READ_MAX.
 */
ssize_t
splice(int in, loff_t *in_off, int out, loff_t *out_off, size_t n,
    unsigned int flags)
{
	static ssize_t (*real)(int, loff_t *, int, loff_t *, size_t,
	    unsigned int);
	long long ok, ok_out;
	ssize_t r;

	if (fault_call("splice"))
		return -1;
	if (real == NULL)
		real = (ssize_t (*)(int, loff_t *, int, loff_t *, size_t,
		    unsigned int))dlsym(RTLD_NEXT, "splice");
	if ((ok = fault_allow(&rd, in, n)) < 0 ||
	    (ok_out = fault_allow(&wr, out, n)) < 0)
		return -1;
	if (ok_out < ok)
		ok = ok_out;
	if (read_max > 0 && (size_t)ok > read_max)
		ok = (long long)read_max;
	r = real(in, in_off, out, out_off, (size_t)ok, flags);
	fault_count(&rd, in, r);
	fault_count(&wr, out, r);
	return r;
}

/*
 * FAULT_STOP_CALL, then FAULT_CALL: stops the process before the named
 * call's first time, and says whether the call is the one to fail now.
 */
static int
fault_call(const char *name)
{
	if (real_read == NULL)
		fault_init();
	if (strcmp(stop_call, name) == 0) {
		stop_call = "";
		(void)raise(SIGSTOP);
	}
	if (strcmp(fail_call, name) != 0)
		return 0;
	errno = fault_errno;
	return 1;
}

int
fsync(int fd)
{
	static int (*real)(int);

	if (fault_call("fsync"))
		return -1;
	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return real(fd);
}

int
rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);

	if (fault_call("rename"))
		return -1;
	if (real == NULL)
		real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT,
		    "rename");
	return real(from, to);
}

int
linkat(int ofd, const char *from, int nfd, const char *to, int flags)
{
	static int (*real)(int, const char *, int, const char *, int);

	if (fault_call("linkat"))
		return -1;
	if (real == NULL)
		real = (int (*)(int, const char *, int, const char *, int))
		    dlsym(RTLD_NEXT, "linkat");
	return real(ofd, from, nfd, to, flags);
}

int
close(int fd)
{
	static int (*real)(int);
	struct stat st;
	int regular;

	if (real == NULL)
		real = (int (*)(int))dlsym(RTLD_NEXT, "close");
	/* The next file opened on this number starts a fresh count. */
	if (fd >= 0 && fd < FAULT_FD_MAX) {
		__atomic_store_n(&rd.count[fd], 0, __ATOMIC_RELAXED);
		__atomic_store_n(&wr.count[fd], 0, __ATOMIC_RELAXED);
	}
	regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	if (regular && fault_call("close")) {
		int saved = errno;

		(void)real(fd);	/* as on NFS: closed, but the error stands */
		errno = saved;
		return -1;
	}
	return real(fd);
}

/* FAULT_RMEM_MAX, FAULT_WMEM_MAX: 0 when unset. */
static unsigned long
fault_mem_max(const char *var)
{
	const char *v = getenv(var);

	return v != NULL ? strtoul(v, NULL, 10) : 0;
}

int
setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	static int (*real)(int, int, int, const void *, socklen_t);
	unsigned long max = 0;
	int capped;

	if (real == NULL)
		real = (int (*)(int, int, int, const void *, socklen_t))dlsym(
		    RTLD_NEXT, "setsockopt");
	if (level == SOL_SOCKET && (name == SO_RCVBUFFORCE ||
	    name == SO_RCVBUF))
		max = fault_mem_max("FAULT_RMEM_MAX");
	else if (level == SOL_SOCKET && (name == SO_SNDBUFFORCE ||
	    name == SO_SNDBUF))
		max = fault_mem_max("FAULT_WMEM_MAX");
	if (max == 0)
		return real(fd, level, name, val, len);
	if (name == SO_RCVBUFFORCE || name == SO_SNDBUFFORCE) {
		errno = EPERM;
		return -1;
	}
	if (len < sizeof(int))
		return real(fd, level, name, val, len);
	memcpy(&capped, val, sizeof(capped));
	if (capped < 0 || (unsigned long)capped > max)
		capped = (int)max;
	return real(fd, level, name, &capped, sizeof(capped));
}
