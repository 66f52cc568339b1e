/*
 * known_hosts.h: what libssh leaves out of known_hosts(5) handling:
 * "@revoked" lines (libssh skips every line that starts with "@") and
 * hashed host names in a line we record (HashKnownHosts yes).
 */
#ifndef RCP_KNOWN_HOSTS_H
#define RCP_KNOWN_HOSTS_H

#include <libssh/libssh.h>

#include "rcp.h"

/*
 * Whether file has an "@revoked" line for key, whatever its host
 * patterns say (a revoked key is refused for every host).  Returns the
 * line's number, or 0 (no such line, or no file).
 */
int known_hosts_revoked(const char *file, ssh_key key);

/*
 * The number of the first line of file that records a key for the
 * session's host (as known_hosts names it: "[host]:port" off port 22,
 * copied into host), 0 when none does.  For the hint that names the
 * line to remove, as ssh(1) does.
 */
int known_hosts_line_of(ssh_session s, const char *file, char *host,
    size_t hsize);

/*
 * Appends the session's host key to file as ssh(1) does with
 * HashKnownHosts yes: the host field is "|1|" base64(salt) "|"
 * base64(HMAC-SHA1(salt, host)).  Creates file (0600) and its
 * directory (0700) when missing.  Returns 0, or -1 with e.
 */
int known_hosts_append_hashed(ssh_session s, const char *file,
    struct rcp_error *e);

#endif
