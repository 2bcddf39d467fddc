#!/bin/sh
# ipmi_sim chassis_control program: keeps the power and boot device in files of $1.
# Called as: chassis.sh DIR get power|boot ; chassis.sh DIR set power 0|1 | reset 1 | boot X | shutdown 1 ...
D="$1"; shift
echo "$*" >> "$D/calls"
op="$1"; shift
[ -f "$D/power" ] || echo 0 > "$D/power"
[ -f "$D/boot" ] || echo default > "$D/boot"
if [ "$op" = get ]; then
  for p in "$@"; do
    case "$p" in
      power) echo "power:$(cat "$D/power")" ;;
      boot) echo "boot:$(cat "$D/boot")" ;;
      *) echo "Invalid parameter: $p"; exit 1 ;;
    esac
  done
  exit 0
fi
if [ "$op" = set ]; then
  while [ $# -gt 0 ]; do
    case "$1" in
      power) echo "$2" > "$D/power"; shift 2 ;;
      reset) echo reset >> "$D/resets"; shift 2 ;;
      shutdown) echo 0 > "$D/power"; shift 2 ;;
      boot) echo "$2" > "$D/boot"; shift 2 ;;
      identify) shift 3 ;;
      *) echo "Invalid parameter: $1"; exit 1 ;;
    esac
  done
  exit 0
fi
exit 1
