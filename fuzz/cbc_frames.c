/*
 * libFuzzer target: the frames decryptor (lib/cbc/cbc_frames.c) on an
 * arbitrary stream, single-threaded and with 2 workers; both must agree
 * on success or failure and on the status.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cbc.h"
#include "io.h"
#include "progress.h"

static const unsigned char key[CBC_KEY_LEN] = "0123456789abcdef";
static const unsigned char iv[CBC_KEY_LEN] = "fedcba9876543210";

static int
decrypt_with(const uint8_t *data, size_t size, unsigned threads, int sink,
    struct rcp_error *e)
{
	struct progress p;
	int fd, rc;

	if ((fd = memfd_create("frames", MFD_CLOEXEC)) < 0)
		abort();
	if (io_write_full(fd, data, size) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	progress_init(&p, NULL, 0, 0);
	rc = cbc_frames(fd, sink, 1, key, iv, threads, &p, e);
	close(fd);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int sink = -1;
	struct rcp_error e1, e2;
	int r1, r2;

	if (sink < 0 && (sink = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		abort();
	r1 = decrypt_with(data, size, 1, sink, &e1);
	r2 = decrypt_with(data, size, 2, sink, &e2);
	if (r1 != r2 || (r1 != 0 && e1.status != e2.status))
		abort();
	return 0;
}
