#!/usr/bin/env bash
# DHCPv4 benchmark: maas-dhcpd vs kea-dhcp4 (memfile, persist=true) vs
# dnsmasq under perfdhcp in relay mode, same namespaces, same run.
# Method: shared/docs/peer-benchmarks.md §1-2 (server pinned to CPU 1, the
# load generator to CPU 0; 8 s periods; loss = 1 - ACKs / DISCOVERs sent).
# For each server the offered rate steps up; the figure kept is the highest
# rate with < 0.1 % loss, with the REQUEST-ACK latency at that rate and the
# server's CPU µs per lease. Runs as root; makes its own namespaces (no
# link outside them) and removes them on exit. Env: PERIOD (s, default 8),
# OURS_RATES / KEA_RATES / DNSMASQ_RATES (space separated), MAAS_DHCPD.
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "run as root" >&2; exit 1; }
cd "$(dirname "$0")/../../.."

PERIOD=${PERIOD:-8}
OURS_RATES=${OURS_RATES:-"2000 4000 6000 8000 10000 12000 14000 16000 20000 24000"}
KEA_RATES=${KEA_RATES:-"2000 4000 6000 8000 10000 12000 14000 16000 20000 24000"}
DNSMASQ_RATES=${DNSMASQ_RATES:-"100 200 300 500"}
SRV=bdhcp-srv
CLI=bdhcp-cli
WORK=$(mktemp -d /tmp/dhcp-bench.XXXXXX)

for t in perfdhcp kea-dhcp4 dnsmasq taskset ip; do
    command -v $t >/dev/null || [[ -x /usr/sbin/$t ]] || { echo "missing $t (see .ci/packages)" >&2; exit 1; }
done
export PATH="$PATH:/usr/sbin:/sbin"

if [[ -z ${MAAS_DHCPD:-} ]]; then
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/maas-target}
    lock=(); [[ -e /tmp/maas-build.lock ]] && lock=(flock /tmp/maas-build.lock)
    "${lock[@]}" cargo build -q --release -p maas-dhcp --bin maas-dhcpd
    MAAS_DHCPD=$CARGO_TARGET_DIR/release/maas-dhcpd
fi

teardown() {
    for ns in $SRV $CLI; do
        if ip netns list | grep -qw "$ns"; then
            pids=$(ip netns pids "$ns" || true)
            [[ -n $pids ]] && kill $pids 2>/dev/null || true
            sleep 0.3
            pids=$(ip netns pids "$ns" || true)
            [[ -n $pids ]] && kill -9 $pids 2>/dev/null || true
            ip netns del "$ns" || true
        fi
    done
}
cleanup() { teardown; rm -rf "$WORK"; }
trap cleanup EXIT
teardown
ip netns add $SRV; ip netns add $CLI
for ns in $SRV $CLI; do ip -n $ns link set lo up; done
ip link add bdh-s0 netns $SRV type veth peer name bdh-c0 netns $CLI
ip -n $SRV addr add 198.18.0.1/15 dev bdh-s0
ip -n $CLI addr add 198.18.0.2/15 dev bdh-c0
ip -n $SRV link set bdh-s0 up; ip -n $CLI link set bdh-c0 up
sleep 1

mkdir -p "$WORK"/{ours,kea,dnsmasq}
cat >"$WORK/ours/config.json" <<JSON
{"subnets": [{"cidr": "198.18.0.0/15", "interface": "bdh-s0", "lease_time": 86400,
  "ranges": [{"start": "198.18.1.0", "end": "198.19.255.254"}]}]}
JSON
cat >"$WORK/kea/kea4.json" <<JSON
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "bdh-s0" ], "dhcp-socket-type": "udp" },
  "lease-database": { "type": "memfile", "persist": true, "lfc-interval": 0, "name": "$WORK/kea/leases4.csv" },
  "valid-lifetime": 86400, "renew-timer": 43200, "rebind-timer": 75600,
  "multi-threading": { "enable-multi-threading": false },
  "subnet4": [ { "id": 1, "subnet": "198.18.0.0/15", "pools": [ { "pool": "198.18.1.0 - 198.19.255.254" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "severity": "WARN", "output_options": [ { "output": "$WORK/kea/kea4.log" } ] } ] } }
JSON
cat >"$WORK/dnsmasq/dnsmasq.conf" <<CONF
port=0
interface=bdh-s0
bind-interfaces
dhcp-range=198.18.1.0,198.19.255.254,255.254.0.0,24h
dhcp-lease-max=200000
dhcp-leasefile=$WORK/dnsmasq/leases
dhcp-authoritative
no-ping
quiet-dhcp
user=root
pid-file=$WORK/dnsmasq/pid
CONF
export KEA_PIDFILE_DIR=$WORK/kea KEA_LOCKFILE_DIR=$WORK/kea

cpu_of() { awk -v t="$(getconf CLK_TCK)" '{print ($14+$15)/t}' "/proc/$1/stat"; }
cli_rcvbuf_errors() { ip netns exec $CLI awk '/^Udp:/{if(h){print $6}else h=1}' /proc/net/snmp; }
rcvbuf_errors() { ip netns exec $SRV awk '/^Udp:/{if(h){print $6}else h=1}' /proc/net/snmp; }

start_server() {
    case $1 in
    ours)
        rm -rf "$WORK/ours/data"
        ip netns exec $SRV taskset -c 1 "$MAAS_DHCPD" --config "$WORK/ours/config.json" \
            --data-dir "$WORK/ours/data" 2>"$WORK/ours/log" &
        ;;
    kea)
        rm -f "$WORK"/kea/leases4.csv* "$WORK"/kea/*.pid
        ip netns exec $SRV taskset -c 1 kea-dhcp4 -c "$WORK/kea/kea4.json" >"$WORK/kea/out" 2>&1 &
        ;;
    dnsmasq)
        rm -f "$WORK/dnsmasq/leases"; touch "$WORK/dnsmasq/leases"
        ip netns exec $SRV taskset -c 1 dnsmasq -k -C "$WORK/dnsmasq/dnsmasq.conf" 2>"$WORK/dnsmasq/log" &
        ;;
    esac
    SPID=$!
    sleep 1.5
    kill -0 $SPID || { echo "$1 did not start" >&2; exit 1; }
    # ip netns exec + taskset exec the server: $SPID is the server itself.
}
stop_server() {
    kill $SPID 2>/dev/null || true
    for _ in $(seq 50); do kill -0 $SPID 2>/dev/null || break; sleep 0.1; done
    kill -9 $SPID 2>/dev/null || true
    wait $SPID 2>/dev/null || true
}

# measure NAME RATE -> sets ACKS SENT LOSS LAT CPU_US
measure() {
    local name=$1 rate=$2 out c0 c1
    start_server "$name"
    c0=$(cpu_of $SPID); local r0 k0; r0=$(rcvbuf_errors); k0=$(cli_rcvbuf_errors)
    out=$(ip netns exec $CLI taskset -c 0 timeout $((PERIOD + 20)) perfdhcp -4 -r "$rate" -R 100000 \
        -p "$PERIOD" -W 500000 -l 198.18.0.2 198.18.0.1 2>&1 || true)
    c1=$(cpu_of $SPID); local r1 k1; r1=$(rcvbuf_errors); k1=$(cli_rcvbuf_errors)
    stop_server
    SENT=$(awk '/Statistics for: DISCOVER-OFFER/{s=1} s&&/sent packets/{print $3; exit}' <<<"$out")
    ACKS=$(awk '/Statistics for: REQUEST-ACK/{s=1} s&&/received packets/{print $3; exit}' <<<"$out")
    LAT=$(awk '/Statistics for: REQUEST-ACK/{s=1} s&&/avg delay/{print $3; exit}' <<<"$out")
    SENT=${SENT:-0}; ACKS=${ACKS:-0}; LAT=${LAT:-nan}
    LOSS=$(awk -v a="$ACKS" -v s="$SENT" 'BEGIN{ if (s>0) printf "%.3f", 100*(1-a/s); else print 100 }')
    CPU_US=$(awk -v a="$ACKS" -v c0="$c0" -v c1="$c1" 'BEGIN{ if (a>0) printf "%.1f", (c1-c0)*1e6/a; else print "nan" }')
    local psi; psi=$(awk '/^some/{print $2}' /proc/pressure/cpu 2>/dev/null || echo na)
    echo "server=$name offered=$rate acks_per_s=$(awk -v a="$ACKS" -v p="$PERIOD" 'BEGIN{printf "%.0f", a/p}') loss_pct=$LOSS ack_avg_ms=$LAT cpu_us_per_lease=$CPU_US srv_rcvbuf_errors=$((r1 - r0)) cli_rcvbuf_errors=$((k1 - k0)) load=$(cut -d' ' -f1 /proc/loadavg) psi_$psi"
}

declare -A BEST BEST_LAT BEST_CPU
ramp() {
    local name=$1; shift
    BEST[$name]=0; BEST_LAT[$name]=nan; BEST_CPU[$name]=nan
    for rate in "$@"; do
        measure "$name" "$rate"
        if awk -v l="$LOSS" 'BEGIN{exit !(l < 0.1)}'; then
            BEST[$name]=$(awk -v a="$ACKS" -v p="$PERIOD" 'BEGIN{printf "%.0f", a/p}')
            BEST_LAT[$name]=$LAT; BEST_CPU[$name]=$CPU_US
        elif awk -v l="$LOSS" 'BEGIN{exit !(l > 5)}'; then
            break
        fi
    done
}

echo "nproc=$(nproc) loadavg=\"$(cat /proc/loadavg)\" date=$(date -u +%FT%TZ)"
echo "versions: kea=$(kea-dhcp4 -v 2>/dev/null) dnsmasq=$(dnsmasq -v | head -1 | awk '{print $3}')"
ramp ours $OURS_RATES
ramp kea $KEA_RATES
ramp dnsmasq $DNSMASQ_RATES

ratio=$(awk -v a="${BEST[ours]}" -v b="${BEST[kea]}" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "nan" }')
for n in ours kea dnsmasq; do
    echo "best server=$n lossless_leases_per_s=${BEST[$n]} ack_avg_ms=${BEST_LAT[$n]} cpu_us_per_lease=${BEST_CPU[$n]}"
done
echo "DHCP dhcp_leases_per_s=${BEST[ours]} kea_leases_per_s=${BEST[kea]} dnsmasq_leases_per_s=${BEST[dnsmasq]} dhcp_ratio_vs_kea=$ratio dhcp_cpu_us_per_lease=${BEST_CPU[ours]} kea_cpu_us_per_lease=${BEST_CPU[kea]}"
