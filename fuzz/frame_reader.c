/*
 * libFuzzer target: the entropy stream reader (lib/frame/frame_read.c), driven the
 * way entropy-unframe drives it, plain relay and --inspect both, on bytes
 * served from a memfd so the real read path runs.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "frame.h"
#include "io.h"

static int
fd_with(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (io_write_full(fd, data, size) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

static void
run_reader(const uint8_t *data, size_t size, int inspect, int sink)
{
	struct frame_reader r;
	struct frame_header h;
	struct rcp_error e;
	int fd = fd_with(data, size);

	if (frame_reader_init(&r, fd) != 0)
		abort();
	if (frame_read_header(&r, &h, NULL, &e) == 0) {
		if (inspect || h.encrypted)
			(void)frame_inspect(&r, NULL, &e);
		else
			(void)frame_relay_plain(&r, sink, "sink", NULL, &e);
		/* Whatever happened, the reader never carries more than L. */
		if (r.carried > h.total_len)
			abort();
	}
	frame_reader_free(&r);
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int sink = -1;

	if (sink < 0 && (sink = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		abort();
	run_reader(data, size, 0, sink);
	run_reader(data, size, 1, sink);
	return 0;
}
