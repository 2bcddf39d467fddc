#!/bin/sh
# ipmi_sim chassis_control program for a lab machine: power is the qemu
# process (start.sh writes its pid), the boot device a file.
# Called as: chassis.sh DIR get power|boot ; chassis.sh DIR set power 0|1 | reset 1 | boot X | shutdown 1
D="$1"; shift
op="$1"; shift
echo "$op $*" >> "$D/calls"
alive() { [ -s "$D/pid" ] && kill -0 "$(cat "$D/pid")" 2>/dev/null; }
start() {
  alive && return 0
  rm -f "$D/pid"
  # Detached, every fd closed: ipmi_sim waits for this program's output.
  setsid "$D/start.sh" </dev/null >>"$D/qemu.log" 2>&1 &
  i=0
  while [ $i -lt 40 ] && ! alive; do sleep 0.025; i=$((i + 1)); done
}
stop() {
  alive || return 0
  kill "$(cat "$D/pid")" 2>/dev/null
  i=0
  while [ $i -lt 40 ] && alive; do sleep 0.025; i=$((i + 1)); done
  alive && kill -9 "$(cat "$D/pid")" 2>/dev/null
  rm -f "$D/pid"
}
[ -f "$D/boot" ] || echo default > "$D/boot"
if [ "$op" = get ]; then
  for p in "$@"; do
    case "$p" in
      power) if alive; then echo power:1; else echo power:0; fi ;;
      boot) echo "boot:$(cat "$D/boot")" ;;
      *) echo "Invalid parameter: $p"; exit 1 ;;
    esac
  done
  exit 0
fi
if [ "$op" = set ]; then
  while [ $# -gt 0 ]; do
    case "$1" in
      power) if [ "$2" = 1 ]; then start; else stop; fi; shift 2 ;;
      reset) stop; start; shift 2 ;;
      shutdown) stop; shift 2 ;;
      boot) echo "$2" > "$D/boot"; shift 2 ;;
      identify) shift 3 ;;
      *) echo "Invalid parameter: $1"; exit 1 ;;
    esac
  done
  exit 0
fi
exit 1
