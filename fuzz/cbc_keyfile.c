/*
 * libFuzzer target: the key and IV file parser (lib/cbc/cbc_keyfile.c), on a
 * memfd opened by its /dev/fd path as a user's `-k /dev/fd/N` would be.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cbc.h"
#include "io.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char key[CBC_KEY_LEN];
	struct rcp_error e;
	char path[64];
	int fd, loose;

	if ((fd = memfd_create("key", MFD_CLOEXEC)) < 0)
		abort();
	if (io_write_full(fd, data, size) != 0)
		abort();
	snprintf(path, sizeof(path), "/dev/fd/%d", fd);
	if (cbc_load_file(path, "key", key, &loose, &e) != 0) {
		/* Refusals are configuration errors, never anything else. */
		if (e.status != EXIT_USAGE)
			abort();
	}
	close(fd);
	return 0;
}
