#!/usr/bin/env bash
# hull pull against a registry that misbehaves on purpose
# (tests/e2e/hostile_registry.py, reached over HTTPS as an insecure
# registry): a blob redirect from HTTPS to plain HTTP is refused and nothing
# is fetched over HTTP (HTTPS to HTTPS is followed); a layer longer than the
# size its manifest declares is refused, with and without a Content-Length,
# and nothing of it is stored. The registry client is hull-fetch, a child
# without privileges, under a seccomp filter and resource caps
# (docs/security.md, "Pulling"): checked from /proc while it waits for a
# manifest. No VM is booted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry.sh" # reg_pids, registry_stop on exit, wait_file
lib=$(cd "$(dirname "$0")/../lib" && pwd)

# a one-layer image with unique, incompressible content
mkdir -p "$tmp/l"
head -c 65536 /dev/urandom >"$tmp/l/data"
tar -C "$tmp/l" -cf "$tmp/l.tar" data
"$lib/mkoci.sh" "$tmp/img" '{"Cmd":["sh"]}' "$tmp/l.tar" >/dev/null
man=$(jq -r '.manifests[0].digest' "$tmp/img/index.json")
layer=$(jq -r '.layers[0].digest' "$tmp/img/blobs/sha256/${man#sha256:}")
config=$(jq -r '.config.digest' "$tmp/img/blobs/sha256/${man#sha256:}")
lsize=$(jq -r '.layers[0].size' "$tmp/img/blobs/sha256/${man#sha256:}")

hdir=$tmp/hostile
mkdir -p "$hdir"
/usr/bin/python3 -B "$(dirname "$0")/hostile_registry.py" "$hdir" "$tmp/img" 2>"$hdir/stderr" &
reg_pids+=($!)
wait_file "$hdir/ports" '^[0-9]+ [0-9]+$' || { fail "the hostile registry starts"; finish; }
read -r https_port http_port <"$hdir/ports"
reg=127.0.0.1:$https_port
export HULL_INSECURE_REGISTRIES=$reg

# pull_into NAME REPO: hull pull $reg/REPO:1 into a store of its own
pull_into() {
	HULL_ROOT=$tmp/store-$1 hull_cmd "$1" pull "$reg/$2:1"
}
tagged() { # NAME: references in that store
	jq -r '.manifests | length' "$tmp/store-$1/oci/index.json" 2>/dev/null || echo 0
}
debris() { # NAME: the layer blob or any temp file in that store
	find "$tmp/store-$1" \( -name "${layer#sha256:}" -o -name '*.tmp.*' \) 2>/dev/null
}

# --- control: the image as it is ---
pull_into plain plain/img
expect_eq "the hostile registry serves a good image when it behaves" "$rc" 0

# --- a blob redirect from HTTPS to plain HTTP (the config, the first blob) ---
: >"$hdir/requests.log"
pull_into tohttp tohttp/img
expect_eq "a blob redirect from HTTPS to plain HTTP fails the pull with 125" "$rc" 125
expect_contains "... naming the image" "$err" "$reg/tohttp/img:1"
expect_contains "... the blob" "$err" "config: registry $reg: blob tohttp/img@${config:0:19}"
expect_contains "... and the refusal" "$err" "refused a redirect from HTTPS to plain HTTP"
expect_contains "... with the Location" "$err" "http://127.0.0.1:$http_port/v2/plain/img/blobs/$config"
expect_contains "the redirect was sent" "$(cat "$hdir/requests.log")" "https /v2/tohttp/img/blobs/$config"
expect_eq "... and nothing was fetched over plain HTTP" "$(grep -c '^http ' "$hdir/requests.log")" 0
expect_eq "... nothing is tagged" "$(tagged tohttp)" 0
expect_eq "... and neither the layer nor a temp file is stored" "$(debris tohttp)" ""
expect_eq "... nor the config" "$(find "$tmp/store-tohttp" -name "${config#sha256:}")" ""

# --- HTTPS to HTTPS is followed ---
: >"$hdir/requests.log"
pull_into tohttps tohttps/img
expect_eq "a blob redirect from HTTPS to HTTPS is followed" "$rc" 0
expect_contains "... to the redirect's target" "$(cat "$hdir/requests.log")" \
	"https /v2/plain/img/blobs/$layer"
expect_eq "... and the image is tagged" "$(tagged tohttps)" 1

# --- a layer longer than the manifest declares ---
declared=$((lsize - 100))
for mode in short shortnolen; do
	pull_into "$mode" "$mode/img"
	expect_eq "$mode: a layer longer than its declared size fails the pull with 125" "$rc" 125
	expect_contains "$mode: ... naming the layer" "$err" "layer 1/1"
	expect_contains "$mode: ... and the declared size" "$err" \
		"larger than $declared bytes, the size the manifest gives"
	expect_eq "$mode: ... nothing is tagged" "$(tagged "$mode")" 0
	expect_eq "$mode: ... and neither the layer nor a temp file is stored" "$(debris "$mode")" ""
done

# --- who speaks to the registry: hull-fetch, unprivileged ---
# The registry holds the manifest request until $hdir/release exists: the
# client is then looked at from /proc, mid-request.
if [ "$(id -u)" = 0 ]; then
	want_uid=$(id -u hull) want_gid=$(id -g hull)
else
	want_uid=$(id -u) want_gid=$(id -g)
fi
: >"$hdir/requests.log"
HULL_ROOT=$tmp/store-hold "$HULL" pull "$reg/hold/img:1" >"$tmp/hold.out" 2>"$tmp/hold.err" &
pk=$!
for _ in $(seq 1 12000); do
	grep -q '^https /v2/hold/img/manifests/' "$hdir/requests.log" 2>/dev/null && break
	kill -0 $pk 2>/dev/null || break
	sleep 0.01
done
fpid=$(pgrep -P $pk -x hull-fetch | head -1)
if [ -n "$fpid" ]; then
	pass "the manifest is asked for by a child of hull named hull-fetch"
	expect_eq "hull-fetch: /proc/PID/exe is the hull-fetch executable" \
		"$(readlink "/proc/$fpid/exe")" \
		"$(readlink -f "$(dirname "$HULL")/../images/hull-fetch")"
	maps=$(awk '$6 ~ /\.so/ { print $6 }' "/proc/$fpid/maps" | sort -u)
	expect_contains "hull-fetch: its maps hold libcurl" "$maps" libcurl
	expect_contains "... and json-c" "$maps" libjson-c
	expect_eq "hull-fetch: ... and no libarchive or libext2fs" \
		"$(grep -cE 'libarchive|libext2fs' <<<"$maps")" 0
	st=$(cat "/proc/$fpid/status")
	field() { status_field "$st" "$1"; }
	expect_eq "hull-fetch: uid (real, effective, saved, fs)" "$(field Uid)" \
		"$want_uid $want_uid $want_uid $want_uid"
	expect_eq "hull-fetch: gid" "$(field Gid)" "$want_gid $want_gid $want_gid $want_gid"
	expect_eq "hull-fetch: effective capabilities" "$(field CapEff)" 0000000000000000
	expect_eq "hull-fetch: permitted capabilities" "$(field CapPrm)" 0000000000000000
	expect_eq "hull-fetch: ambient capabilities" "$(field CapAmb)" 0000000000000000
	expect_eq "hull-fetch: no_new_privs" "$(field NoNewPrivs)" 1
	# its seccomp filter (seccomp/policy.c, role fetch) and resource caps
	# (images/fetch_proc.h): soft = hard; a resolve run holds 3 work fds
	# and writes at most a manifest (REGISTRY_MANIFEST_MAX, 4 MiB)
	expect_eq "hull-fetch: seccomp filter mode" "$(field Seccomp)" 2
	expect_eq "hull-fetch: one filter" "$(field Seccomp_filters)" 1
	lim=$(cat "/proc/$fpid/limits")
	limit() { awk -v n="$1" 'index($0, n) == 1 { s = substr($0, length(n) + 1); split(s, f, " +"); print f[2], f[3] }' <<<"$lim"; }
	expect_eq "hull-fetch: RLIMIT_AS 1 GiB" "$(limit 'Max address space')" "1073741824 1073741824"
	expect_eq "hull-fetch: RLIMIT_NOFILE 5 + 3 work fds + 64" "$(limit 'Max open files')" "72 72"
	expect_eq "hull-fetch: RLIMIT_FSIZE a manifest's 4 MiB" "$(limit 'Max file size')" \
		"4194304 4194304"
	expect_eq "hull-fetch: not dumpable (its memory holds credentials)" \
		"$(stat -c %U "/proc/$fpid/mem")" root
	if [ "$(id -u)" = 0 ]; then
		expect_eq "hull-fetch (as root): the user hull is not root" \
			"$([ "$want_uid" != 0 ] && echo yes)" yes
		expect_eq "hull-fetch (as root): no supplementary groups" "$(field Groups)" ""
		expect_eq "hull-fetch (as root): bounding set empty" "$(field CapBnd)" \
			0000000000000000
	fi
	# the TCP connection to the registry is the child's, and hull holds none
	expect_contains "hull-fetch holds a socket (the connection)" \
		"$(for f in "/proc/$fpid/fd/"*; do readlink "$f"; done)" "socket:"
	expect_eq "hull itself holds no socket" \
		"$(for f in "/proc/$pk/fd/"*; do readlink "$f"; done | grep -c '^socket:')" 0
	expect_eq "hull-fetch: stdio is /dev/null" \
		"$(readlink "/proc/$fpid/fd/0") $(readlink "/proc/$fpid/fd/2")" "/dev/null /dev/null"
else
	fail "the manifest is asked for by a child of hull named hull-fetch" \
		"$(cat "$tmp/hold.err")"
fi
touch "$hdir/release"
wait $pk
expect_eq "... and the pull then completes" "$?" 0
expect_eq "... and the image is tagged" "$(tagged hold)" 1
finish
