#!/usr/bin/env bash
# Bearer token auth end to end: docker-registry with `auth: token` and a
# local token server (tests/e2e/token_server.py, JWTs signed with a fresh
# key). Anonymous pulls are refused; credentials from $DOCKER_CONFIG's
# config.json get a token and the pull succeeds. A second registry names a
# plain-HTTP realm on another host (127.0.0.2): the credentials never reach
# it, and the error names the realm and why.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry.sh"
registry_start token || { fail "docker-registry and the token server start"; finish; }
export HULL_INSECURE_REGISTRIES=$reg
registry_push "oci:$IMG:latest" test/private:1 --dest-creds alice:s3cret
want=$(jq -r '.manifests[0].digest' "$IMG/index.json")
export DOCKER_CONFIG=$tmp/docker
mkdir -p "$DOCKER_CONFIG"

hull_cmd anon pull "$reg/test/private:1"
expect_eq "an anonymous pull of a private image fails with 125" "$rc" 125
expect_contains "... access denied" "$err" "access denied"
expect_contains "... the registry's reason" "$err" "UNAUTHORIZED"
expect_contains "the token server was asked anonymously for pull access" \
	"$(cat "$token_dir/token.log")" "anonymous repository:test/private:pull"

echo '{"auths":{"'"$reg"'":{"auth":"'"$(printf alice:wrong | base64)"'"}}}' >"$DOCKER_CONFIG/config.json"
hull_cmd wrong pull "$reg/test/private:1"
expect_eq "wrong credentials fail with 125" "$rc" 125
expect_contains "... the token server refused them" "$err" "refused the credentials"

echo '{"auths":{"http://'"$reg"'/v2/":{"auth":"'"$(printf alice:s3cret | base64)"'"}}}' >"$DOCKER_CONFIG/config.json"
: >"$token_dir/token.log"
hull_cmd creds pull "$reg/test/private:1"
expect_eq "a pull with credentials from the docker config exits 0" "$rc" 0
expect_eq "... and stores the image" \
	"$(jq -r '.manifests[0].digest' "$HULL_ROOT/oci/index.json")" "$want"
expect_line "the token server saw alice asking for pull access" \
	"$(cat "$token_dir/token.log")" "user alice repository:test/private:pull"

# --- a token realm over plain HTTP on another host than the registry ---
registry_stop
registry_start token 127.0.0.2 || { fail "a registry whose realm is on 127.0.0.2 starts"; finish; }
export HULL_INSECURE_REGISTRIES=$reg
registry_push "oci:$IMG:latest" test/private:1 --dest-creds alice:s3cret
realm=http://127.0.0.2:$(cat "$token_dir/token.port")/token
echo '{"auths":{"'"$reg"'":{"auth":"'"$(printf alice:s3cret | base64)"'"}}}' >"$DOCKER_CONFIG/config.json"
: >"$token_dir/token.log"
HULL_ROOT=$tmp/store-realm hull_cmd otherrealm pull "$reg/test/private:1"
expect_eq "a pull whose realm is plain HTTP on another host fails with 125" "$rc" 125
expect_contains "... naming the realm the credentials were kept from" "$err" \
	"the docker config's credentials for $reg were not sent to the token realm $realm"
expect_contains "... and why" "$err" "it is plain HTTP on another host than the registry"
expect_eq "the realm's token server was asked anonymously, never with credentials" \
	"$(sort -u "$token_dir/token.log")" "anonymous repository:test/private:pull"
expect_eq "... and nothing is stored" \
	"$(jq -r '.manifests | length' "$tmp/store-realm/oci/index.json" 2>/dev/null || echo 0)" 0
finish
