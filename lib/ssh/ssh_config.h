/*
 * ssh_config.h: the few ssh_config(5) keywords that libssh does not
 * read, or reads differently from ssh(1), looked up as ssh(1) does.
 */
#ifndef RCP_SSH_CONFIG_H
#define RCP_SSH_CONFIG_H

#include <stddef.h>

#define SSH_CONFIG_SYSTEM "/etc/ssh/ssh_config"
#define SSH_CONFIG_DEPTH 16	/* Include levels followed */

/*
 * Looks keyword up for host (as the user typed it; hostname is the name
 * after HostName, or NULL for the same) in config, or, when config is
 * NULL, in ~/.ssh/config then SSH_CONFIG_SYSTEM, as ssh(1) reads them:
 * the first value obtained wins; Host blocks match host against their
 * patterns (*, ? and !negation); Include is followed, relative to ~/.ssh
 * or /etc/ssh; Match blocks are judged on all, host (hostname) and
 * originalhost (host), negated or not.  Returns 1 with the first word of
 * the value, lower-cased, in value and the file that set it in where; 2
 * likewise when that value came from a Match block with a criterion we
 * cannot judge (exec, user...), which may or may not apply: the caller
 * must then take the safer choice; 0 when no file sets it.
 */
int ssh_config_lookup(const char *config, const char *host,
    const char *hostname, const char *keyword, char *value, size_t vsize,
    char *where, size_t wsize);

/* Whether pattern (ssh_config's * and ?) matches s, ignoring case. */
int ssh_config_pattern_match(const char *pattern, const char *s);

#endif
