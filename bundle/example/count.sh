#!/bin/sh
# Example job of a dmtcp_condor_integration bundle: counts slowly, one line
# a second. Evict it (condor_vacate_job) and it resumes where it was, in
# whatever sandbox and on whatever machine HTCondor starts it next.
steps=${1:-600}
i=0
while [ "$i" -lt "$steps" ]; do
    i=$((i + 1))
    echo "step $i of $steps"
    sleep 1
done
echo "done"
