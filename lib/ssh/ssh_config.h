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
 * Looks keyword up for host (as the user typed it) in config, or, when
 * config is NULL, in ~/.ssh/config then SSH_CONFIG_SYSTEM, as ssh(1)
 * reads them: the first value obtained wins; Host blocks match host
 * against their patterns (*, ? and !negation); Include is followed,
 * relative to ~/.ssh or /etc/ssh.  A Match block applies when its
 * criteria are only "all", "host" and "originalhost" and they match:
 * any other criterion (exec, user...) makes it not apply, which can
 * only leave a default in force.  Returns 1 with the first word of the
 * value, lower-cased, in value and the file that set it in where; 0
 * when no file sets it.
 */
int ssh_config_lookup(const char *config, const char *host,
    const char *keyword, char *value, size_t vsize, char *where,
    size_t wsize);

/* Whether pattern (ssh_config's * and ?) matches s, ignoring case. */
int ssh_config_pattern_match(const char *pattern, const char *s);

#endif
