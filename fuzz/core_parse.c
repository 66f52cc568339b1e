/*
 * libFuzzer target: the option number parsers (lib/core/parse.c), which
 * every program applies to its command line.  A value accepted is within
 * its bounds and is what the digits (times the suffix) say.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[64], back[32];
	uint64_t v, lo = 1, hi = UINT64_MAX / 3;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (parse_uint(s, lo, hi, &v) == 0) {
		if (v < lo || v > hi || strspn(s, "0123456789") != strlen(s))
			abort();
		snprintf(back, sizeof(back), "%llu", (unsigned long long)v);
		if (strcmp(s + strspn(s, "0"), back) != 0)
			abort();
	} else if (errno != EINVAL && errno != ERANGE) {
		abort();
	}
	if (parse_size(s, lo, hi, &v) == 0) {
		if (v < lo || v > hi || !(s[0] >= '0' && s[0] <= '9'))
			abort();
	} else if (errno != EINVAL && errno != ERANGE) {
		abort();
	}
	return 0;
}
