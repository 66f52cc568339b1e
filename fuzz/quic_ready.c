/*
 * libFuzzer target: the ready-line parser (lib/quic/quic_addr.c) that
 * rcp-launch applies to what comes back over SSH, plus the host:port and
 * port-range parsers.  A line that parses must format back to a line that
 * parses to the same values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quic.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[1024], again[QUIC_READY_MAX + 8];
	char host[QUIC_HOST_MAX], host2[QUIC_HOST_MAX];
	char pin[QUIC_PIN_SIZE], pin2[QUIC_PIN_SIZE];
	struct quic_port_range ranges[QUIC_PORT_RANGES_MAX];
	struct rcp_error e;
	uint16_t port, port2;
	size_t n;

	if (size >= sizeof(line))
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';

	if (quic_ready_parse(line, host, &port, pin, &e) == 0) {
		if (port == 0 || strlen(pin) != QUIC_PIN_LEN)
			abort();
		if (quic_ready_format(again, sizeof(again), host, port,
		    pin) != 0)
			abort();
		if (quic_ready_parse(again, host2, &port2, pin2, &e) != 0 ||
		    strcmp(host, host2) != 0 || port != port2 ||
		    strcmp(pin, pin2) != 0)
			abort();
	} else if (e.status != EXIT_FAIL) {
		abort();
	}
	(void)quic_parse_hostport(line, 1, host, &port, &e);
	if (quic_parse_port_ranges(line, ranges, &n, &e) == 0) {
		if (n == 0 || n > QUIC_PORT_RANGES_MAX)
			abort();
		for (size_t i = 0; i < n; i++)
			if (ranges[i].lo == 0 || ranges[i].lo > ranges[i].hi)
				abort();
	}
	(void)quic_pin_parse(line, pin, &e);
	return 0;
}
