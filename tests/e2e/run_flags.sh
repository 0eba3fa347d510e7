#!/usr/bin/env bash
# hull run's docker flags: --env-file, --label, --cidfile, -q, --read-only,
# --tmpfs, --mount, --add-host, --ulimit, --shm-size, --platform, --cap-add/
# --cap-drop/--privileged, --security-opt, --restart. Three VMs (one per guest
# config) carry every check that needs a guest.
. "$(dirname "$0")/lib.sh"

# ---- refused before any VM: clear errors, exit 125 ----
run_hull badcpus --cpus 0.5 "$IMG" true
expect_eq "--cpus 0.5: exit 125" "$rc" 125
expect_contains "--cpus 0.5 says a quota needs the monitor's cgroup" "$err" "cgroup"
run_hull badplat --platform linux/arm64 "$IMG" true
expect_eq "--platform linux/arm64: exit 125" "$rc" 125
expect_contains "--platform names the only platform" "$err" "linux/amd64 images only"
: >"$tmp/taken"
run_hull cidtaken --cidfile "$tmp/taken" "$IMG" true
expect_eq "--cidfile on an existing file: exit 125" "$rc" 125
expect_contains "--cidfile names the existing file" "$err" "$tmp/taken: the file exists"
run_hull badrestart --restart always:2 "$IMG" true
expect_eq "--restart always:2: exit 125" "$rc" 125

# ---- one VM, most flags at once ----
printf '# a comment\n\n  A=from file\nB=file\nC\nD=x=y  \n' >"$tmp/env"
mkdir -p "$tmp/vol" && echo hello >"$tmp/vol/hello"
export C=from-host
run_hull flags --env-file "$tmp/env" -e B=cli -l team=db -l empty --label team=web \
	--cidfile "$tmp/cid" -q --read-only --tmpfs /scratch:size=1m,mode=1777 \
	--mount type=tmpfs,target=/mt,tmpfs-size=2m \
	--mount "type=bind,source=$tmp/vol,target=/data,readonly" \
	--add-host db.local:10.1.2.3 --add-host gw:host-gateway --ulimit nofile=100:200 \
	--shm-size 8M --platform linux/amd64 --cap-drop chown --security-opt no-new-privileges \
	"$IMG" sh -c '
	echo "env=$A|$B|$C|$D"
	touch /newfile 2>/dev/null && echo root=rw || echo root=ro
	touch /scratch/f && echo scratch=$(stat -c %a /scratch),$(df -k /scratch | awk "NR==2{print \$2}")
	echo mt=$(df -k /mt | awk "NR==2{print \$2}")
	echo data=$(cat /data/hello); touch /data/x 2>/dev/null && echo data=rw || echo data=ro
	grep -w db.local /etc/hosts; grep -w gw /etc/hosts
	echo nofile=$(ulimit -n),$(ulimit -Hn)
	echo shm=$(df -k /dev/shm | awk "NR==2{print \$2}")
	grep -E "^(CapEff|CapBnd|NoNewPrivs):" /proc/self/status | tr -d "\t"'
expect_eq "exit status 0" "$rc" 0
expect_line "--env-file: values verbatim, KEY alone from hull's environment, -e wins" "$out" \
	"env=from file|cli|from-host|x=y  "
expect_line "--read-only: the root filesystem refuses writes" "$out" "root=ro"
expect_line "--tmpfs with size= and mode=" "$out" "scratch=1777,1024"
expect_line "--mount type=tmpfs with tmpfs-size" "$out" "mt=2048"
expect_line "--mount type=bind: the host directory" "$out" "data=hello"
expect_line "--mount type=bind,readonly: read-only" "$out" "data=ro"
expect_line "--add-host NAME:IP in /etc/hosts" "$out" "10.1.2.3 db.local"
expect_line "--add-host NAME:host-gateway is the host (slirp's gateway)" "$out" "10.0.2.2 gw"
expect_line "--ulimit nofile=100:200" "$out" "nofile=100,200"
expect_line "--shm-size 8M" "$out" "shm=8192"
expect_line "docker's default capabilities minus --cap-drop chown" "$out" "CapEff:00000000a80425fa"
expect_line "the bounding set too" "$out" "CapBnd:00000000a80425fa"
expect_line "--security-opt no-new-privileges" "$out" "NoNewPrivs:1"
expect_not_contains "-q: no pull progress" "$err" "%"
id=$(cat "$tmp/cid" 2>/dev/null)
if [[ $id =~ ^[0-9a-f]{64}$ ]]; then pass "--cidfile holds the container id"; else fail "--cidfile holds the container id (got '$id')"; fi
hull_cmd inspect inspect "$id"
expect_contains "labels in the state: the last --label of a key wins" "$out" '"team": "web"'
expect_contains "a label without a value is empty" "$out" '"empty": ""'
hull_cmd rm rm "$id"

# ---- --restart on-failure:2 and --privileged: same VM, three runs ----
mkdir -p "$tmp/rs"
run_hull restart --restart on-failure:2 --privileged -v "$tmp/rs:/rs" "$IMG" sh -c \
	'echo run >>/rs/count; grep ^CapEff: /proc/self/status | tr -d "\t"; exit 3'
expect_eq "--restart on-failure:2: the last run's status" "$rc" 3
expect_eq "--restart on-failure:2: one run and two restarts" "$(wc -l <"$tmp/rs/count")" 3
expect_eq "every run's output reaches hull" "$(grep -c '^CapEff:000001ffffffffff$' <<<"$out")" 3

# ---- --restart always: restarts after exit 0, never after hull stop ----
run_hull always -d --name always --restart always --cap-add ALL --cap-drop NET_RAW \
	-v "$tmp/rs:/rs" "$IMG" sh -c \
	'echo x >>/rs/always; [ $(wc -l </rs/always) -ge 3 ] && exec sleep 300; exit 0'
expect_eq "run -d --restart always: exit 0" "$rc" 0
if wait_until 60 test "$(wc -l <"$tmp/rs/always" 2>/dev/null)" = 3; then
	pass "--restart always: restarted after exit 0 until the third run"
else
	fail "--restart always: restarted after exit 0 until the third run"
fi
hull_cmd exec exec always sh -c 'grep ^CapEff: /proc/self/status | tr -d "\t"'
expect_line "exec'd processes get the container's capabilities (ALL minus NET_RAW)" "$out" \
	"CapEff:000001ffffffdfff"
hull_cmd stop stop -t 1 always
expect_eq "hull stop: exit 0" "$rc" 0
hull_cmd ps ps -a
expect_contains "stopped, not restarted" "$out" "xited"
expect_eq "no fourth run after the stop" "$(wc -l <"$tmp/rs/always")" 3
hull_cmd rm rm always
finish
