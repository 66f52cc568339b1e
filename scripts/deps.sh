#!/bin/sh
# Install the Debian packages the build, tests, demo and benchmarks need.
# Idempotent: quiet and quick when everything is present.  On Debian 12 it
# enables bookworm-backports, where ngtcp2 >= 1.x lives.
set -eu

# Packages from the release itself.
base_pkgs="build-essential pkg-config libssl-dev openssl libgnutls28-dev
libssh-dev bats bats-support bats-assert bats-file openssh-server
openssh-client redis-server redis-tools nftables iproute2 mandoc valgrind
xxd time procps hyperfine bc parallel
zsh bash-completion clang netcat-openbsd perl iputils-ping strace attr"
# Packages that must come from backports on Debian 12 (ngtcp2 >= 1.x; the
# example server and client are the second anchor of bench/quic.sh).
quic_pkgs="libngtcp2-dev libngtcp2-crypto-gnutls-dev ngtcp2-server ngtcp2-client"

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi

# libFuzzer's runtime is packaged per clang version (14 on Debian 12).
clang_major=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
fuzz_pkgs="libclang-rt-${clang_major:-14}-dev"

missing=
for p in $base_pkgs $quic_pkgs $fuzz_pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
# ngtcp2 0.x (Debian 12's own) has the pre-1.0 API: treat it as missing.
if dpkg-query -W -f='${Version}' libngtcp2-dev 2>/dev/null | grep -q '^0\.'; then
	missing="$missing $quic_pkgs"
fi
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
backports=
if [ "$codename" = bookworm ]; then
	backports="-t bookworm-backports"
	list=/etc/apt/sources.list.d/bookworm-backports.list
	if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		echo 'deb http://deb.debian.org/debian bookworm-backports main' |
			$SUDO tee "$list" >/dev/null
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $base_pkgs >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $backports $quic_pkgs >/dev/null
clang_major=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends "libclang-rt-$clang_major-dev" >/dev/null
echo "deps: done"
