#!/usr/bin/env bash
# selftest.sh: proves a running cell (cell.sh up) end to end, as root, in ~1 minute:
#   1. a shell-script job, a binary job (qsub -b y) and a root job through the logging
#      starter (starter-log.sh) finish with the built-in starter's output;
#   2. a checkpoint environment "when xsr" (ckpt-log.sh commands): qmod -sj runs the
#      migrate command, the job is started again with RESTARTED=2, qdel runs clean once;
#   3. a checkpoint environment "when m" with min_cpu_interval 00:00:05: the checkpoint
#      command runs every ~5 s, clean once at the end;
#   4. a job exiting 99 is started again with RESTARTED=1 (clean runs after each run);
#   and an array job's tasks each get the starter and a clean command.
# Ends with "N passed, M failed" and exit 0 only if none failed. Resets the cell (cell.sh
# reset) before and after. Keeps its directory (under /tmp) when DMTCP_SGE_SELFTEST_KEEP=1
# or on failure: the starter's and the commands' records of argv, environment and the
# job's spool config are there (starter.*, ckpt/*).
set -Eeuo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd -P)
CELL=$HERE/cell.sh
[ "$(id -u)" = 0 ] || { echo "selftest.sh must run as root" >&2; exit 1; }

pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
note() { echo "     $*"; }

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

info() { "$CELL" info | sed -n "s/^$1=//p"; }
uid=$(info uid) gid=$(info gid) home=$(info home)
T=$(mktemp -d /tmp/dmtcp-condor-sge-selftest.XXXXXX)
chmod 0755 "$T"
mkdir -m 1777 "$T/ckpt"
chown "$uid:$gid" "$T"

asuser() { (cd "$T" && "$CELL" run-as-user "$@"); }
asroot() { (cd "$T" && "$CELL" run "$@"); }
state() { asroot qstat -u '*' | awk -v j="$1" '$1 == j {print $5; exit}'; }
gone() { [ -z "$(state "$1")" ]; }
qacct_field() { asroot qacct -j "$1" 2>/dev/null | awk -v k="$2" '$1 == k {print $2}' | tail -n 1; }

# wait_for SECONDS CMD...: poll CMD every 0.2 s.
wait_for() {
  local deadline; deadline=$(($(date +%s) + $1)); shift
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}
running() { [ "$(state "$1")" = r ] || [ "$(state "$1")" = Rr ]; }
finished() { gone "$1" && [ -n "$(qacct_field "$1" exit_status)" ]; }
events() { local n; n=$(grep -c " $1 .* args: $1 $2 " "$T/ckpt/events.log" 2>/dev/null) || true; echo "${n:-0}"; }
has_events() { [ "$(events "$1" "$2")" -ge "$3" ]; }
stdout_has() { grep -q "$2" "$T/$1" 2>/dev/null; }

cat >"$T/job.sh" <<'EOF'
#!/bin/sh
echo "job start $(date +%T.%N) JOB_ID=$JOB_ID RESTARTED=$RESTARTED args=$*"
n=${1:-60}; i=0
while [ $i -lt $n ]; do sleep 1; i=$((i + 1)); done
echo "job end $(date +%T.%N)"
EOF
cat >"$T/job99.sh" <<'EOF'
#!/bin/sh
echo "job99 start $(date +%T.%N) JOB_ID=$JOB_ID RESTARTED=$RESTARTED"
if [ "$RESTARTED" = 0 ]; then exit 99; fi
echo "job99 end"
EOF
chmod 0755 "$T/job.sh" "$T/job99.sh"
chown "$uid:$gid" "$T/job.sh" "$T/job99.sh"

ckpt_file() { # NAME WHEN
  local args='$job_id $job_pid $ja_task_id $job_owner $job_name $queue $host $ckpt_dir $ckpt_signal'
  cat <<EOF
ckpt_name          $1
interface          APPLICATION-LEVEL
ckpt_command       $HERE/ckpt-log.sh ckpt $args
migr_command       $HERE/ckpt-log.sh migr $args
restart_command    NONE
clean_command      $HERE/ckpt-log.sh clean $args
ckpt_dir           $T/ckpt
signal             NONE
when               $2
EOF
}

cleanup() {
  "$CELL" reset >/dev/null 2>&1 || true
  if [ "$fail" -eq 0 ] && [ "${DMTCP_SGE_SELFTEST_KEEP:-}" != 1 ]; then rm -rf "$T"; else echo "records kept in $T"; fi
}
trap cleanup EXIT

"$CELL" status >/dev/null || { echo "the cell is not running: run cell.sh up first" >&2; exit 1; }
"$CELL" reset 2>/dev/null
ckpt_file testx xsr >"$T/testx.ckpt"
ckpt_file testm m >"$T/testm.ckpt"
"$CELL" ckpt-env "$T/testx.ckpt" 2>/dev/null
"$CELL" ckpt-env "$T/testm.ckpt" 2>/dev/null
"$CELL" set-starter "$HERE/starter-log.sh" 2>/dev/null

# ---- 1. plain jobs through the starter
t0=$(now)
js=$(asuser qsub -terse -cwd -N script job.sh 1 'a  b')
jb=$(asuser qsub -terse -cwd -N binary -b y /bin/echo hello '$HOME')
jr=$(asroot qsub -terse -cwd -N rootjob job.sh 1)
check "script, binary and root jobs finish" wait_for 60 eval "finished $js && finished $jb && finished $jr"
note "3 jobs submitted -> all in qacct: $(since "$t0")"
check "script job: exit 0, output" eval "[ '$(qacct_field "$js" exit_status)' = 0 ] && grep -q 'RESTARTED=0 args=1 a  b' '$T/script.o$js'"
check "binary job: shell semantics as the built-in starter" eval "[ \"\$(cat '$T/binary.o$jb')\" = 'hello $home' ]"
check "root job: exit 0, runs as root" eval "[ '$(qacct_field "$jr" owner)' = root ] && [ '$(qacct_field "$jr" exit_status)' = 0 ]"
for j in "$js" "$jb" "$jr"; do
  f=$(ls "$T"/starter."$j".* 2>/dev/null | head -n 1)
  check "starter ran for job $j" test -n "$f"
done
fb=$(ls "$T"/starter."$jb".* | head -n 1); fr=$(ls "$T"/starter."$jr".* | head -n 1)
check "binary job: handle_as_binary=1, START_MODE posix_compliant" eval "grep -qx 'config: handle_as_binary=1' '$fb' && grep -qx 'env: SGE_STARTER_SHELL_START_MODE=posix_compliant' '$fb'"
check "root job: TMP set, TMPDIR not set" eval "grep -q '^env: TMP=' '$fr' && ! grep -q '^env: TMPDIR=' '$fr'"

# ---- 1b. an array job with a checkpoint environment: task ids
ja=$(asuser qsub -terse -cwd -N array -t 1-2 -ckpt testx job.sh 1); ja=${ja%%.*}
check "array job finishes" wait_for 60 finished "$ja"
check "starter ran for tasks 1 and 2" eval "ls '$T'/starter.$ja.1.0.* '$T'/starter.$ja.2.0.* >/dev/null 2>&1"
check "clean once per task (\$ja_task_id 1 and 2)" eval "grep -q ' args: clean $ja [0-9]* 1 ' '$T/ckpt/events.log' && grep -q ' args: clean $ja [0-9]* 2 ' '$T/ckpt/events.log'"

# ---- 2. when xsr: qmod -sj migrates, RESTARTED=2, qdel cleans
jx=$(asuser qsub -terse -cwd -N migrate -ckpt testx job.sh 300)
check "checkpointing job $jx running" wait_for 60 running "$jx"
t0=$(now)
asuser qmod -sj "$jx" >/dev/null
check "qmod -sj: migrate command called" wait_for 30 has_events migr "$jx" 1
note "qmod -sj -> migr_command: $(since "$t0")"
check "job started again with RESTARTED=2" wait_for 60 stdout_has "migrate.o$jx" "RESTARTED=2"
note "qmod -sj -> job running again (RESTARTED=2): $(since "$t0")"
check "starter saw RESTARTED=2" eval "ls '$T'/starter.$jx.undefined.2.* >/dev/null 2>&1"
check "no clean on migration" test "$(events clean "$jx")" = 0
t0=$(now)
asuser qdel "$jx" >/dev/null
check "qdel: clean command called once" wait_for 30 has_events clean "$jx" 1
note "qdel -> clean_command: $(since "$t0")"
sleep 2
check "clean called exactly once" test "$(events clean "$jx")" = 1

# ---- 3. when m: periodic checkpoints every min_cpu_interval
"$CELL" set-queue min_cpu_interval 00:00:05 2>/dev/null
jm=$(asuser qsub -terse -cwd -N periodic -ckpt testm job.sh 17)
check "periodic job finishes" wait_for 60 finished "$jm"
n=$(events ckpt "$jm")
check "checkpoint command called 3 times in 17 s (got $n)" test "$n" -ge 3 -a "$n" -le 4
note "checkpoint times: $(grep " ckpt .* args: ckpt $jm " "$T/ckpt/events.log" | awk '{print $1}' | tr '\n' ' ')"
check "clean once at the end" test "$(events clean "$jm")" = 1
"$CELL" set-queue min_cpu_interval 00:05:00 2>/dev/null

# ---- 4. exit 99: rescheduled with RESTARTED=1
j9=$(asuser qsub -terse -cwd -N exit99 -ckpt testx job99.sh)
check "exit 99 job rerun with RESTARTED=1" wait_for 60 stdout_has "exit99.o$j9" "RESTARTED=1"
check "exit 99 job finishes" wait_for 30 finished "$j9"
note "clean calls for the exit-99 job (one per run): $(events clean "$j9")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
