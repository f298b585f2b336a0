#!/bin/bash
# starter-log.sh: a starter_method for the cell's tests. It records its invocation (argv,
# environment, the job's spool config) in $SGE_O_WORKDIR/starter.JOB_ID.TASK.RESTARTED.<time>,
# then starts the job as Grid Engine's built-in starter would.
# Environment set by the shepherd (queue_conf(5)): SGE_STARTER_SHELL_PATH,
# SGE_STARTER_SHELL_START_MODE (posix_compliant|unix_behavior|script_from_stdin),
# SGE_STARTER_USE_LOGIN_SHELL (true|false).
out=${SGE_O_WORKDIR:-/tmp}/starter.${JOB_ID:-none}.${SGE_TASK_ID:-none}.${RESTARTED:-none}.$(date +%s%N)
{
  echo "time: $(date +%T.%N)"
  echo "pid: $$ ppid: $PPID pgid: $(ps -o pgid= -p $$ | tr -d ' ') uid: $(id -u) cwd: $(pwd)"
  i=0; for a in "$0" "$@"; do printf 'argv[%d]: %s\n' "$i" "$a"; i=$((i + 1)); done
  env | LC_ALL=C sort | sed 's/^/env: /'
  if [ -d "${SGE_JOB_SPOOL_DIR:-}" ]; then
    echo "spool: $(ls "$SGE_JOB_SPOOL_DIR" | tr '\n' ' ')"
    echo "spool job_pid: $(cat "$SGE_JOB_SPOOL_DIR/job_pid" 2>/dev/null)"
  fi
  if [ -r "${SGE_JOB_SPOOL_DIR:-}/config" ]; then sed 's/^/config: /' "$SGE_JOB_SPOOL_DIR/config"; fi
} >"$out" 2>&1

# Then start the job as Grid Engine's built-in starter does (measured on 8.1.9):
# - binary job (qsub -b y, handle_as_binary=1 in the spool config): with a shell
#   (no_shell=0, the default) the arguments are joined by spaces and run by
#   "SHELL -c" (so shell syntax in them applies); with -shell no (no_shell=1) exec'd directly;
# - script job: unix_behavior execs the script itself (#! line); posix_compliant runs
#   "SHELL SCRIPT ARGS...";
# - the shell is a login shell (argv[0] "-sh") when SGE_STARTER_USE_LOGIN_SHELL=true,
#   i.e. when its name is in the cell's login_shells.
cfg=${SGE_JOB_SPOOL_DIR:-/nonexistent}/config
binary=$(sed -n 's/^handle_as_binary=//p' "$cfg" 2>/dev/null)
no_shell=$(sed -n 's/^no_shell=//p' "$cfg" 2>/dev/null)
shell=${SGE_STARTER_SHELL_PATH:-/bin/sh}
name=${shell##*/}
if [ "${SGE_STARTER_USE_LOGIN_SHELL:-false}" = true ]; then name=-$name; fi
if [ "$binary" = 1 ]; then
  if [ "$no_shell" = 1 ]; then exec "$@"; fi
  exec -a "$name" "$shell" -c "$*"
fi
case ${SGE_STARTER_SHELL_START_MODE:-posix_compliant} in
  unix_behavior) exec "$@" ;;
  script_from_stdin) script=$1; shift; exec -a "$name" "$shell" -s "$@" <"$script" ;;
  *) exec -a "$name" "$shell" "$@" ;;
esac
