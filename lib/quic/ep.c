/*
 * ep.c: the endpoint's failures (the first one wins; the peer is told
 * with CONNECTION_CLOSE), its log, addresses and the clock.
 */
#define _GNU_SOURCE
#include "quic_ep.h"

ngtcp2_tstamp
ep_now(void)
{
	return (ngtcp2_tstamp)clock_now_ns();	/* NGTCP2_SECONDS is 1e9 */
}

void
ep_log(struct ep *ep, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (ep->o->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ep->o->log(ep->o->log_arg, msg);
}

/* Records the first failure; later ones are consequences. */
void
ep_fail(struct ep *ep, int status, const char *fmt, ...)
{
	va_list ap;

	if (ep->failed)
		return;
	ep->failed = 1;
	if (ep->e != NULL) {
		ep->e->status = status;
		va_start(ap, fmt);
		vsnprintf(ep->e->msg, sizeof(ep->e->msg), fmt, ap);
		va_end(ap);
	}
}

/* CONNECTION_CLOSE with an application error code and a reason. */
static void
ep_close_app(struct ep *ep, uint64_t code, const char *reason)
{
	size_t len = strnlen(reason, REASON_MAX);

	/* The reason travels in one packet: keep it short. */
	memcpy(ep->close.reason, reason, len);
	ep->close.reason[len] = '\0';
	ngtcp2_ccerr_set_application_error(&ep->close.ccerr, code,
	    (const uint8_t *)ep->close.reason, strlen(ep->close.reason));
	ep->close.pending = 1;
}

/* The first failure, ours in fmt's words, the peer's in told's (NULL:
 * the same words). */
static void
ep_vfail_told(struct ep *ep, uint64_t code, int status, const char *told,
    const char *fmt, va_list ap)
{
	char msg[512];

	if (ep->failed)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	ep_fail(ep, status, "%s", msg);
	ep_close_app(ep, code, told != NULL ? told : msg);
}

/* Fails the transfer and tells the peer why, in the same words. */
void
ep_fail_app(struct ep *ep, uint64_t code, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ep_vfail_told(ep, code, status, NULL, fmt, ap);
	va_end(ap);
}

/*
 * Fails the transfer with our own message, and tells the peer why in
 * its terms (told): "stdout: write error" means nothing over there.
 */
void
ep_fail_told(struct ep *ep, uint64_t code, int status, const char *told,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ep_vfail_told(ep, code, status, told, fmt, ap);
	va_end(ap);
}

void
ep_addr_text(const sockaddr_u *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	const void *p;
	unsigned port;

	if (a->sa.sa_family == AF_INET6) {
		p = &a->in6.sin6_addr;
		port = ntohs(a->in6.sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr)) {
			inet_ntop(AF_INET, &a->in6.sin6_addr.s6_addr[12],
			    host, sizeof(host));
			snprintf(buf, size, "%s:%u", host, port);
			return;
		}
		inet_ntop(AF_INET6, p, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, port);
	} else {
		inet_ntop(AF_INET, &a->in.sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(a->in.sin_port));
	}
}

int
ep_addr_eq(const sockaddr_u *a, const sockaddr_u *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return 0;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_port == b->in.sin_port &&
		    a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	return a->in6.sin6_port == b->in6.sin6_port &&
	    memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
}
