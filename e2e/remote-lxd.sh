#!/usr/bin/env bash
# A second LXD daemon (or several, joined into a cluster) on this host for
# the remote e2e test: each daemon has its own LXD_DIR and runs inside a
# network namespace of its own, reachable from the host only over HTTPS at
# that namespace's address, the way LXD's own test suite runs several
# daemons on one machine. The default daemon is only read (images are
# exported from it); its configuration is never touched.
#
#   remote-lxd.sh up [MEMBERS]   start MEMBERS daemons (default 1; 2+ form a cluster)
#   remote-lxd.sh env            print the addresses as shell variables
#   remote-lxd.sh token NAME     print a trust token for client NAME (lxc config trust add)
#   remote-lxd.sh images A...    copy image aliases from the default daemon to member 0
#   remote-lxd.sh network NAME CIDR  on a cluster, the bridge every member shares (see below)
#   remote-lxd.sh down           stop the daemons and remove everything this script made
#
# Idempotent: `up` skips what exists, `down` removes what is there. Names
# and subnets move with KARANA_TEST_NS (as pkg/testenv does): namespace
# karana-rl<N>-<i>, LXD_DIR /var/lib/karana-rl<N>/m<i>; the members'
# uplinks share one host bridge, k<rlN>up, on 10.0.(37+20N).0/24 (host .1,
# member i .(2+i)); the back end's bridge subnets are 10.0.(38+20N).0/24 and
# up. Those live only inside the namespaces: the host marks them
# prohibited, so nothing leaks out of the host's default route.
#
# The cluster's network: a plain LXD bridge is local to its member, so
# `network` creates the back end's bridge on every member with one VXLAN
# tunnel (multicast over the uplinks) joining them into one L2 segment,
# and dnsmasq answering only the containers its member hosts (their static
# leases): the same subnet everywhere, so karana's address plan is kept.
#
# Trap avoided: `ip netns exec` remounts /sys, which hides the cgroup
# mounts ("Failed to create /init.scope control group"); the daemons are
# started with nsenter --net, a private mount namespace, a fresh sysfs and
# the host's /sys/fs/cgroup bound back into it.
set -euo pipefail

n=${KARANA_TEST_NS:-0}
case $n in [0-9]) ;; *) n=0 ;; esac
link=$((37 + 20 * n))
base=/var/lib/karana-rl$n
suffix=rl$n

ns_name() { echo "karana-$suffix-$1"; }
lxd_dir() { echo "$base/m$1"; }
host_if() { echo "k${suffix}h$1"; }
host_br="k${suffix}up"
host_ip="10.0.$link.1"
ns_ip() { echo "10.0.$link.$(($1 + 2))"; }
rlxc() { local i=$1; shift; LXD_DIR=$(lxd_dir "$i") lxc "$@"; }

members() { local c=0; while [ -d "$(lxd_dir "$c")" ]; do c=$((c + 1)); done; echo "$c"; }

wait_daemon() {
	local i=$1
	for _ in $(seq 1 60); do
		rlxc "$i" query /1.0 >/dev/null 2>&1 && return 0
		sleep 1
	done
	echo "remote-lxd.sh: daemon $i did not answer within 60 s; see $(lxd_dir "$i")/lxd.log" >&2
	return 5
}

netns_up() {
	local i=$1 ns hif
	ns=$(ns_name "$i") hif=$(host_if "$i")
	[ -e "/run/netns/$ns" ] || ip netns add "$ns"
	if ! ip link show "$host_br" >/dev/null 2>&1; then
		ip link add "$host_br" type bridge
		echo 0 >"/sys/class/net/$host_br/bridge/multicast_snooping"
		ip addr add "$host_ip/24" dev "$host_br"
		ip link set "$host_br" up
	fi
	if ! ip link show "$hif" >/dev/null 2>&1; then
		ip link add "$hif" type veth peer name uplink netns "$ns"
		ip link set "$hif" master "$host_br" up
		ip -n "$ns" addr add "$(ns_ip "$i")/24" dev uplink
		ip -n "$ns" link set lo up
		ip -n "$ns" link set uplink up
		ip -n "$ns" route add default via "$host_ip"
	fi
	# The bridge subnets exist only in the namespaces: never let them
	# follow the host's default route out.
	for o in $(seq $((link + 1)) $((link + 3))); do ip route replace prohibit "10.0.$o.0/24"; done
	sysctl -qw net.ipv4.ip_forward=1 || true
}

daemon_up() {
	local i=$1 dir ns
	dir=$(lxd_dir "$i") ns=$(ns_name "$i")
	mkdir -p "$dir/.cgroup"
	if ! rlxc "$i" query /1.0 >/dev/null 2>&1; then
		setsid nohup nsenter --net="/run/netns/$ns" -- unshare --mount --propagation private -- sh -ec '
			mount --rbind /sys/fs/cgroup "$1/.cgroup"
			mount -t sysfs sysfs /sys
			mount --rbind "$1/.cgroup" /sys/fs/cgroup
			umount -l "$1/.cgroup"
			exec env LXD_DIR="$1" lxd --group root --logfile "$1/lxd.log"' karana-lxd "$dir" \
			>"$dir/daemon.out" 2>&1 </dev/null &
		echo $! >"$dir/daemon.pid"
		wait_daemon "$i"
	fi
}

cmd_up() {
	local want=${1:-1} i
	[ "$(id -u)" = 0 ] || { echo "remote-lxd.sh: needs root" >&2; exit 1; }
	for i in $(seq 0 $((want - 1))); do
		netns_up "$i"
		daemon_up "$i"
		addr="$(ns_ip "$i"):8443"
		[ "$(rlxc "$i" config get core.https_address)" = "$addr" ] || rlxc "$i" config set core.https_address "$addr"
	done
	if [ "$want" -gt 1 ]; then
		cluster_up "$want"
	fi
	cmd_env
}

cluster_up() {
	local want=$1 i
	if ! rlxc 0 cluster list >/dev/null 2>&1; then
		rlxc 0 cluster enable m0 >/dev/null
		# Notice a member that stopped answering within seconds.
		rlxc 0 config set cluster.offline_threshold 11
	fi
	for i in $(seq 1 $((want - 1))); do
		rlxc 0 cluster show "m$i" >/dev/null 2>&1 && continue
		local token
		token=$(rlxc 0 cluster add "m$i" --quiet)
		LXD_DIR=$(lxd_dir "$i") lxd init --preseed <<EOF
cluster:
  enabled: true
  server_name: m$i
  server_address: $(ns_ip "$i"):8443
  cluster_address: $(ns_ip 0):8443
  cluster_token: $token
EOF
	done
}

# cmd_network creates NAME on every member of the cluster: pending on
# each, then once with the shared configuration (an LXD cluster's way).
cmd_network() {
	local name=$1 cidr=$2 c i
	c=$(members)
	rlxc 0 network show "$name" >/dev/null 2>&1 && return 0
	for i in $(seq 0 $((c - 1))); do
		rlxc 0 network create "$name" --target "m$i" >/dev/null
	done
	rlxc 0 network create "$name" ipv4.address="$cidr" ipv4.nat=true ipv6.address=none \
		tunnel.karana.protocol=vxlan tunnel.karana.group=239.0.$((20 + n)).1 tunnel.karana.interface=uplink \
		tunnel.karana.id=$((4200 + n)) raw.dnsmasq="dhcp-ignore=tag:!known" >/dev/null
}

cmd_env() {
	local c i
	c=$(members)
	echo "KARANA_RL_MEMBERS=$c"
	for i in $(seq 0 $((c - 1))); do
		echo "KARANA_RL_ENDPOINT_$i=https://$(ns_ip "$i"):8443"
		echo "KARANA_RL_NETNS_$i=/run/netns/$(ns_name "$i")"
		echo "KARANA_RL_ADDR_$i=$(ns_ip "$i")"
	done
	echo "KARANA_RL_BRIDGE_OCTET=$((link + 1))"
}

cmd_token() {
	rlxc 0 config trust add --name "$1" --quiet 2>/dev/null || rlxc 0 config trust add --name "$1" | tail -1
}

cmd_images() {
	local tmp alias meta root
	mkdir -p "$base"
	tmp=$(mktemp -d "$base/images.XXXXXX")
	for alias in "$@"; do
		rlxc 0 image info "$alias" >/dev/null 2>&1 && continue
		lxc image export "local:$alias" "$tmp/" >/dev/null
		meta=$(ls "$tmp"/meta-* 2>/dev/null | head -1)
		root=$(ls "$tmp"/*.squashfs 2>/dev/null | head -1)
		if [ -n "$meta" ] && [ -n "$root" ]; then
			rlxc 0 image import "$meta" "$root" --alias "$alias" >/dev/null
		else
			rlxc 0 image import "$(ls "$tmp"/* | head -1)" --alias "$alias" >/dev/null
		fi
		rm -f "$tmp"/*
	done
	rmdir "$tmp"
}

cmd_down() {
	local i c pid dir
	c=$(members)
	for i in $(seq $((c - 1)) -1 0); do
		dir=$(lxd_dir "$i")
		if rlxc "$i" query /1.0 >/dev/null 2>&1; then
			# Containers first, so that no forkproxy or dnsmasq outlives the daemon.
			for p in $(rlxc "$i" project list --format csv 2>/dev/null | cut -d, -f1 | sed 's/ (current)//'); do
				for c2 in $(rlxc "$i" list --project "$p" --format csv -c n 2>/dev/null); do
					rlxc "$i" delete --force --project "$p" "$c2" >/dev/null 2>&1 || true
				done
			done
			LXD_DIR=$dir timeout 60 lxd shutdown >/dev/null 2>&1 || true
		fi
		# What is left runs in the namespace this script made: the daemon
		# (its pid is recorded), dnsmasq, forkproxy.
		if [ -f "$dir/daemon.pid" ]; then kill "$(cat "$dir/daemon.pid")" 2>/dev/null || true; fi
		sleep 1
		for pid in $(ip netns pids "$(ns_name "$i")" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
		ip link del "$(host_if "$i")" 2>/dev/null || true
		ip netns del "$(ns_name "$i")" 2>/dev/null || true
		# The daemon's mounts went with its private mount namespace; never
		# delete through a mount that is still there.
		if findmnt -rn -o TARGET | grep -q "^$dir"; then
			echo "remote-lxd.sh: mounts left under $dir; not removing it" >&2
			continue
		fi
		rm -rf "$dir"
	done
	ip link del "$host_br" 2>/dev/null || true
	for o in $(seq $((link + 1)) $((link + 3))); do ip route del prohibit "10.0.$o.0/24" 2>/dev/null || true; done
	rmdir "$base" 2>/dev/null || true
}

case ${1:-} in
up) shift; cmd_up "$@" ;;
env) cmd_env ;;
token) cmd_token "$2" ;;
images) shift; cmd_images "$@" ;;
network) cmd_network "$2" "$3" ;;
down) cmd_down ;;
*) echo "usage: $0 up [MEMBERS] | env | token NAME | images ALIAS... | network NAME CIDR | down" >&2; exit 2 ;;
esac
