#!/usr/bin/env bash
# Installs and starts what karana's tests need on a fresh Debian/Ubuntu host:
# HAProxy and InfluxDB (unit tests run them on loopback), LXD with iptables,
# debootstrap and wrk (the e2e suite), file and man (the release check),
# Prometheus (the metrics e2e scrapes with it) and pebble (the ACME test
# server). Safe to run again: it only installs what is missing and starts
# the LXD daemon only when it does not answer.
set -euo pipefail

need=()
for pair in haproxy:haproxy influxd:influxdb lxd:lxd iptables:iptables debootstrap:debootstrap wrk:wrk git:git curl:curl file:file man:man-db prometheus:prometheus pebble:pebble; do
	bin=${pair%%:*} pkg=${pair##*:}
	command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || [ -x "/sbin/$bin" ] || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "==> installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Debian's packages start haproxy and influxdb through systemd when it is
# PID 1; the tests start their own instances on free loopback ports, so the
# system services are not needed and are left as the package set them.

sock=/var/lib/lxd/unix.socket
[ -S /var/snap/lxd/common/lxd/unix.socket ] && sock=/var/snap/lxd/common/lxd/unix.socket
if ! lxc query /1.0 >/dev/null 2>&1; then
	echo "==> starting the LXD daemon"
	if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
		systemctl start lxd.service 2>/dev/null || systemctl start snap.lxd.daemon
	else
		setsid nohup lxd --group root --logfile /var/log/karana-lxd.log >/dev/null 2>&1 </dev/null &
	fi
	for _ in $(seq 1 60); do
		lxc query /1.0 >/dev/null 2>&1 && break
		sleep 1
	done
	lxc query /1.0 >/dev/null || { echo "LXD did not answer on $sock within 60 s; see /var/log/karana-lxd.log" >&2; exit 5; }
fi
echo "==> prerequisites ready: $(haproxy -v | head -1 | cut -d' ' -f1-3), influxd $(influxd version 2>/dev/null | cut -d' ' -f2), LXD $(lxc query /1.0 | sed -n 's/.*"server_version": "\(.*\)".*/\1/p')"
