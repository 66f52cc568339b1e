/*
 * frame_write.c: producing the entropy stream, and knowing its length
 * before the first byte goes out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/be.h"
#include "frame.h"
#include "io.h"
#include "progress.h"

/* Where frame_write_chunks is, for its messages. */
struct frame_writer {
	int in_fd, out_fd;
	const char *in, *sep;	/* "FILE", ": "; stdin goes unnamed */
	const char *out_name;
	uint32_t total_len;
	uint64_t done;		/* payload bytes written so far */
	struct progress *p;
	struct rcp_error *e;
};

/* A read error (before_error bytes into this read), or a short input. */
static int
frame_input_fault(struct frame_writer *w, ssize_t got, size_t before_error)
{
	if (got < 0)
		return error_set_errno(w->e, EXIT_FAIL, "%s%sread error after %"
		    PRIu64 " bytes", w->in, w->sep, w->done + before_error);
	return error_set(w->e, EXIT_DATA, "%s%sinput ended early: %" PRIu64
	    " of %" PRIu32 " bytes", w->in, w->sep, w->done + (uint64_t)got,
	    w->total_len);
}

static int
frame_output_fault(struct frame_writer *w)
{
	return error_set_errno(w->e, EXIT_FAIL, "%s: write error",
	    w->out_name);
}

static void
frame_written(struct frame_writer *w, uint64_t n)
{
	w->done += n;
	if (w->p != NULL)
		progress_add(w->p, n);
}

/* Copies exactly n payload bytes by read and write, through buf. */
static int
frame_copy(struct frame_writer *w, uint64_t n, unsigned char *buf,
    size_t bufsize)
{
	while (n > 0) {
		size_t want = n < bufsize ? (size_t)n : bufsize;
		size_t partial = 0;
		ssize_t got = io_read_full(w->in_fd, buf, want, &partial);

		if (got < 0 || (size_t)got < want)
			return frame_input_fault(w, got, partial);
		if (io_write_full(w->out_fd, buf, want) != 0)
			return frame_output_fault(w);
		frame_written(w, want);
		n -= want;
	}
	return 0;
}

/*
 * The fast path: each chunk's prefix by write(2), its payload moved from
 * in_fd to out_fd by splice(2), never copied through our memory (from a
 * file into a pipe the pipe takes references to the page cache).  When
 * splice is refused, the chunk it began is finished by frame_copy and 0
 * is returned at that chunk boundary, with w->done short of total_len:
 * the caller frames the rest by read and write.  Returns 0, or -1 (e).
 */
static int
frame_splice_chunks(struct frame_writer *w, uint32_t buffer_size,
    unsigned char *buf, size_t bufsize)
{
	unsigned char prefix[4];

	while (w->done < w->total_len) {
		uint64_t left = w->total_len - w->done;
		uint32_t n = left < buffer_size ? (uint32_t)left : buffer_size;
		uint32_t moved = 0;

		be32_put(prefix, n);
		if (io_write_full(w->out_fd, prefix, sizeof(prefix)) != 0)
			return frame_output_fault(w);
		while (moved < n) {
			ssize_t r = io_splice_some(w->in_fd, w->out_fd,
			    n - moved);

			if (r < 0)
				return frame_copy(w, n - moved, buf, bufsize);
			if (r == 0)
				return frame_input_fault(w, 0, 0);
			moved += (uint32_t)r;
			frame_written(w, (uint64_t)r);
		}
	}
	return 0;
}

int
frame_write_chunks(int in_fd, const char *in_name, int out_fd,
    const char *out_name, uint32_t buffer_size, uint32_t total_len,
    int splice, struct progress *p, struct rcp_error *e)
{
	struct frame_writer w = {
		.in_fd = in_fd, .out_fd = out_fd,
		.in = in_name != NULL ? in_name : "",
		.sep = in_name != NULL ? ": " : "",
		.out_name = out_name, .total_len = total_len, .p = p, .e = e,
	};
	/* Read whole multiples of M so that only the last chunk is short. */
	size_t batch = FRAME_READ_BUF / buffer_size;
	size_t bufsize, i, nchunks;
	unsigned char *buf = NULL, *prefixes = NULL, extra;
	struct iovec *iov = NULL;
	int rc = -1;

	if (batch == 0)
		batch = 1;
	bufsize = batch * buffer_size;
	buf = malloc(bufsize);
	prefixes = malloc(batch * 4);
	iov = calloc(batch * 2, sizeof(*iov));
	if (buf == NULL || prefixes == NULL || iov == NULL) {
		error_set_errno(e, EXIT_FAIL, "cannot allocate buffers");
		goto out;
	}
	if (splice && buffer_size >= FRAME_SPLICE_MIN &&
	    io_splice_candidate(in_fd, out_fd) &&
	    frame_splice_chunks(&w, buffer_size, buf, bufsize) != 0)
		goto out;
	while (w.done < total_len) {
		uint64_t left = total_len - w.done;
		size_t want = left < bufsize ? (size_t)left : bufsize;
		size_t partial = 0;
		ssize_t got = io_read_full(in_fd, buf, want, &partial);

		if (got < 0 || (size_t)got < want) {
			frame_input_fault(&w, got, partial);
			goto out;
		}
		nchunks = 0;
		for (i = 0; i < want; i += buffer_size) {
			size_t n = want - i < buffer_size ? want - i :
			    buffer_size;
			be32_put(prefixes + 4 * nchunks, (uint32_t)n);
			iov[2 * nchunks].iov_base = prefixes + 4 * nchunks;
			iov[2 * nchunks].iov_len = 4;
			iov[2 * nchunks + 1].iov_base = buf + i;
			iov[2 * nchunks + 1].iov_len = n;
			nchunks++;
		}
		if (io_writev_full(out_fd, iov, (int)(2 * nchunks)) != 0) {
			frame_output_fault(&w);
			goto out;
		}
		frame_written(&w, want);
	}
	/* The input must end where total_len says it does. */
	switch (io_read_some(in_fd, &extra, 1)) {
	case 0:
		rc = 0;
		break;
	case -1:
		error_set_errno(e, EXIT_FAIL, "%s%sread error after %" PRIu32
		    " bytes", w.in, w.sep, total_len);
		break;
	default:
		error_set(e, EXIT_DATA, "%s%sinput continues past %" PRIu32
		    " bytes", w.in, w.sep, total_len);
		break;
	}
out:
	free(buf);
	free(prefixes);
	free(iov);
	return rc;
}

static int
frame_spool_open(struct rcp_error *e)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	size_t len;
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* No O_TMPFILE on this file system: create, then unlink at once. */
	len = strlen(dir) + sizeof("/entropy-spool.XXXXXX");
	if ((path = malloc(len)) == NULL)
		return error_set_errno(e, EXIT_FAIL, "spool file");
	snprintf(path, len, "%s/entropy-spool.XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		error_set_errno(e, EXIT_FAIL, "cannot create spool file in %s",
		    dir);
	} else {
		unlink(path);
	}
	free(path);
	return fd;
}

int
frame_spool(int in_fd, int splice, int *spool_fd, uint64_t *len,
    struct progress *p, struct rcp_error *e)
{
	unsigned char *buf;
	uint64_t total = 0;
	int fd;

	if ((fd = frame_spool_open(e)) < 0)
		return -1;
	if ((buf = malloc(FRAME_READ_BUF)) == NULL) {
		close(fd);
		return error_set_errno(e, EXIT_FAIL, "cannot allocate buffer");
	}
	splice = splice && io_splice_candidate(in_fd, fd);
	for (;;) {
		ssize_t n;

		/* Refused, splice leaves the bytes to read(2), and its fault. */
		if (splice && (n = io_splice_some(in_fd, fd,
		    FRAME_READ_BUF)) < 0)
			splice = 0;
		if (!splice)
			n = io_read_some(in_fd, buf, FRAME_READ_BUF);
		if (n < 0) {
			error_set_errno(e, EXIT_FAIL, "read error after %"
			    PRIu64 " bytes", total);
			goto fail;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (total > FRAME_TOTAL_MAX) {
			error_set(e, EXIT_DATA, "input exceeds the format's "
			    "limit of %u bytes", FRAME_TOTAL_MAX);
			goto fail;
		}
		if (!splice && io_write_full(fd, buf, (size_t)n) != 0) {
			error_set_errno(e, EXIT_FAIL, "spool file write error");
			goto fail;
		}
		progress_add(p, (uint64_t)n);
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		error_set_errno(e, EXIT_FAIL, "spool file seek");
		goto fail;
	}
	free(buf);
	*spool_fd = fd;
	*len = total;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}
