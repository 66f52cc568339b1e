/*
 * quic_addr.c: HOST:PORT operands, port ranges and the ready line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quic.h"


/* Decimal 0..65535 without sign, spaces or leading zeros. */
static int
port_from(const char *s, size_t len, uint16_t *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* A DNS name or IPv4 literal: letters, digits, '.', '-', '_'. */
static int
plain_host_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= QUIC_HOST_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* The inside of [...]: hex digits, ':' and '.' (IPv4-mapped), %zone. */
static int
v6_host_ok(const char *s, size_t len)
{
	size_t i;
	int colons = 0, zone = 0;

	if (len < 2 || len >= QUIC_HOST_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];
		if (zone) {
			if (!plain_host_ok(&s[i], 1))
				return 0;
			continue;
		}
		if (c == ':')
			colons++;
		else if (c == '%' && i > 0 && i + 1 < len)
			zone = 1;
		else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F') || c == '.'))
			return 0;
	}
	return colons >= 2;
}

/*
 * Splits s at its last ':' into host (brackets removed, validated) and
 * port text.  Returns 0, or -1 with *why set.
 */
static int
split_hostport(const char *s, size_t slen, char host[QUIC_HOST_MAX],
    const char **port, size_t *portlen, const char **why)
{
	const char *colon;
	size_t hlen;

	if (s[0] == '[') {
		const char *close = memchr(s, ']', slen);
		if (close == NULL || close + 1 >= s + slen ||
		    close[1] != ':') {
			*why = "expected [ADDRESS]:PORT";
			return -1;
		}
		hlen = (size_t)(close - s - 1);
		if (!v6_host_ok(s + 1, hlen)) {
			*why = "not an IPv6 address inside [ ]";
			return -1;
		}
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		*port = close + 2;
		*portlen = slen - (size_t)(close + 2 - s);
		return 0;
	}
	colon = NULL;
	for (const char *p = s; p < s + slen; p++)
		if (*p == ':') {
			if (colon != NULL) {
				*why = "put an IPv6 address in brackets: "
				    "[ADDRESS]:PORT";
				return -1;
			}
			colon = p;
		}
	if (colon == NULL) {
		*why = "expected HOST:PORT";
		return -1;
	}
	hlen = (size_t)(colon - s);
	if (hlen > 0 && !plain_host_ok(s, hlen)) {
		*why = "not a host name or address";
		return -1;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	*port = colon + 1;
	*portlen = slen - hlen - 1;
	return 0;
}

int
quic_parse_hostport(const char *s, int allow_bare_port,
    char host[QUIC_HOST_MAX], uint16_t *port, struct rcp_error *e)
{
	const char *ptext, *why = NULL;
	size_t plen;

	host[0] = '\0';
	if (allow_bare_port && strchr(s, ':') == NULL && s[0] != '[') {
		if (port_from(s, strlen(s), port) != 0)
			return error_set(e, EXIT_USAGE, "%s: not a port "
			    "(0..65535)", s);
		return 0;
	}
	if (split_hostport(s, strlen(s), host, &ptext, &plen, &why) != 0)
		return error_set(e, EXIT_USAGE, "%s: %s", s, why);
	if (port_from(ptext, plen, port) != 0)
		return error_set(e, EXIT_USAGE, "%s: not a port (0..65535)", s);
	return 0;
}

int
quic_parse_port_ranges(const char *s, struct quic_port_range *r, size_t *n,
    struct rcp_error *e)
{
	const char *p = s;

	*n = 0;
	for (;;) {
		const char *end = p + strcspn(p, ","), *dash;
		struct quic_port_range pr;

		dash = memchr(p, '-', (size_t)(end - p));
		if (dash == NULL) {
			if (port_from(p, (size_t)(end - p), &pr.lo) != 0)
				goto bad;
			pr.hi = pr.lo;
		} else if (port_from(p, (size_t)(dash - p), &pr.lo) != 0 ||
		    port_from(dash + 1, (size_t)(end - dash - 1), &pr.hi) != 0)
			goto bad;
		if (pr.lo == 0 || pr.lo > pr.hi)
			goto bad;
		if (*n == QUIC_PORT_RANGES_MAX)
			return error_set(e, EXIT_USAGE, "--port-range %s: at "
			    "most %d ranges", s, QUIC_PORT_RANGES_MAX);
		r[(*n)++] = pr;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
bad:
	return error_set(e, EXIT_USAGE, "--port-range %s: expected "
	    "LO-HI[,LO-HI...] with 1 <= LO <= HI <= 65535", s);
}

int
quic_ready_format(char *buf, size_t size, const char *host, uint16_t port,
    const char *pin)
{
	int n;

	if (host == NULL || host[0] == '\0')
		return -1;
	if (strchr(host, ':') != NULL)
		n = snprintf(buf, size, QUIC_READY_TAG "[%s]:%u %s", host,
		    (unsigned)port, pin);
	else
		n = snprintf(buf, size, QUIC_READY_TAG "%s:%u %s", host,
		    (unsigned)port, pin);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
quic_ready_parse(const char *line, char host[QUIC_HOST_MAX], uint16_t *port,
    char pin[QUIC_PIN_SIZE], struct rcp_error *e)
{
	const char *p, *sp, *ptext, *why = NULL;
	size_t len = strlen(line), plen, i;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len < sizeof(QUIC_READY_TAG) - 1 ||
	    memcmp(line, QUIC_READY_TAG, sizeof(QUIC_READY_TAG) - 1) != 0)
		return error_set(e, EXIT_FAIL, "not a ready line: "
		    "expected RCP_QUIC HOST:PORT sha256:HEX");
	p = line + sizeof(QUIC_READY_TAG) - 1;
	sp = memchr(p, ' ', len - (size_t)(p - line));
	if (sp == NULL)
		return error_set(e, EXIT_FAIL, "ready line: no fingerprint");
	if (split_hostport(p, (size_t)(sp - p), host, &ptext, &plen,
	    &why) != 0)
		return error_set(e, EXIT_FAIL, "ready line: %s", why);
	if (host[0] == '\0')
		return error_set(e, EXIT_FAIL, "ready line: empty host");
	if (port_from(ptext, plen, port) != 0 || *port == 0)
		return error_set(e, EXIT_FAIL, "ready line: bad port");
	sp++;
	if ((size_t)(line + len - sp) != QUIC_PIN_LEN ||
	    memcmp(sp, QUIC_PIN_PREFIX, 7) != 0)
		return error_set(e, EXIT_FAIL, "ready line: bad fingerprint");
	for (i = 7; i < QUIC_PIN_LEN; i++) {
		char c = sp[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return error_set(e, EXIT_FAIL,
			    "ready line: bad fingerprint");
	}
	memcpy(pin, sp, QUIC_PIN_LEN);
	pin[QUIC_PIN_LEN] = '\0';
	return 0;
}
