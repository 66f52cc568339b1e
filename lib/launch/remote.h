/*
 * remote.h: the remote side of rcp-launch's QUIC modes (SPEC §6):
 * the shell scripts that put rcp-quic-send or rcp-quic-recv beside the
 * user's command, and the control lines those scripts send back.
 *
 * Every script is POSIX sh, run by the remote login shell behind
 * ssh_job's guard (ssh_job_start), which has put the job's secret in the
 * unexported variable SSH_JOB_SECRET_VAR.  The user's command runs as
 * ssh runs one, "$SHELL -c COMMAND", from a subshell without that
 * variable, so that "exit 7" ends only it, a syntax error in it is its
 * own, and nothing it runs can learn the secret.  The script's
 * control lines go to stderr as ssh_job describes ("RCP_LAUNCH SECRET
 * TEXT"); ssh_remote_control reads TEXT:
 *
 *   status N        the user's command (COMMAND, PRODUCER or CONSUMER)
 *                   exited with N (128+S for signal S)
 *   quic N          the rcp-quic-* program exited with N
 *   RCP_QUIC ...    a listener's ready line, which the program writes to
 *                   a pipe of the script's (--ready-fd), never to stderr
 *
 * A listener binds the address the SSH connection arrived on (the third
 * word of SSH_CONNECTION), or every address when that is unset.
 *
 *   SSH_REMOTE_PULL  { (COMMAND); report } | { rcp-quic-send --listen
 *                    ADDR:0 --peer-pin PIN; report }  (also --from SRC)
 *   SSH_REMOTE_PUSH  { rcp-quic-recv --listen ADDR:0 --peer-pin PIN;
 *                    report } | { (COMMAND); report }
 *   SSH_REMOTE_TO    reads "HOST:PORT PIN" and then the PEM identity
 *                    from its stdin, then { rcp-quic-recv --connect
 *                    HOST:PORT --pin PIN --identity /dev/fd/3 3<&0;
 *                    report } | { (CONSUMER); report }.  EOF before
 *                    the first line ends it at once, status 0, and
 *                    CONSUMER never runs.
 */
#ifndef RCP_LAUNCH_REMOTE_H
#define RCP_LAUNCH_REMOTE_H

#include <stdint.h>

#define SSH_REMOTE_STATUS "status "
#define SSH_REMOTE_QUIC "quic "
/* Control lines each script sends on stderr. */
#define SSH_REMOTE_CONTROLS_LISTEN 3	/* ready line, two statuses */
#define SSH_REMOTE_CONTROLS_TO 2

enum ssh_remote_kind { SSH_REMOTE_PULL, SSH_REMOTE_PUSH, SSH_REMOTE_TO };

struct ssh_remote_spec {
	enum ssh_remote_kind kind;
	const char *command;	/* the user's words, joined */
	const char *bin_dir;	/* --remote-bin, or NULL: the remote PATH */
	const char *peer_pin;	/* listeners: the pin of our identity */
	const char *port_range;	/* listeners: --port-range, or NULL */
	unsigned connect_timeout;	/* SSH_REMOTE_TO: 0 = default */
	int progress;		/* SSH_REMOTE_TO: --progress remotely */
	uint64_t limit_rate;	/* SSH_REMOTE_PULL: --limit-rate, 0: none */
	unsigned connections;	/* SSH_REMOTE_PULL: --connections, 0: auto */
	/* SSH_REMOTE_PUSH: the receiver writes this file (-o), and no
	 * command runs; or NULL.  resume: with --resume. */
	const char *output;
	int resume;
};

/*
 * The script body (for ssh_job_start).  Caller frees.  NULL
 * on allocation failure.
 */
char *ssh_remote_script(const struct ssh_remote_spec *s);

/*
 * s in single quotes for a POSIX shell ("'" becomes '\'').  A leading
 * "~/" stays outside the quotes as "$HOME"/, so --remote-bin '~/bin'
 * works as a user expects.  Caller frees; NULL when out of memory.
 */
char *ssh_shell_quote(const char *s, int expand_home);

/*
 * Recognises a status control line's TEXT.  Returns 1 with *status for
 * "status N", 2 for "quic N", 0 for anything else (including a
 * malformed number).
 */
int ssh_remote_control(const char *line, int *status);

#endif
