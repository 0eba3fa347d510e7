#!/usr/bin/env bash
# docker-style overrides: --entrypoint, -u with supplementary groups, -w, -e.
. "$(dirname "$0")/lib.sh"

export FROM_HOST=hostvalue
run_hull overrides --entrypoint /bin/sh -u app -w /tmp/work -e FOO=cli -e NEW=1 -e FROM_HOST \
	--hostname myhost "$IMG" -c 'echo "id=$(id -u):$(id -g)"; echo "groups=$(id -G)"; echo "pwd=$(pwd)"; echo "env=$FOO,$NEW,$FROM_HOST"; echo "home=$HOME"; echo "host=$(hostname),$HOSTNAME"; [ -d /tmp/work ] && echo "wd-owner=$(stat -c %u /tmp/work)"'
expect_eq "exit status 0" "$rc" 0
expect_line "-u app: uid and primary gid from /etc/passwd" "$out" "id=1000:1000"
expect_line "-u app: supplementary groups from /etc/group, in its order" "$out" "groups=1000 29 2000"
expect_line "-w sets the working directory (created when missing)" "$out" "pwd=/tmp/work"
expect_line "-e overrides and adds, -e KEY takes hull's value" "$out" "env=cli,1,hostvalue"
expect_line "HOME follows the user" "$out" "home=/home/app"
expect_line "--hostname sets hostname and HOSTNAME" "$out" "host=myhost,myhost"
expect_line "a missing working directory is created root-owned (as docker does)" "$out" "wd-owner=0"

# user:group form: the group replaces the user's groups
run_hull usergroup -u 1000:2000 "$IMG" sh -c 'echo "ids=$(id -u):$(id -g):$(id -G)"'
expect_eq "exit status 0 (uid:gid)" "$rc" 0
expect_line "-u uid:gid drops supplementary groups" "$out" "ids=1000:2000:2000"
finish
