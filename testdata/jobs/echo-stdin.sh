#!/bin/bash
# echo-stdin.sh: numbers the lines of its stdin, slowly, then prints "done N".
# After a restart it must go on reading where it was.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/dmtcp_double.sh"
n=$(double_restore)
n=${n:-0}
unset DMTCP_DOUBLE_RESTORE
while IFS= read -r line; do
    n=$((n + 1))
    echo "$n: $line"
    sleep 0.02
    double_poll "$n"
done
echo "done $n"
