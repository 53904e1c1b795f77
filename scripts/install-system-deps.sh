#!/usr/bin/env bash
# Installs the Debian packages the tests, `make run` and the drills need.
# As root on Debian it installs what is missing; otherwise it prints the command to run.
set -euo pipefail

packages=(redis-server redis-sentinel patroni etcd-server haproxy prometheus
  prometheus-alertmanager nftables iproute2 util-linux wrk chromium pgbackrest)
declare -A binary_of=(
  [redis-server]=/usr/bin/redis-server [redis-sentinel]=/usr/bin/redis-sentinel
  [patroni]=/usr/bin/patroni [etcd-server]=/usr/bin/etcd [haproxy]=/usr/sbin/haproxy
  [prometheus]=/usr/bin/promtool [prometheus-alertmanager]=/usr/bin/prometheus-alertmanager
  [nftables]=/usr/sbin/nft [iproute2]=/usr/sbin/ip [util-linux]=/usr/bin/nsenter
  [wrk]=/usr/bin/wrk [chromium]=/usr/bin/chromium [pgbackrest]=/usr/bin/pgbackrest
)

missing=()
for pkg in "${packages[@]}"; do
  [ -x "${binary_of[$pkg]}" ] || missing+=("$pkg")
done

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  missing+=(postgresql)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian packages may start their services; the project runs its own on free ports.
  for svc in redis-server redis-sentinel etcd haproxy prometheus prometheus-alertmanager \
    patroni postgresql; do
    service "$svc" stop >/dev/null 2>&1 || true
  done
else
  echo "missing Debian packages: ${missing[*]}" >&2
  echo "run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
