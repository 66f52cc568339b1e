/*
 * sockbuf_advice.c: the policy of the warning about a socket buffer the
 * kernel capped (ep_sockbuf_advice, lib/quic/udp.c), as a table: the
 * buffer granted (in setsockopt's units, net.core.[rw]mem_max's), the
 * path's minimum round trip, and the warning each must give, word for
 * word, or none.  Run by t/unit.bats; prints one line per failure and a
 * count.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "quic/quic_ep.h"

#define MS 1000000ull		/* ns */
#define NONE UINT64_MAX		/* no round trip measured */

static const struct {
	int is_sender;
	unsigned granted;
	uint64_t min_rtt;
	const char *want;	/* NULL: no warning */
} cases[] = {
	/* Unknown, or all we asked for (root's SO_RCVBUFFORCE). */
	{ 0, 0, 40 * MS, NULL },
	{ 0, 8u << 20, 40 * MS, NULL },
	{ 0, 8u << 20, 1000 * MS, NULL },
	{ 0, 212992, NONE, NULL },
	/*
	 * Debian's default rmem_max: a LAN is not judged, though 208 KiB
	 * holds only 1.7 ms of 1 Gbit/s; long paths from 10 ms on are.
	 */
	{ 0, 212992, MS / 10, NULL },
	{ 0, 212992, 1 * MS, NULL },
	{ 0, 212992, 1800000, NULL },
	{ 0, 212992, 9999999, NULL },
	{ 0, 212992, 10 * MS, "warning: UDP receive buffer capped at 208 KiB "
	    "by net.core.rmem_max, below the 1.2 MiB that 1 Gbit/s needs at "
	    "this path's 10.0 ms round trip; for full speed: sysctl -w "
	    "net.core.rmem_max=8388608" },
	{ 0, 1250000, 10 * MS, NULL },	/* exactly the need */
	{ 0, 1249999, 10 * MS, "warning: UDP receive buffer capped at 1.2 MiB "
	    "by net.core.rmem_max, below the 1.2 MiB that 1 Gbit/s needs at "
	    "this path's 10.0 ms round trip; for full speed: sysctl -w "
	    "net.core.rmem_max=8388608" },
	{ 0, 212992, 40 * MS, "warning: UDP receive buffer capped at 208 KiB "
	    "by net.core.rmem_max, below the 4.8 MiB that 1 Gbit/s needs at "
	    "this path's 40.0 ms round trip; for full speed: sysctl -w "
	    "net.core.rmem_max=8388608" },
	/* 4 MiB holds 33 ms; beyond 67 ms the need is our whole wish. */
	{ 0, 4u << 20, 30 * MS, NULL },
	{ 0, 4u << 20, 40 * MS, "warning: UDP receive buffer capped at 4.0 MiB "
	    "by net.core.rmem_max, below the 4.8 MiB that 1 Gbit/s needs at "
	    "this path's 40.0 ms round trip; for full speed: sysctl -w "
	    "net.core.rmem_max=8388608" },
	{ 0, 4u << 20, 250 * MS, "warning: UDP receive buffer capped at 4.0 "
	    "MiB by net.core.rmem_max, below the 8.0 MiB that 1 Gbit/s needs "
	    "at this path's 250.0 ms round trip; for full speed: sysctl -w "
	    "net.core.rmem_max=8388608" },
	/* Sending needs two GSO batches, whatever the path. */
	{ 1, 212992, 250 * MS, NULL },
	{ 1, 130000, NONE, NULL },
	{ 1, 65536, NONE, "warning: UDP send buffer capped at 64 KiB by "
	    "net.core.wmem_max, below the 126 KiB sending needs; for full "
	    "speed: sysctl -w net.core.wmem_max=8388608" },
	{ 1, 0, NONE, NULL },
};

int
main(void)
{
	int checks = 0, failures = 0;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[512] = "";
		int got = ep_sockbuf_advice(cases[i].is_sender,
		    cases[i].granted, cases[i].min_rtt, buf, sizeof(buf));

		checks++;
		if (cases[i].want == NULL ? got != 0 : got != 1 ||
		    strcmp(buf, cases[i].want) != 0) {
			failures++;
			printf("FAIL case %zu: got %d \"%s\"\n", i, got, buf);
		}
	}
	printf("%d checks, %d failed\n", checks, failures);
	return failures != 0;
}
