/*
 * resume_digest.c: quic_resume_digest (lib/quic/resume_digest.c) on a
 * real file: "resume_digest FILE LEN" prints the SHA-256 of FILE's
 * first LEN bytes in hex, as sha256sum prints it, for t/unit.bats to
 * compare; or the error's message and status 1.  The file offset is
 * set beforehand and must not move, as the transfer appends there.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "quic.h"

#define START_OFFSET 12345

int
main(int argc, char *argv[])
{
	struct rcp_error e;
	uint8_t md[32];
	uint64_t len;
	size_t i;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: resume_digest FILE LEN\n");
		return 2;
	}
	len = strtoull(argv[2], NULL, 10);
	if ((fd = open(argv[1], O_RDONLY)) < 0 ||
	    lseek(fd, START_OFFSET, SEEK_SET) != START_OFFSET) {
		perror(argv[1]);
		return 2;
	}
	if (quic_resume_digest(fd, len, md, &e) != 0) {
		printf("error %d: %s\n", e.status, e.msg);
		return 1;
	}
	if (lseek(fd, 0, SEEK_CUR) != START_OFFSET) {
		printf("the file offset moved\n");
		return 1;
	}
	for (i = 0; i < sizeof(md); i++)
		printf("%02x", md[i]);
	printf("\n");
	return 0;
}
