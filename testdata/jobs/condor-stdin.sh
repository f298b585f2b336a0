#!/bin/bash
# condor-stdin.sh [-_condor_ckpt FILE | -_condor_restart FILE -_condor_relocatable]
# Speaks HTCondor's checkpoint-library protocol as simply as a shell can: it
# prints "N: LINE" for each line of stdin, 50 ms apart, then "done N". On
# SIGTSTP it writes N to FILE.tmp, renames it to FILE and exits; restarted, it
# goes on from N, reading stdin from wherever its descriptor stands (bash's
# read leaves the offset just past the line it read).
set -u
file="" restart=""
while [ $# -gt 0 ]; do
    case $1 in
        -_condor_ckpt) file=$2; shift ;;
        -_condor_restart) file=$2; restart=1; shift ;;
    esac
    shift
done
n=0
if [ -n "$restart" ]; then n=$(cat "$file"); fi
trap 'echo "$n" > "$file.tmp" && mv "$file.tmp" "$file"; exit 0' TSTP
while IFS= read -r line; do
    echo "$n: $line"
    n=$((n + 1))
    sleep 0.05
done
echo "done $n"
