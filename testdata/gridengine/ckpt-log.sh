#!/bin/bash
# ckpt-log.sh ACTION JOB_ID JOB_PID TASK_ID OWNER JOB_NAME QUEUE HOST CKPT_DIR CKPT_SIGNAL
# The checkpoint, migrate and clean command of the cell's test checkpoint environment
# (interface APPLICATION-LEVEL; the arguments are checkpoint(5) placeholders). It records
# its invocation in CKPT_DIR/events.log and its environment in
# CKPT_DIR/ACTION.JOB_ID.TASK_ID.<time>. "migr" then ends the job (its process group is
# JOB_PID) so that Grid Engine reschedules it; the others just return.
action=$1 job_id=$2 job_pid=$3 task=$4 dir=$9
[ -d "$dir" ] || dir=/tmp
stamp=$(date +%s%N)
alive=no; kill -0 "$job_pid" 2>/dev/null && alive=yes
echo "$(date +%T.%N) $action uid=$(id -u) job_pid_alive=$alive RESTARTED=${RESTARTED-unset} args: $*" >>"$dir/events.log"
{
  echo "time: $(date +%T.%N)"
  echo "pid: $$ ppid: $PPID uid: $(id -u) cwd: $(pwd)"
  i=0; for a in "$0" "$@"; do printf 'argv[%d]: %s\n' "$i" "$a"; i=$((i + 1)); done
  env | LC_ALL=C sort | sed 's/^/env: /'
  if [ -d "${SGE_JOB_SPOOL_DIR:-}" ]; then
    echo "spool: $(ls "$SGE_JOB_SPOOL_DIR" | tr '\n' ' ')"
    echo "spool job_pid: $(cat "$SGE_JOB_SPOOL_DIR/job_pid" 2>/dev/null)"
  fi
  if [ -r "${SGE_JOB_SPOOL_DIR:-}/config" ]; then sed 's/^/config: /' "$SGE_JOB_SPOOL_DIR/config"; fi
} >"$dir/$action.$job_id.$task.$stamp" 2>&1
if [ "$action" = migr ]; then
  kill -TERM -- "-$job_pid" 2>>"$dir/events.log" || kill -TERM "$job_pid" 2>>"$dir/events.log"
  echo "$(date +%T.%N) migr: sent SIGTERM to process group $job_pid" >>"$dir/events.log"
fi
exit 0
