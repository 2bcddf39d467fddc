#!/usr/bin/env bash
# DNS benchmark: our maas-dnsd vs BIND 9 (named, authoritative only) vs Knot
# (knotd) on the same 10,000-record zone under dnsperf, in one run.
#
# Method (docs/peer-benchmarks.md §1, §4): two network namespaces joined by
# a veth pair (198.18.0.1 server, 198.18.0.2 client), one server worker
# pinned to CPU 0, dnsperf pinned to CPU 1 (pitfall D1), closed loop
# `-c 10 -q 100` for DURATION s, REPS repetitions per server (median
# reported), server CPU (utime+stime of all threads, /proc/PID/stat) per
# query. Needs root; builds maas-dnsd in release mode unless MAAS_DNSD is set.
#
# Env: REPS (3), DURATION (10), CLIENTS (10), MAAS_DNSD (path to binary),
#      CARGO_TARGET_DIR. Last line:
# DNS dns_qps=... bind_qps=... knot_qps=... dns_ratio_vs_bind=... dns_cpu_us_per_query=... knot_cpu_us_per_query=...
set -euo pipefail

REPS=${REPS:-3}
DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-10}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
SRV=dnsb-srv-$$
CLI=dnsb-cli-$$
WORK=$(mktemp -d /tmp/dns-bench.XXXXXX)
SIP=198.18.0.1
CIP=198.18.0.2

for t in ip named knotd dnsperf dig python3 taskset; do
    command -v "$t" >/dev/null || [[ -x /usr/sbin/$t ]] || { echo "missing $t (see .ci/packages)" >&2; exit 1; }
done
[[ $(id -u) -eq 0 ]] || { echo "needs root (network namespaces)" >&2; exit 1; }

teardown() {
    for ns in "$SRV" "$CLI"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -TERM 2>/dev/null || true
    done
    sleep 0.3
    for ns in "$SRV" "$CLI"; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap teardown EXIT

# ------------------------------------------------------------ our binary
if [[ -z ${MAAS_DNSD:-} ]]; then
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/maas-target}
    (cd "$ROOT" && flock /tmp/maas-build.lock cargo build -q --release -p maas-dns --bin maas-dnsd)
    MAAS_DNSD=$CARGO_TARGET_DIR/release/maas-dnsd
fi

# ------------------------------------------------------------ topology
ip netns add "$SRV"; ip netns add "$CLI"
for ns in "$SRV" "$CLI"; do ip -n "$ns" link set lo up; done
ip link add dnsbs0 netns "$SRV" type veth peer name dnsbc0 netns "$CLI"
ip -n "$SRV" addr add $SIP/15 dev dnsbs0
ip -n "$CLI" addr add $CIP/15 dev dnsbc0
ip -n "$SRV" link set dnsbs0 up; ip -n "$CLI" link set dnsbc0 up
sleep 1

# ------------------------------------------------------------ zone + configs
mkdir -p "$WORK/bind" "$WORK/knot"
python3 - "$WORK" <<'PY'
import json, random, sys
w = sys.argv[1]
z = ["$ORIGIN bench.test.", "$TTL 3600",
     "@ IN SOA ns1.bench.test. hostmaster.bench.test. 1 7200 3600 1209600 3600",
     "@ IN NS ns1.bench.test.", "ns1 IN A 198.18.0.1"]
recs = [{"name": "ns1", "rtype": "A", "rdata": "198.18.0.1", "ttl": 3600}]
for i in range(1, 10001):
    ip = f"198.18.{i // 250 + 1}.{i % 250 + 1}"
    z.append(f"host{i:05d} IN A {ip}")
    recs.append({"name": f"host{i:05d}", "rtype": "A", "rdata": ip, "ttl": 3600})
open(f"{w}/bench.test.zone", "w").write("\n".join(z) + "\n")
json.dump({"zones": [{"name": "bench.test", "ttl": 3600, "serial": 1, "records": recs}],
           "primary_ns": "ns1.bench.test.", "hostmaster": "hostmaster.bench.test."},
          open(f"{w}/maas.json", "w"))
q = [f"host{i:05d}.bench.test A" for i in range(1, 10001)]
random.Random(42).shuffle(q)
open(f"{w}/queries.txt", "w").write("\n".join(q) + "\n")
PY
cat >"$WORK/bind/named.conf" <<CONF
options { directory "$WORK/bind"; pid-file "$WORK/bind/named.pid";
  listen-on port 53 { $SIP; }; listen-on-v6 { none; };
  recursion no; allow-query { any; }; dnssec-validation no; notify no; querylog no; };
controls { };
zone "bench.test" { type primary; file "$WORK/bench.test.zone"; };
CONF
cat >"$WORK/knot/knot.conf" <<CONF
server:
    rundir: "$WORK/knot"
    user: root:root
    listen: $SIP@53
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: warning
database:
    storage: "$WORK/knot"
zone:
  - domain: bench.test
    file: "$WORK/bench.test.zone"
    zonefile-sync: -1
    journal-content: none
CONF

cpu_s() { awk -v t="$(getconf CLK_TCK)" '{print ($14+$15)/t}' "/proc/$1/stat"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

{
    echo "# dns bench $(date -u +%FT%TZ) nproc=$(nproc) loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# psi $(head -1 /proc/pressure/cpu 2>/dev/null || echo n/a)"
    echo "# named $(named -v 2>&1 | head -1); knotd $(knotd -V 2>&1 | head -1); dnsperf $(dnsperf -h 2>&1 | grep -o 'dnsperf [0-9.]*' | head -1)"
} | tee "$WORK/header"

# run_server NAME CMD... : starts it on CPU 0, measures REPS loads, stops it.
declare -A QPS CPU
run_server() {
    local name=$1; shift
    ip netns exec "$SRV" taskset -c 0 "$@" >"$WORK/$name.log" 2>&1 &
    local pid=$!
    local ok=0
    for _ in $(seq 100); do
        if ip netns exec "$CLI" dig +short +time=1 +tries=1 @$SIP host00001.bench.test A 2>/dev/null | grep -q 198.18; then ok=1; break; fi
        sleep 0.2
    done
    if ((ok == 0)) || ! kill -0 "$pid" 2>/dev/null; then
        echo "$name did not come up:" >&2; tail -20 "$WORK/$name.log" >&2; exit 1
    fi
    local rss; rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    local qs=() cs=()
    for rep in $(seq "$REPS"); do
        local c0 c1 out q lost
        c0=$(cpu_s "$pid")
        out=$(ip netns exec "$CLI" taskset -c 1 dnsperf -s $SIP -d "$WORK/queries.txt" -l "$DURATION" -c "$CLIENTS" -q 100 -T 1 -t 2 2>&1)
        c1=$(cpu_s "$pid")
        q=$(awk '/Queries per second/ {print $4}' <<<"$out")
        lost=$(awk '/Queries lost/ {print $3}' <<<"$out")
        local noerr; noerr=$(grep -o 'NOERROR [0-9]*' <<<"$out" | awk '{print $2}')
        local lat; lat=$(awk '/Average Latency/ {print $4}' <<<"$out")
        local us; us=$(awk -v a="$c0" -v b="$c1" -v q="$q" -v d="$DURATION" 'BEGIN {printf "%.2f", (b-a)*1e6/(q*d)}')
        local pct; pct=$(awk -v a="$c0" -v b="$c1" -v d="$DURATION" 'BEGIN {printf "%.0f", (b-a)*100/d}')
        echo "server=$name rep=$rep qps=$q lost=$lost noerror=$noerr avg_latency_s=$lat srv_cpu_pct=$pct cpu_us_per_query=$us rss_kb=$rss loadavg=$(cut -d' ' -f1 /proc/loadavg)"
        qs+=("$q"); cs+=("$us")
    done
    QPS[$name]=$(printf '%s\n' "${qs[@]}" | median)
    CPU[$name]=$(printf '%s\n' "${cs[@]}" | median)
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

run_server maas-dnsd "$MAAS_DNSD" --config "$WORK/maas.json" --listen $SIP:53 --threads 1 --no-tcp
run_server bind named -g -n 1 -c "$WORK/bind/named.conf"
rm -f "$WORK"/knot/*.mdb "$WORK"/knot/timers "$WORK"/knot/journal
run_server knot knotd -c "$WORK/knot/knot.conf"

printf '\n%-10s %12s %16s\n' server qps cpu_us_per_q
for s in maas-dnsd bind knot; do printf '%-10s %12s %16s\n' "$s" "${QPS[$s]}" "${CPU[$s]}"; done
ratio=$(awk -v a="${QPS[maas-dnsd]}" -v b="${QPS[bind]}" 'BEGIN {printf "%.2f", a/b}')
int() { printf '%.0f' "$1"; }
echo "DNS dns_qps=$(int "${QPS[maas-dnsd]}") bind_qps=$(int "${QPS[bind]}") knot_qps=$(int "${QPS[knot]}") dns_ratio_vs_bind=$ratio dns_cpu_us_per_query=${CPU[maas-dnsd]} knot_cpu_us_per_query=${CPU[knot]} bind_cpu_us_per_query=${CPU[bind]}"
