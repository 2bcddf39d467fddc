#!/usr/bin/env bash
# TFTP benchmark: our maas-bootd vs tftpd-hpa (lock-step, blksize 512 and 1468)
# and vs atftpd (windowsize 16), 64 MiB file, in two private network
# namespaces joined by a veth (198.18.0.0/15, nothing leaves the host).
# Server on CPU 1 (one worker thread), client on CPU 0. Median of $REPS fetches.
# Run as root: tests/bench/netservices/tftp.sh   (REPS=3 SIZE_MIB=64 by default)
# Last line: TFTP tftp_mbps=... hpa_mbps=... tftp_ratio_vs_hpa=... tftp_w16_mbps=... atftpd_w16_mbps=...
set -euo pipefail
cd "$(dirname "$0")/../../.."
REPO=$PWD
REPS=${REPS:-3}
SIZE_MIB=${SIZE_MIB:-64}
[[ $(id -u) -eq 0 ]] || { echo "run as root (network namespaces)" >&2; exit 1; }
[[ -d $HOME/.cargo/bin ]] && export PATH="$HOME/.cargo/bin:$PATH"

SRV=bbt-s$$; CLI=bbt-c$$; VS=bbts$$; VC=bbtc$$
WORK=$(mktemp -d /var/tmp/maas-bench-tftp.XXXXXX)
DL=/dev/shm/maas-bench-tftp-dl.$$
HPA_DIR=/var/tmp/maas-bench-tftpd-hpa

cleanup() {
    for ns in $SRV $CLI; do
        if ip netns list | grep -qw "$ns"; then
            for p in $(ip netns pids "$ns"); do kill -TERM "$p" 2>/dev/null || true; done
            sleep 0.3
            for p in $(ip netns pids "$ns"); do kill -KILL "$p" 2>/dev/null || true; done
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
    rm -rf "$WORK" "$DL"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "missing $1 (apt-get install $2)" >&2; exit 1; }; }
need atftp atftp; need tftp tftp-hpa; need atftpd atftpd; need taskset util-linux

# --- our server, release build
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/maas-target-boot}
flock /tmp/maas-build.lock cargo build --release -q -p maas-boot --bin maas-bootd
OURS=$CARGO_TARGET_DIR/release/maas-bootd

# --- a private tftpd-hpa (its package conflicts with atftpd)
if [[ ! -x $HPA_DIR/root/usr/sbin/in.tftpd ]]; then
    mkdir -p "$HPA_DIR"
    (cd "$HPA_DIR" && apt-get download tftpd-hpa >/dev/null 2>&1 && dpkg-deb -x tftpd-hpa_*.deb root)
fi
HPA=$HPA_DIR/root/usr/sbin/in.tftpd

# --- topology
ip netns add $SRV; ip netns add $CLI
for ns in $SRV $CLI; do ip -n $ns link set lo up; done
ip link add $VS netns $SRV type veth peer name $VC netns $CLI
ip -n $SRV addr add 198.18.0.1/15 dev $VS; ip -n $CLI addr add 198.18.0.2/15 dev $VC
ip -n $SRV link set $VS up; ip -n $CLI link set $VC up
sleep 1

ROOT=$WORK/root; mkdir -p "$ROOT"; chmod 755 "$WORK" "$ROOT"
head -c $((SIZE_MIB << 20)) /dev/urandom > "$ROOT/big.bin"; chmod 644 "$ROOT/big.bin"
SUM=$(md5sum < "$ROOT/big.bin")

SPID=""
start_server() { # args: command...
    ip netns exec $SRV taskset -c 1 "$@" >"$WORK/server.log" 2>&1 &
    SPID=$!
    sleep 1
    kill -0 $SPID 2>/dev/null || { echo "server failed to start: $*" >&2; cat "$WORK/server.log" >&2; exit 1; }
}
stop_server() {
    kill -TERM $SPID 2>/dev/null || true
    for _ in $(seq 50); do kill -0 $SPID 2>/dev/null || break; sleep 0.1; done
    kill -KILL $SPID 2>/dev/null || true
    wait $SPID 2>/dev/null || true
    for p in $(ip netns pids $SRV); do kill -KILL "$p" 2>/dev/null || true; done
}

# fetch <label> client-args... : prints median MB/s (or FAIL)
fetch() {
    local label=$1; shift
    local times=() t0 t1
    for _ in $(seq "$REPS"); do
        rm -f "$DL"
        t0=$(date +%s.%N)
        if ! ip netns exec $CLI taskset -c 0 timeout 120 "$@" >/dev/null 2>&1; then echo FAIL; return; fi
        t1=$(date +%s.%N)
        [[ $(md5sum < "$DL") == "$SUM" ]] || { echo FAIL; return; }
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
    done
    local med
    med=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    awk -v m="$SIZE_MIB" -v t="$med" 'BEGIN {printf "%.2f\n", m * 1.048576 / t}'
}

atftp_get() { # blksize [windowsize]
    local opts=(--option "blksize $1")
    [[ -n ${2:-} ]] && opts+=(--option "windowsize $2")
    fetch x atftp "${opts[@]}" -g -r big.bin -l "$DL" 198.18.0.1
}

echo "# $(date -u +%FT%TZ) nproc=$(nproc) loadavg=$(cut -d' ' -f1-3 /proc/loadavg) psi=\"$(head -1 /proc/pressure/cpu 2>/dev/null)\" size_mib=$SIZE_MIB reps=$REPS"

start_server "$OURS" --threads 1 --tftp-listen 198.18.0.1:69 --root "$ROOT" --loader-dir /usr/lib/ipxe
ours_hpa512=$(fetch x tftp -m binary 198.18.0.1 -c get big.bin "$DL")
ours_512=$(atftp_get 512)
ours_1468=$(atftp_get 1468)
ours_w16=$(atftp_get 1468 16)
stop_server

start_server "$HPA" -L -u nobody -s "$ROOT" -a 198.18.0.1:69 -B 65464
hpa_hpa512=$(fetch x tftp -m binary 198.18.0.1 -c get big.bin "$DL")
hpa_512=$(atftp_get 512)
hpa_1468=$(atftp_get 1468)
stop_server

start_server atftpd --daemon --no-fork --user nobody --group nogroup --bind-address 198.18.0.1 --port 69 --logfile /dev/null --maxthread 4 "$ROOT"
atftpd_w16=$(atftp_get 1468 16)
stop_server

printf '%-34s %10s %10s\n' "case (MB/s, median of $REPS)" "maas-boot" "peer"
printf '%-34s %10s %10s\n' "tftp-hpa client, 512 vs tftpd-hpa" "$ours_hpa512" "$hpa_hpa512"
printf '%-34s %10s %10s\n' "atftp, blksize 512 vs tftpd-hpa" "$ours_512" "$hpa_512"
printf '%-34s %10s %10s\n' "atftp, blksize 1468 vs tftpd-hpa" "$ours_1468" "$hpa_1468"
printf '%-34s %10s %10s\n' "atftp, 1468 + windowsize 16 vs atftpd" "$ours_w16" "$atftpd_w16"
echo "tftp_512_mbps=$ours_512 hpa_512_mbps=$hpa_512 tftp_hpaclient_mbps=$ours_hpa512 hpa_hpaclient_mbps=$hpa_hpa512"
ratio=$(awk -v a="$ours_1468" -v b="$hpa_1468" 'BEGIN {if (b + 0 > 0) printf "%.2f", a / b; else print "n/a"}')
echo "TFTP tftp_mbps=$ours_1468 hpa_mbps=$hpa_1468 tftp_ratio_vs_hpa=$ratio tftp_w16_mbps=$ours_w16 atftpd_w16_mbps=$atftpd_w16"
