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

int
frame_write_chunks(int in_fd, const char *in_name, int out_fd,
    const char *out_name, uint32_t buffer_size, uint32_t total_len,
    struct progress *p, struct rcp_error *e)
{
	/* Each message names the side it is about; stdin goes unnamed. */
	const char *in = in_name != NULL ? in_name : "";
	const char *sep = in_name != NULL ? ": " : "";
	/* Read whole multiples of M so that only the last chunk is short. */
	size_t batch = FRAME_READ_BUF / buffer_size;
	size_t bufsize, i, nchunks;
	unsigned char *buf = NULL, *prefixes = NULL, extra;
	struct iovec *iov = NULL;
	uint64_t left = total_len;
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
	while (left > 0) {
		size_t want = left < bufsize ? (size_t)left : bufsize;
		size_t partial = 0;
		ssize_t got = io_read_full(in_fd, buf, want, &partial);

		if (got < 0) {
			error_set_errno(e, EXIT_FAIL, "%s%sread error after %"
			    PRIu64 " bytes", in, sep, (uint64_t)total_len -
			    left + partial);
			goto out;
		}
		if ((size_t)got < want) {
			error_set(e, EXIT_DATA, "%s%sinput ended early: %"
			    PRIu64 " of %" PRIu32 " bytes", in, sep,
			    (uint64_t)total_len - left + (uint64_t)got,
			    total_len);
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
			error_set_errno(e, EXIT_FAIL, "%s: write error",
			    out_name);
			goto out;
		}
		left -= want;
		if (p != NULL)
			progress_add(p, want);
	}
	/* The input must end where total_len says it does. */
	switch (io_read_some(in_fd, &extra, 1)) {
	case 0:
		rc = 0;
		break;
	case -1:
		error_set_errno(e, EXIT_FAIL, "%s%sread error after %" PRIu32
		    " bytes", in, sep, total_len);
		break;
	default:
		error_set(e, EXIT_DATA, "%s%sinput continues past %" PRIu32
		    " bytes", in, sep, total_len);
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
frame_spool(int in_fd, int *spool_fd, uint64_t *len, struct progress *p,
    struct rcp_error *e)
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
	for (;;) {
		ssize_t n = io_read_some(in_fd, buf, FRAME_READ_BUF);

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
		if (io_write_full(fd, buf, (size_t)n) != 0) {
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
