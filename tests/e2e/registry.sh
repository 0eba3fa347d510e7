# shellcheck shell=bash
# A real registry for the end-to-end tests: Debian's docker-registry (the
# CNCF distribution registry) on a loopback port the kernel picks, with its
# own config and storage under the test's temp dir, stopped when the test
# exits. Source after lib.sh.
#
#   registry_start [token [HOST]]
#                            start it; sets $reg (127.0.0.1:PORT) and
#                            $reg_data (its storage root). "token": bearer
#                            token auth against tests/e2e/token_server.py
#                            (user alice, password s3cret), $token_dir holds
#                            its certificate and request log. HOST: the
#                            token server's address and realm host (default
#                            127.0.0.1, the registry's); another one makes a
#                            second registry with a storage of its own.
#   registry_push SRC NAME:TAG [skopeo args...]
#                            skopeo copy SRC (e.g. oci:DIR:TAG) to $reg/NAME:TAG
#   registry_blob DIGEST     path of a blob in the registry's storage
# Debian packages: docker-registry, skopeo (and python3-jwt,
# python3-cryptography for token auth).
reg_pids=()
registry_stop() {
	local p
	for p in "${reg_pids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	reg_pids=()
}
trap 'registry_stop; cleanup' EXIT

# wait_file FILE PATTERN: until FILE has a line matching PATTERN (up to 60 s:
# a bound for a server that never starts, not a guess at how long it takes).
wait_file() {
	local i
	for i in $(seq 600); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "timed out waiting for '$2' in $1:" >&2
	cat "$1" >&2 2>/dev/null
	return 1
}

registry_start() {
	local mode=${1:-} host=${2:-127.0.0.1} dir=$tmp/registry auth=""
	[ "$host" = 127.0.0.1 ] || dir=$tmp/registry-$host
	mkdir -p "$dir/data"
	reg_data=$dir/data
	if [ "$mode" = token ]; then
		token_dir=$dir/token
		mkdir -p "$token_dir"
		/usr/bin/python3 -B "$(dirname "${BASH_SOURCE[0]}")/token_server.py" "$token_dir" alice s3cret \
			"$host" 2>"$token_dir/stderr" &
		reg_pids+=($!)
		wait_file "$token_dir/token.port" '^[0-9]+$' || return 1
		auth="auth:
  token:
    realm: http://$host:$(cat "$token_dir/token.port")/token
    service: hull-test-registry
    issuer: hull-test-issuer
    rootcertbundle: $token_dir/token.crt"
	fi
	cat >"$dir/config.yml" <<-CFG
		version: 0.1
		log:
		  level: info
		  accesslog:
		    disabled: true
		storage:
		  filesystem:
		    rootdirectory: $dir/data
		  delete:
		    enabled: true
		http:
		  addr: 127.0.0.1:0
		$auth
	CFG
	docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
	reg_pids+=($!)
	# port 0: the registry logs the address it got
	wait_file "$dir/log" 'listening on 127\.0\.0\.1:[0-9]+' || return 1
	reg=$(grep -oE 'listening on 127\.0\.0\.1:[0-9]+' "$dir/log" | head -1)
	reg=${reg#listening on }
}

registry_push() {
	local src=$1 dst=$2
	shift 2
	skopeo --insecure-policy copy -q --dest-tls-verify=false "$@" "$src" "docker://$reg/$dst" >/dev/null
}

registry_blob() {
	local hex=${1#sha256:}
	echo "$reg_data/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}
