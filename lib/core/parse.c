/* parse.c: strict, bounds-checked numbers for command-line options. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

static int
parse_digits(const char *s, uint64_t *out, const char **rest)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10) {
			errno = ERANGE;
			return -1;
		}
		v = v * 10 + d;
	}
	*out = v;
	*rest = s;
	return 0;
}

int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *rest;
	uint64_t v;

	errno = EINVAL;
	if (s == NULL || parse_digits(s, &v, &rest) != 0)
		return -1;
	if (*rest != '\0') {
		errno = EINVAL;
		return -1;
	}
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int
parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} units[] = {
		{ "", 0 }, { "K", 10 }, { "KiB", 10 }, { "M", 20 },
		{ "MiB", 20 }, { "G", 30 }, { "GiB", 30 },
	};
	const char *rest;
	uint64_t v;
	size_t i;

	errno = EINVAL;
	if (s == NULL || parse_digits(s, &v, &rest) != 0)
		return -1;
	/* k, m, g too, as pv, dd and rsync take them; never KB (1000?). */
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(rest, units[i].suffix) == 0)
			break;
	}
	if (i == sizeof(units) / sizeof(units[0])) {
		errno = EINVAL;
		return -1;
	}
	if (units[i].shift > 0 && v > (UINT64_MAX >> units[i].shift)) {
		errno = ERANGE;
		return -1;
	}
	v <<= units[i].shift;
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}
