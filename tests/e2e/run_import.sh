#!/usr/bin/env bash
# A docker-archive (made here without a docker daemon) imported and run by
# its reference in one VM (restored from the suite's template): the layers,
# whiteouts, owners and the config all arrive.
. "$(dirname "$0")/lib.sh"
lib=$(cd "$(dirname "$0")/../lib" && pwd)

"$lib/mkdocker-archive.sh" "$IMG" "$tmp/app.tar" example.com/e2e/app:v1
hull_cmd import import "$tmp/app.tar"
expect_eq "hull import of a docker-archive exits 0" "$rc" 0
expect_contains "it is stored under its RepoTags name" "$out" \
	"Loaded image: example.com/e2e/app:v1 ("

run_hull run --timings example.com/e2e/app:v1 sh -c \
	'cat /data/keep; ls /data; ls /opq; stat -c "%u:%g %a" /home/app/owned /bin/setuid-probe; pwd; echo "foo=$FOO"'
expect_eq "hull run of the imported image exits 0" "$rc" 0
expect_contains "the run is a conversion-cache hit (import converted it)" "$err" "(cache hit)"
expect_line "file content from a layer" "$out" "keep"
expect_not_contains "the whiteout hides data/gone" "$out" "gone"
expect_line "the opaque directory shows only the upper layer" "$(sed -n '/^b$/p;/^a$/p' <<<"$out")" "b"
expect_line "numeric owners kept" "$out" "1000:1000 644"
expect_line "setuid bit kept" "$out" "0:0 4755"
expect_line "the config's WorkingDir applies" "$out" "/data"
expect_line "the config's Env applies" "$out" "foo=image"
finish
