#!/bin/sh
# Kills the running `ipvsadm -R` of a table change once the table holds more rules than
# BEFORE and fewer than AFTER, then prints the rule count seen just before the kill and
# `ipvsadm -Sn`'s line count just after it. Gives up after 120 s.
#     kill_mid_batch.sh BEFORE AFTER
set -u
before=$1
after=$2
deadline=$(($(date +%s) + 120))
while [ "$(date +%s)" -lt "$deadline" ]; do
  # /proc/net/ip_vs has three header lines, then one line per service and per real server:
  # the count of ipvsadm -Sn's lines, read without starting a process that dumps the table.
  lines=$(wc -l < /proc/net/ip_vs)
  rules=$((lines - 3))
  if [ "$rules" -gt "$before" ] && [ "$rules" -lt "$after" ] && pkill -KILL -x ipvsadm; then
    saved=$(ipvsadm -Sn | wc -l)
    echo "$rules $saved"
    exit 0
  fi
  sleep 0.05
done
echo "no ipvsadm was caught part way through its batch within 120 s" >&2
exit 1
