#!/bin/bash
# parent-child.sh N M [DELAY]
# Starts a child bash that prints "child line J" (J in 0..M-1) to stderr, prints
# "line I" (I in 0..N-1) to stdout, waits for the child, prints "done".
# The child says how far it is in child.state in the working directory: the
# parent writes "running" before it starts the child, the child "done" when it
# has finished. The file exists for the whole run, so a scheduler can be told
# to keep it on eviction (HTCondor's transfer_output_files holds a job whose
# listed file is missing) and a resumed parent still learns that its child
# finished.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/dmtcp_double.sh"

role=parent
if [ "${1:-}" = child ]; then role=child; shift; fi
n=$1 m=${2:-0} delay=${3:-0.02}

saved=$(double_restore)
unset DMTCP_DOUBLE_RESTORE

if [ "$role" = child ]; then
    j=${saved:-0}
    while [ "$j" -lt "$n" ]; do
        double_poll "$j"
        echo "child line $j" >&2
        j=$((j + 1))
        sleep "$delay"
    done
    echo done > child.state.tmp && mv child.state.tmp child.state
    exit 0
fi

i=0
if [ -n "$saved" ]; then
    i=$saved
else
    echo running > child.state
    bash "$0" child "$m" 0 "$delay" &
fi
while [ "$i" -lt "$n" ]; do
    double_poll "$i"
    echo "line $i"
    i=$((i + 1))
    sleep "$delay"
done
while [ "$(cat child.state 2>/dev/null)" != done ]; do
    double_poll "$i"
    sleep "$delay"
done
wait
echo done
