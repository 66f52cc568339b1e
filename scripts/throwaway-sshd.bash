# A throwaway sshd on a loopback port, with its own host key, a user key
# made for the test and a private HOME, so the real ~/.ssh is never read
# or written.  Shared by the tests (load after test_helper; sshd_start in
# setup_file, sshd_stop in teardown_file), bench/ and the demo.
#
# After sshd_start:
#   SSHD_DIR      keys, config, pid file, log
#   SSHD_PORT     the port it listens on (127.0.0.1)
#   SSHD_HOSTKEY  the host public key file
#   HOME          a temp home whose .ssh holds id_ed25519 (authorized),
#                 known_hosts (with the host key) and config, which
#                 defines "Host testhost", "db1" and "db2" -> 127.0.0.1:SSHD_PORT, user root
#   SSH_AUTH_SOCK unset
# SSHD_EXTRA_CONFIG, if set, is appended to the sshd configuration (e.g.
# "SetEnv PATH=..." so that remote commands find the programs).

declare -F free_port >/dev/null ||
    . "$(dirname "${BASH_SOURCE[0]}")/common.bash"

# sshd_config_text PORT ADDR DIR AUTHORIZED_KEYS: the configuration of a
# throwaway sshd whose host key, pid file and so on live in DIR.
sshd_config_text() {
	cat <<-EOF
	Port $1
	ListenAddress $2
	HostKey $3/host_key
	PidFile $3/sshd.pid
	AuthorizedKeysFile $4
	StrictModes no
	UsePAM no
	PermitRootLogin prohibit-password
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PubkeyAuthentication yes
	PermitUserRC no
	PrintMotd no
	MaxSessions 20
	MaxStartups 50
	LogLevel ERROR
	EOF
	# OpenSSH 9.8 and later penalise a source whose connections end
	# before authenticating, which tests do on purpose (a client killed
	# at any moment of its start): then 127.0.0.1 itself is refused.
	# Older versions do not know the keyword.
	local v
	v=$(ssh -V 2>&1 | sed -n 's/^OpenSSH_\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
	if [ -n "$v" ] && { [ "${v% *}" -gt 9 ] ||
	    { [ "${v% *}" -eq 9 ] && [ "${v#* }" -ge 8 ]; }; }; then
		echo "PerSourcePenalties no"
	fi
}

# sshd_user_home DIR AUTHORIZED_KEYS: HOME becomes DIR, with no agent
# and a user key made for the test in DIR/.ssh, authorized in
# AUTHORIZED_KEYS: the real ~/.ssh is never read or written.
sshd_user_home() {
	HOME="$1"
	export HOME
	unset SSH_AUTH_SOCK SSH_AGENT_PID
	mkdir -p "$HOME/.ssh"
	chmod 700 "$HOME/.ssh"
	ssh-keygen -q -t ed25519 -N '' -C rcp-test-user -f "$HOME/.ssh/id_ed25519"
	cp "$HOME/.ssh/id_ed25519.pub" "$2"
}

# sshd_hermetic CMD...: execs CMD (an sshd, perhaps behind ip netns exec)
# in a mount namespace of its own where the login user's shell startup
# files (~/.bashrc, which bash reads for sshd's commands, and ~/.zshenv)
# are empty: remote commands then see none of the machine's dotfiles,
# which may print, or race with other tests' shells over their caches
# (pyenv's rehash).  Without root or unshare(1), CMD runs as it is.
sshd_hermetic() {
	local home
	home=$(getent passwd "$(id -un)" | cut -d: -f6)
	if [ "$(id -u)" -eq 0 ] && [ -d "$home" ] && command -v unshare >/dev/null; then
		exec unshare --mount --propagation private -- sh -c '
		    for f in "$1/.bashrc" "$1/.zshenv"; do
			[ -f "$f" ] && mount --bind /dev/null "$f"
		    done
		    shift
		    exec "$@"' sh "$home" "$@"
	fi
	exec "$@"
}

sshd_start() {
	local base="${1:-$BATS_FILE_TMPDIR}" try port pid i
	SSHD_DIR="$base/sshd"
	export SSHD_DIR
	mkdir -p "$SSHD_DIR" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -C rcp-test-host -f "$SSHD_DIR/host_key"
	SSHD_HOSTKEY="$SSHD_DIR/host_key.pub"
	export SSHD_HOSTKEY

	sshd_user_home "$base/home" "$SSHD_DIR/authorized_keys"

	for try in $(seq 1 30); do
		port=$(free_port tcp) || port=$((20000 + (RANDOM * 7 + try) % 30000))
		{
			sshd_config_text "$port" 127.0.0.1 "$SSHD_DIR" \
			    "$SSHD_DIR/authorized_keys"
			echo "${SSHD_EXTRA_CONFIG:-}"
		} >"$SSHD_DIR/sshd_config"
		: >"$SSHD_DIR/log"
		sshd_hermetic /usr/sbin/sshd -D -e -f "$SSHD_DIR/sshd_config" \
		    2>"$SSHD_DIR/log" &
		pid=$!
		# sshd -D -e says nothing at LogLevel ERROR once bound: wait
		# until the port answers, or the process gives up.
		for i in $(seq 1 100); do
			if ! kill -0 "$pid" 2>/dev/null; then
				break
			fi
			if [ -s "$SSHD_DIR/sshd.pid" ] &&
			    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				SSHD_PORT=$port
				SSHD_PID=$pid
				export SSHD_PORT SSHD_PID
				sshd_write_client_files
				return 0
			fi
			sleep 0.05
		done
		# It may have exited already (another process took the port):
		# under bats' errexit a failed kill must not end the retries.
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	echo "sshd_start: could not start sshd: $(cat "$SSHD_DIR/log")" >&2
	return 1
}

sshd_write_client_files() {
	printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" \
	    "$(cut -d' ' -f1,2 "$SSHD_HOSTKEY")" >"$HOME/.ssh/known_hosts"
	cat >"$HOME/.ssh/config" <<-EOF
	Host testhost db1 db2
	    HostName 127.0.0.1
	    Port $SSHD_PORT
	    User root
	    IdentityFile $HOME/.ssh/id_ed25519
	    UserKnownHostsFile $HOME/.ssh/known_hosts
	EOF
}

sshd_stop() {
	if [ -n "${SSHD_PID:-}" ]; then
		kill "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
	fi
	return 0
}

# sshd_netns_start NS ADDR DIR NAME AUTHORIZED_KEYS: an sshd inside the
# network namespace NS on ADDR:22, its host key, configuration and log in
# DIR, whose remote commands find this tree's programs first.  Waits
# until it answers, records its host key for "NAME,ADDR" in
# $HOME/.ssh/known_hosts and sets SSHD_NETNS_PID.
sshd_netns_start() {
	local ns=$1 addr=$2 d=$3 name=$4 auth=$5 top pid i
	top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N '' -C "rcp-test-$name" -f "$d/host_key"
	{
		sshd_config_text 22 "$addr" "$d" "$auth"
		echo "SetEnv PATH=$top/bin:/usr/local/bin:/usr/bin:/bin"
	} >"$d/sshd_config"
	sshd_hermetic ip netns exec "$ns" /usr/sbin/sshd -D -e \
	    -f "$d/sshd_config" 2>"$d/log" 3>&- &
	pid=$!
	SSHD_NETNS_PID=$pid
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		if ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$addr/22" 2>/dev/null; then
			printf '%s,%s %s\n' "$name" "$addr" \
			    "$(cut -d' ' -f1,2 "$d/host_key.pub")" \
			    >>"$HOME/.ssh/known_hosts"
			return 0
		fi
		sleep 0.1
	done
	echo "sshd in $ns did not start: $(cat "$d/log")" >&2
	return 1
}
