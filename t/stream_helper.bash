# Builders for hand-made entropy streams (SPEC §2), as hex, for tests that
# need exact bytes or deliberately broken ones.  Join pieces and feed them
# to `unhex` to get the binary stream.

# u32 N: 8 hex digits, big-endian.
u32() { printf '%08x' "$1"; }

# neg MAGIC CMD N M C: the 20-byte negotiation header.
neg() { printf '%08x%08x%08x%08x%08x' "$1" "$2" "$3" "$4" "$5"; }

# snap L FLAG N: the N-byte snapshot header, reserved bytes zero.
snap() {
	u32 "$1"
	u32 "$2"
	zeros $(($3 - 8))
}

# zeros K: K zero bytes.
zeros() { [ "$1" -gt 0 ] && head -c "$1" /dev/zero | xxd -p | tr -d '\n'; :; }

# chunk HEXPAYLOAD: a length prefix and the payload.
chunk() {
	local hex=$1
	u32 $((${#hex} / 2))
	printf '%s' "$hex"
}

# unhex: hex on stdin to bytes on stdout.
unhex() { tr -d ' \n' | xxd -r -p; }

# A small valid plaintext stream: N=8, M=4, C=20, L=10 in chunks 4,4,2.
small_stream_hex() {
	neg 0x64640001 1 8 4 20
	snap 10 0 8
	chunk 30313233
	chunk 34353637
	chunk 3839
}
