#!/usr/bin/env bash
# Output for scripts (issue 12): ps/inspect/images/snapshot ls --format (Go
# templates, table, json), ps --filter/-n/-l/-s and its PORTS column,
# inspect shaped like docker's, the global --root / HULL_ROOT, and errors
# that name the directory and the way out. One detached container (restored
# from the suite's template: so it has the template's shape, no -m, no -v)
# serves every container check; a second, short-lived one gives ps -n/-l and
# the status filters something to tell apart. Binds and Mounts are checked
# by the unit tests (a volume would make this VM need a template of its own).
. "$(dirname "$0")/lib.sh"

cleanup() {
	for c in $("$HULL" ps -aq 2>/dev/null); do "$HULL" rm -f "$c" >/dev/null 2>&1; done
	rm -rf "$tmp"
}

port=$((20000 + RANDOM % 20000))
# shellcheck disable=SC2086 # HULL_RUN_FLAGS is a list of flags
hull_cmd run run ${HULL_RUN_FLAGS:-} -d --name fmt -p "127.0.0.1:$port:80" -e FOO=bar \
	"$IMG" sleep 900
expect_eq "run -d exits 0" "$rc" 0
id=$out
expect_not_contains "run -d off a terminal: no boot notice" "$err" "booting the guest kernel"
# shellcheck disable=SC2086
hull_cmd short run ${HULL_RUN_FLAGS:-} --name done "$IMG" sh -c 'exit 3'
expect_eq "a second container ran and exited 3" "$rc" 3

# --- ps ----------------------------------------------------------------------
hull_cmd ps ps
expect_eq "ps exits 0" "$rc" 0
head=$(head -n1 <<<"$out")
for h in "CONTAINER ID" IMAGE COMMAND CREATED STATUS PORTS NAMES; do
	expect_contains "ps header: $h" "$head" "$h"
done
expect_contains "ps: PORTS in docker's form" "$(grep ' fmt$' <<<"$out")" \
	"127.0.0.1:$port->80/tcp"
expect_not_contains "ps: an exited container is not listed" "$out" " done"

hull_cmd psf ps --format '{{.Names}}|{{.State}}|{{.Ports}}|{{.ID}}'
expect_eq "ps --format: a template" "$out" "fmt|running|127.0.0.1:$port->80/tcp|${id:0:12}"
hull_cmd psfa ps -a --format '{{.Names}} {{.Status}}'
expect_line "ps -a --format: the exited one" "$(cut -d' ' -f1-3 <<<"$out")" "done Exited (3)"
hull_cmd psj ps --format json
expect_eq "ps --format json: one object per line" "$(wc -l <<<"$out")" 1
expect_eq "ps --format json: fields" "$(jq -r '.Names + " " + .ID + " " + .State' <<<"$out")" \
	"fmt ${id:0:12} running"
expect_eq "ps --format json: Command" "$(jq -r .Command <<<"$out")" '"sleep 900"'
hull_cmd pst ps --format 'table {{.ID}}\t{{.Names}}\t{{.State}}'
expect_eq "ps --format table: header" "$(head -n1 <<<"$out")" "CONTAINER ID   NAMES   STATE"
expect_eq "ps --format table: aligned row" "$(sed -n 2p <<<"$out")" "${id:0:12}   fmt     running"
hull_cmd psjs ps --format '{{json .Names}} {{upper .State}}'
expect_eq "ps --format: json and upper" "$out" '"fmt" RUNNING'

hull_cmd psbad ps --format '{{.Nope}}'
expect_eq "ps --format with an unknown field fails" "$rc" 1
expect_contains "ps --format: the unknown field named" "$err" 'no field "Nope"'
hull_cmd psbad2 ps --format '{{.Names'
expect_eq "ps --format malformed: usage error" "$rc" 2
expect_contains "ps --format malformed: template parsing error" "$err" "template parsing error"
hull_cmd psbad3 ps --format '{{bogus .Names}}'
expect_contains "ps --format: unknown function" "$err" "function not defined"

hull_cmd fname ps -q --filter name=fm
expect_eq "ps --filter name=" "$out" "${id:0:12}"
hull_cmd fnone ps -q --filter name=nosuch
expect_eq "ps --filter name= matching nothing" "$out" ""
hull_cmd fid ps -q --filter "id=${id:0:5}"
expect_eq "ps --filter id=" "$out" "${id:0:12}"
hull_cmd fst ps --format '{{.Names}}' --filter status=exited
expect_eq "ps --filter status=exited lists stopped ones without -a" "$out" "done"
hull_cmd for ps --format '{{.Names}}' --filter status=exited --filter status=running
expect_eq "ps --filter: the same key ORed" "$(sort <<<"$out" | tr '\n' ' ')" "done fmt "
hull_cmd fand ps --format '{{.Names}}' -a --filter name=fmt --filter status=exited
expect_eq "ps --filter: different keys ANDed" "$out" ""
hull_cmd flabel ps -aq --filter label=nosuch
expect_eq "ps --filter label= (no labels)" "$out" ""
hull_cmd fbad ps --filter status=sleeping
expect_eq "ps --filter status=bogus: usage error" "$rc" 2
expect_contains "ps --filter status=bogus: explained" "$err" "invalid status"
hull_cmd fbad2 ps --filter colour=red
expect_contains "ps --filter unknown key: explained" "$err" "unknown filter"

hull_cmd last ps -n 1 --format '{{.Names}}'
expect_eq "ps -n 1: the newest container, any state" "$out" "done"
hull_cmd last2 ps --last 2 --format '{{.Names}}'
expect_eq "ps --last 2: newest first" "$(tr '\n' ' ' <<<"$out")" "done fmt "
hull_cmd latest ps -l -q
expect_eq "ps -l: the newest" "$(wc -l <<<"$out")" 1
hull_cmd size ps -s
expect_contains "ps -s: a SIZE column" "$(head -n1 <<<"$out")" "SIZE"
hull_cmd size2 ps -s --format '{{.Size}}'
if [[ "$out" =~ ^[0-9.]+\ (B|kB|MB)$ ]]; then pass "ps -s: a size"; else fail "ps -s: a size" "got: $out"; fi
hull_cmd nosize ps --format '{{.Size}}'
expect_eq "ps without -s: Size empty" "$out" ""
hull_cmd notrunc ps -q --no-trunc
expect_eq "ps -q --no-trunc: the full id" "$out" "$id"

# --- inspect -----------------------------------------------------------------
hull_cmd insp inspect fmt
expect_eq "inspect exits 0" "$rc" 0
j() { jq -r ".[0] | $1" <<<"$out"; }
expect_eq "inspect: Id" "$(j .Id)" "$id"
expect_eq "inspect: Name with docker's slash" "$(j .Name)" "/fmt"
expect_eq "inspect: State" "$(j '[.State.Status, .State.Running, .State.Paused, .State.ExitCode] | join(" ")')" \
	"running true false 0"
if [ "$(j .State.Pid)" -gt 0 ]; then pass "inspect: State.Pid"; else fail "inspect: State.Pid" "$(j .State.Pid)"; fi
if [[ "$(j .State.StartedAt)" =~ ^20[0-9-]{8}T[0-9:]{8}\.[0-9]{9}Z$ ]]; then
	pass "inspect: State.StartedAt in RFC 3339"
else
	fail "inspect: State.StartedAt in RFC 3339" "$(j .State.StartedAt)"
fi
expect_eq "inspect: FinishedAt never" "$(j .State.FinishedAt)" "0001-01-01T00:00:00Z"
expect_eq "inspect: Config.Image" "$(j .Config.Image)" "$IMG"
expect_eq "inspect: Config.Cmd" "$(j '.Config.Cmd | join(" ")')" "sleep 900"
expect_eq "inspect: Config.Env has -e" "$(j '.Config.Env | map(select(. == "FOO=bar")) | length')" 1
expect_eq "inspect: Config.Labels (none)" "$(j '.Config.Labels | length')" 0
expect_eq "inspect: Config.WorkingDir (the image's)" "$(j .Config.WorkingDir)" "/data"
if [ -n "$(j .Config.Hostname)" ]; then pass "inspect: Config.Hostname"; else fail "inspect: Config.Hostname"; fi
expect_eq "inspect: HostConfig.Memory (the default 128M)" "$(j .HostConfig.Memory)" $((128 << 20))
if [ "$(j .HostConfig.NanoCpus)" -ge 1000000000 ]; then pass "inspect: HostConfig.NanoCpus"; else fail "inspect: HostConfig.NanoCpus" "$(j .HostConfig.NanoCpus)"; fi
expect_eq "inspect: HostConfig.Binds (none)" "$(j '.HostConfig.Binds | length')" 0
expect_eq "inspect: HostConfig.PortBindings" \
	"$(j '.HostConfig.PortBindings["80/tcp"][0] | .HostIp + ":" + .HostPort')" "127.0.0.1:$port"
expect_eq "inspect: NetworkSettings.Ports" \
	"$(j '.NetworkSettings.Ports["80/tcp"][0].HostPort')" "$port"
expect_eq "inspect: NetworkSettings.IPAddress (slirp)" "$(j .NetworkSettings.IPAddress)" "10.0.2.15"
expect_eq "inspect: Mounts (none)" "$(j '.Mounts | length')" 0
expect_eq "inspect: hull's facts under Hull" "$(j .Hull.LogPath)" "$HULL_RUNTIME_DIR/$id/container.log"
hull_cmd inspf inspect --format '{{.State.Status}} {{.Name}} {{json .Config.Cmd}}' fmt
expect_eq "inspect --format: a template" "$out" 'running /fmt ["sleep","900"]'
hull_cmd inspf2 inspect -f '{{.Name}}' fmt done
expect_eq "inspect -f: one line per container" "$(tr '\n' ' ' <<<"$out")" "/fmt /done "
hull_cmd inspj inspect --format json fmt
expect_eq "inspect --format json: the array" "$(jq -r '.[0].Name' <<<"$out")" "/fmt"
hull_cmd inspbad inspect --format '{{.State.Nope}}' fmt
if [ "$rc" -ne 0 ]; then pass "inspect --format unknown field: non-zero"; else fail "inspect --format unknown field: non-zero"; fi
expect_contains "inspect --format unknown field: named" "$err" ".State.Nope"
hull_cmd inspdone inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}' done
expect_eq "inspect: an exited container" "$out" "exited 3 false"

# --- images, snapshot ls -------------------------------------------------------
# a run from a layout path stores no named image: import one
hull_cmd import import --name fmt.example/app:v1 "$IMG_ARCHIVE"
expect_eq "import for images --format" "$rc" 0
hull_cmd imgs images --format '{{.Repository}}|{{.Tag}}|{{.Converted}}'
expect_eq "images --format" "$rc" 0
expect_line "images --format: the imported image" "$out" "fmt.example/app|v1|true"
hull_cmd imgj images --format json
expect_eq "images --format json: parses, one object per line" \
	"$(jq -r .Converted <<<"$out" | sort -u)" "true"
hull_cmd imgbad images --format '{{.Nope}}'
expect_eq "images --format unknown field: status 1" "$rc" 1
expect_contains "images --format unknown field: named" "$err" 'no field "Nope"'
hull_cmd imgt images --format 'table {{.Repository}}\t{{.ID}}'
expect_eq "images --format table: header" "$(head -n1 <<<"$out" | tr -s ' ')" "REPOSITORY IMAGE ID"

if [ -n "${HULL_TEMPLATE_DIR:-}" ]; then
	hull_cmd snap snapshot ls
	expect_eq "snapshot ls exits 0" "$rc" 0
	expect_contains "snapshot ls: a FOR column" "$(head -n1 <<<"$out")" "FOR"
	expect_contains "snapshot ls: what a template is for" "$out" "vCPU"
	hull_cmd snapf snapshot ls --format '{{.Nic}}|{{.Usable}}'
	expect_contains "snapshot ls --format: the NIC" "$out" "virtio-net"
	expect_contains "snapshot ls --format: usable" "$out" "|true"
	hull_cmd snapj snapshot ls --format json
	if jq -e 'select(.Usable) | .Vcpus >= 1 and .MemoryBytes > 0' <<<"$out" >/dev/null; then
		pass "snapshot ls --format json"
	else
		fail "snapshot ls --format json" "$out"
	fi
	hull_cmd snapq snapshot ls -q
	expect_eq "snapshot ls -q: names only" "$(grep -cvE '^[0-9a-f]{32}$' <<<"$out")" 0
fi

# --- the global root ------------------------------------------------------------
hull_cmd rmd rm -f fmt done
expect_eq "rm -f both" "$rc" 0
hull_cmd psempty ps -aq
expect_eq "nothing left" "$out" ""

r2=$tmp/root2
# shellcheck disable=SC2097,SC2098
HULL_RUNTIME_DIR= hull_cmd groot --root "$r2" ps -a
expect_eq "hull --root DIR ps: exits 0" "$rc" 0
if [ -d "$r2/run" ]; then pass "hull --root DIR: containers under DIR/run"; else fail "hull --root DIR: containers under DIR/run"; fi
HULL_RUNTIME_DIR= HULL_ROOT=$r2 hull_cmd groot2 images -q
expect_eq "HULL_ROOT: images of the other root (none)" "$out" ""
HULL_RUNTIME_DIR= hull_cmd groot3 --root="$r2" snapshot ls -q
expect_eq "hull --root=DIR snapshot ls" "$rc" 0
hull_cmd grootbad --root
expect_eq "hull --root without a directory: usage error" "$rc" 2

touch "$tmp/afile"
HULL_RUNTIME_DIR=$tmp/afile/run hull_cmd perm ps
expect_eq "an unusable runtime directory: status 1" "$rc" 1
expect_contains "the error names the directory" "$err" "$tmp/afile/run"
expect_contains "the error names the way out" "$err" "HULL_RUNTIME_DIR"
expect_contains "the error names --root" "$err" "--root"
finish
