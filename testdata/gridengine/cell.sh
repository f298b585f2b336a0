#!/usr/bin/env bash
# cell.sh: a loopback-only, single-host Grid Engine cell for dmtcp-condor's tests and CI.
#
# Debian 12's gridengine 8.1.9 packages (gridengine-master, -exec, -client) are installed
# on the host itself; qmaster and execd run on this host. Every host name the cell meets
# (this host's name, its FQDN, "localhost") is an alias of "localhost" in the cell's
# host_aliases, and act_qmaster is "localhost", so all of Grid Engine's traffic goes to
# 127.0.0.1. Jobs are submitted by an unprivileged user (root can submit as well).
#
# Usage: cell.sh COMMAND [ARGS...]   (run as root; see README.md next to this file)
#   setup              install the packages (preseeded debconf), create the cell, the user,
#                      the configuration and the queue; leaves the daemons as it found them
#                      (running or not); ~0.1 s when already done (nothing changed)
#   start              start sge_qmaster and sge_execd, wait until the queue takes jobs
#   up                 setup, then start
#   reset              (running cell) delete every job (qdel -f), bring the queue back to its
#                      base definition (no starter_method, ckpt_list NONE, ...), delete every
#                      checkpoint environment, clear queue error states
#   stop               stop execd (killing its jobs; "when s" checkpoint environments get
#                      their migrate command first) and qmaster (~10 s: qmaster is slow to exit)
#   teardown           stop, remove the cell (spool, cell directory, the user we created);
#                      the packages stay installed and "setup" re-creates the cell
#   status             print the state; exit 0 running, 3 set up but not running, 4 not set up
#   info               print key=value facts for test drivers
#   run-as-user CMD..  run CMD as the submitting user with Grid Engine's environment
#                      (clean otherwise), in the current directory (writable by the user)
#   run CMD...         run CMD as root with Grid Engine's environment, in the current directory
#   ckpt-env FILE      add (or replace) a checkpoint environment from a checkpoint(5) file
#                      (qconf -Ackpt/-Mckpt), create its ckpt_dir (mode 1777) if missing,
#                      and add it to the queue's ckpt_list
#   set-starter PATH   set the queue's starter_method (an absolute path, or NONE)
#   set-queue ATTR VAL set one attribute of the queue (qconf -rattr), e.g. min_cpu_interval
#   smoke              as the user, qsub -sync y /bin/echo and check its output
#
# Environment (all optional):
#   DMTCP_SGE_USER           submitting user's name (default sgeuser)
#   DMTCP_SGE_UID            its uid and gid when it has to be created (default 2000)
#   DMTCP_SGE_QUEUE          queue name (default all.q)
#   DMTCP_SGE_SLOTS          slots of the queue (default 2)
#   DMTCP_SGE_START_TIMEOUT  seconds to wait for the daemons (default 60)
#   DMTCP_SGE_STOP_TIMEOUT   seconds to wait for a daemon to stop before signals (default 30)
#
# Progress and timings go to stderr, prefixed with "[sge]".

set -Eeuo pipefail
export LC_ALL=C

# Debian's layout: fixed by the packages.
SGE_ROOT=/var/lib/gridengine
SGE_CELL=default
SPOOL=/var/spool/gridengine
COMMON=$SGE_ROOT/$SGE_CELL/common
LIBEXEC=/usr/lib/gridengine
ADMIN_USER=sgeadmin
RUN_DIR=/run/gridengine
QMASTER_PIDFILE=$RUN_DIR/qmaster.pid   # the same files as /etc/init.d/gridengine-*
EXECD_PIDFILE=$RUN_DIR/execd.pid
PACKAGES=(gridengine-master gridengine-exec gridengine-client)

CELL_HOST=localhost                     # the cell's only host name (act_qmaster, exec host)
SGE_USER=${DMTCP_SGE_USER:-sgeuser}
SGE_UID=${DMTCP_SGE_UID:-2000}
QUEUE=${DMTCP_SGE_QUEUE:-all.q}
SLOTS=${DMTCP_SGE_SLOTS:-2}
START_TIMEOUT=${DMTCP_SGE_START_TIMEOUT:-60}
STOP_TIMEOUT=${DMTCP_SGE_STOP_TIMEOUT:-30}

STATE=$COMMON/dmtcp-condor-cell         # written by setup: the cell is ours and complete
USER_MARKER=$COMMON/dmtcp-condor-user   # the user was created by setup (teardown deletes it)
SGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

PROG=${0##*/}
SELF=$(realpath -- "$0")

log() { printf '[sge] %s\n' "$*" >&2; }
die() { printf '[sge] ERROR: %s\n' "$*" >&2; exit 1; }

CURRENT_STEP=
trap 'rc=$?; [ -n "$CURRENT_STEP" ] && printf "[sge] ERROR: step \"%s\" failed (exit %s)\n" "$CURRENT_STEP" "$rc" >&2; exit $rc' ERR

CLEANUPS=()
run_cleanups() { local c; for c in "${CLEANUPS[@]}"; do eval "$c" || true; done; }
trap run_cleanups EXIT

now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "${t#0}"; }
fmt_us() { printf '%d.%02ds' $(($1 / 1000000)) $((($1 % 1000000) / 10000)); }

# step NAME CMD...: run CMD, print how long it took.
step() {
  local name=$1; shift
  local t0; t0=$(now_us)
  CURRENT_STEP=$name
  "$@"
  CURRENT_STEP=
  log "$(printf '%-40s %s' "$name" "$(fmt_us $(($(now_us) - t0)))")"
}

# quiet LOGFILE CMD...: run CMD with its output in LOGFILE; show the end of it on failure.
quiet() {
  local logf=$1 rc=0; shift
  "$@" >>"$logf" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    log "command failed (exit $rc): $*; last lines of $logf:"
    tail -n 25 "$logf" | sed 's/^/[sge]   /' >&2
  fi
  return "$rc"
}

validate() {
  [[ $SGE_USER =~ ^[a-z_][a-z0-9_-]*$ ]] || die "bad user name '$SGE_USER'"
  [[ $SGE_UID =~ ^[0-9]+$ ]] && [ "$SGE_UID" -gt 0 ] || die "DMTCP_SGE_UID must be a positive number"
  [[ $QUEUE =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad queue name '$QUEUE'"
  [[ $SLOTS =~ ^[0-9]+$ ]] && [ "$SLOTS" -gt 0 ] || die "DMTCP_SGE_SLOTS must be a positive number"
}

need_root() { [ "$(id -u)" = 0 ] || die "$PROG $1 must run as root"; }

# sge CMD...: run a Grid Engine command as root with the cell's environment only.
# fd 9 (the lock) is closed: a daemon started here must not keep it.
sge() {
  env -i PATH="$SGE_PATH" HOME=/root LANG=C.UTF-8 SGE_ROOT="$SGE_ROOT" SGE_CELL="$SGE_CELL" \
    "$@" 9>&-
}
sge_t() { local t=$1; shift; sge timeout "$t" "$@"; }

# qc ARGS...: qconf, quiet unless it fails (qconf reports success on stderr too).
qc() {
  local out rc=0
  out=$(sge timeout 30 qconf "$@" 2>&1) || rc=$?
  if [ "$rc" -ne 0 ]; then
    log "qconf $* failed (exit $rc):"
    printf '%s\n' "$out" | sed 's/^/[sge]   /' >&2
  fi
  return "$rc"
}

# ---------------------------------------------------------------- processes

# pids_of NAME: pids of the processes running /usr/lib/gridengine/NAME.
pids_of() {
  local p e
  for p in $(pgrep -x "$1" || true); do
    if e=$(readlink "/proc/$p/exe" 2>/dev/null); then
      [ "$e" = "$LIBEXEC/$1" ] && echo "$p"
    elif [ "$(id -u)" != 0 ]; then   # not root: no exe link to read; skip zombies only
      [[ $(ps -o stat= -p "$p" 2>/dev/null) == Z* ]] || echo "$p"
    fi
  done
  return 0
}
running() { [ -n "$(pids_of "$1")" ]; }

wait_gone() { # NAME SECONDS
  local deadline=$(($(now_us) + $2 * 1000000))
  while running "$1"; do
    [ "$(now_us)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# ---------------------------------------------------------------- packages

pkg_installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
packages_installed() {
  local p
  for p in "${PACKAGES[@]}"; do pkg_installed "$p" || return 1; done
}

preseed() {
  local p
  for p in gridengine-common "${PACKAGES[@]}"; do
    printf '%s shared/gridengineconfig boolean true\n' "$p"
    printf '%s shared/gridenginecell string %s\n' "$p" "$SGE_CELL"
    printf '%s shared/gridenginemaster string %s\n' "$p" "$CELL_HOST"
  done | debconf-set-selections
}

# The packages' maintainer scripts start both daemons (and exim4, pulled in for mailx)
# through invoke-rc.d: forbid that while we install, unless a policy already exists
# (Docker-derived images have one that forbids everything).
POLICY=/usr/sbin/policy-rc.d
POLICY_MARK='# dmtcp-condor testdata/gridengine/cell.sh: temporary'
deny_service_starts() {
  [ -e "$POLICY" ] && return 0
  printf '#!/bin/sh\n%s\ncase "$1" in gridengine-master|gridengine-exec|exim4) exit 101 ;; esac\nexit 0\n' \
    "$POLICY_MARK" >"$POLICY"
  chmod 0755 "$POLICY"
  CLEANUPS+=("grep -qsF '$POLICY_MARK' $POLICY && rm -f $POLICY")
}

install_packages() {
  local logf; logf=$(mktemp /var/tmp/dmtcp-condor-sge-apt.XXXXXX)
  step "debconf preseed" preseed
  deny_service_starts
  # Another apt/dpkg (CI's own steps, a concurrent session) may hold the lock: wait for it.
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q --no-install-recommends
    -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  # Not "if ! step ...": a function called as a condition runs without errexit.
  local t0 rc=0
  t0=$(now_us)
  quiet "$logf" "${apt[@]}" install "${PACKAGES[@]}" || rc=$?
  log "$(printf '%-40s %s' "apt-get install ${PACKAGES[*]}" "$(fmt_us $(($(now_us) - t0)))")"
  if [ "$rc" -ne 0 ]; then
    log "apt-get install failed (exit $rc); apt-get update and retrying"
    step "apt-get update" quiet "$logf" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 update
    step "apt-get install ${PACKAGES[*]} (retry)" quiet "$logf" "${apt[@]}" install "${PACKAGES[@]}"
  fi
  packages_installed || die "apt-get install succeeded but ${PACKAGES[*]} are not all installed (log: $logf)"
  run_cleanups; CLEANUPS=()
  rm -f "$logf"
}

# ---------------------------------------------------------------- the cell's files

# Every name this host may be known by; all become aliases of CELL_HOST.
host_names() {
  local h
  h=$(hostname)
  {
    echo "$h"
    hostname -s 2>/dev/null || true
    hostname -f 2>/dev/null || true
    getent hosts "$h" 2>/dev/null | awk '{for (i = 2; i <= NF; i++) print $i}'
    getent hosts 127.0.0.1 2>/dev/null | awk '{for (i = 2; i <= NF; i++) print $i}'
    env -u SGE_ROOT -u SGE_CELL "$LIBEXEC/gethostname" -name 2>/dev/null || true
  } | grep -E '^[A-Za-z0-9][A-Za-z0-9.-]*$' | grep -vxF "$CELL_HOST" | awk '!seen[$0]++'
}

# host_aliases(5): the first name is the one Grid Engine uses, the others map to it.
aliases_line() { printf '%s' "$CELL_HOST"; host_names | while read -r n; do printf ' %s' "$n"; done; echo; }

check_loopback() {
  local a
  a=$(getent ahostsv4 "$CELL_HOST" | awk 'NR == 1 {print $1}')
  [ "$a" = 127.0.0.1 ] || die "'$CELL_HOST' resolves to '${a:-nothing}', not 127.0.0.1 (check /etc/hosts)"
  a=$(getent hosts 127.0.0.1 | awk '{print $2}')
  [ "$a" = "$CELL_HOST" ] || die "127.0.0.1 resolves to '${a:-nothing}', not '$CELL_HOST' (check /etc/hosts)"
}

# write_if_changed FILE OWNER MODE: stdin into FILE unless FILE has that content already.
write_if_changed() {
  local f=$1 owner=$2 mode=$3 new
  new=$(cat)
  if [ -f "$f" ] && [ "$(cat "$f")" = "$new" ]; then return 0; fi
  printf '%s\n' "$new" >"$f.tmp.$$"
  chown "$owner" "$f.tmp.$$"; chmod "$mode" "$f.tmp.$$"
  mv -f "$f.tmp.$$" "$f"
}

ensure_admin_user() {
  id "$ADMIN_USER" >/dev/null 2>&1 && return 0
  adduser --system --no-create-home --quiet --disabled-password --disabled-login \
    --shell /bin/false --group --home "$SGE_ROOT" "$ADMIN_USER"
}

ensure_default_file() {
  # Read by the packages' wrapper scripts (/usr/bin/q*) and init scripts. The init
  # scripts must not start the cell at boot: it runs only when cell.sh starts it.
  local f=/etc/default/gridengine t=/usr/share/gridengine/templates/gridengine.default
  if ! grep -q '^SGE_ROOT=' "$f" 2>/dev/null; then
    # Missing or broken (e.g. left empty): the package's template, as its postinst writes it.
    [ -f "$t" ] || die "$t missing: is gridengine-common installed?"
    sed "s@^SGE_CELL=.*@SGE_CELL=$SGE_CELL@" "$t" >"$f.tmp.$$"
    chmod 0644 "$f.tmp.$$"; mv -f "$f.tmp.$$" "$f"
  fi
  grep -qx "SGE_ROOT=$SGE_ROOT" "$f" || die "$f sets another SGE_ROOT than Debian's $SGE_ROOT: not supported"
  grep -qx "SGE_CELL=$SGE_CELL" "$f" || sed -i "s@^SGE_CELL=.*@SGE_CELL=$SGE_CELL@" "$f"
  grep -qx 'SGE_START_MASTERD=no' "$f" || sed -i 's/^SGE_START_MASTERD=.*/SGE_START_MASTERD=no/' "$f"
  grep -qx 'SGE_START_EXECD=no' "$f" || sed -i 's/^SGE_START_EXECD=.*/SGE_START_EXECD=no/' "$f"
}

ensure_cell_files() {
  ensure_admin_user
  ensure_default_file
  local d
  for d in "$SGE_ROOT" "$SGE_ROOT/$SGE_CELL" "$COMMON" "$SPOOL" "$SPOOL/qmaster" \
      "$SPOOL/qmaster/job_scripts" "$SPOOL/spooldb" "$SPOOL/execd" "$RUN_DIR"; do
    [ -d "$d" ] || mkdir -p "$d"
    [ "$(stat -c %U:%a "$d")" = "$ADMIN_USER:755" ] || { chown "$ADMIN_USER:$ADMIN_USER" "$d"; chmod 0755 "$d"; }
  done
  [ -f "$COMMON/bootstrap" ] ||
    install -m0644 -o "$ADMIN_USER" -g "$ADMIN_USER" /usr/share/gridengine/default-bootstrap "$COMMON/bootstrap"
  echo "$CELL_HOST" | write_if_changed "$COMMON/act_qmaster" "$ADMIN_USER:$ADMIN_USER" 0644
  aliases_line | write_if_changed "$COMMON/host_aliases" "$ADMIN_USER:$ADMIN_USER" 0644
}

# The packages' own cluster initialisation (what gridengine-master's postinst runs on a
# first install): Berkeley DB spool, global configuration, complexes, usersets, manager.
init_spool() {
  if [ -e "$SPOOL/spooldb/sge" ] && [ -f "$COMMON/settings.sh" ]; then return 0; fi
  local logf=/var/tmp/dmtcp-condor-sge-init.log
  rm -f "$SPOOL/spooldb/"* 2>/dev/null || true
  : >"$logf"
  quiet "$logf" su -s /bin/sh -c "/usr/share/gridengine/scripts/init_cluster $SGE_ROOT $SGE_CELL $SPOOL/spooldb $ADMIN_USER" "$ADMIN_USER"
  rm -f "$logf"
}

ensure_user() {
  if getent passwd "$SGE_USER" >/dev/null; then return 0; fi
  getent passwd "$SGE_UID" >/dev/null && die "uid $SGE_UID is taken by $(getent passwd "$SGE_UID" | cut -d: -f1); set DMTCP_SGE_UID"
  getent group "$SGE_UID" >/dev/null && die "gid $SGE_UID is taken by $(getent group "$SGE_UID" | cut -d: -f1); set DMTCP_SGE_UID"
  groupadd -g "$SGE_UID" "$SGE_USER"
  useradd -m -u "$SGE_UID" -g "$SGE_UID" -s /bin/bash "$SGE_USER"
  echo "$SGE_USER" >"$USER_MARKER"
}

# ---------------------------------------------------------------- daemons

start_qmaster() {
  if running sge_qmaster; then
    log "sge_qmaster already running (pid $(pids_of sge_qmaster | paste -sd' '))"
    return 0
  fi
  rm -f "$QMASTER_PIDFILE"
  (cd / && sge SGE_MASTER_PIDFILE="$QMASTER_PIDFILE" "$LIBEXEC/sge_qmaster" </dev/null >/dev/null 2>&1)
}

qmaster_answers() { sge_t 10 qconf -sh >/dev/null 2>&1; }

wait_qmaster() {
  local deadline=$(($(now_us) + START_TIMEOUT * 1000000))
  until qmaster_answers; do
    if [ "$(now_us)" -ge "$deadline" ] || ! running sge_qmaster; then
      tail -n 20 "$SPOOL/qmaster/messages" 2>/dev/null | sed 's/^/[sge]   /' >&2 || true
      die "sge_qmaster did not answer within ${START_TIMEOUT}s (log: $SPOOL/qmaster/messages)"
    fi
    sleep 0.2
  done
}

start_execd() {
  if running sge_execd; then
    log "sge_execd already running (pid $(pids_of sge_execd | paste -sd' '))"
    return 0
  fi
  rm -f "$EXECD_PIDFILE"
  (cd / && sge SGE_EXECD_PIDFILE="$EXECD_PIDFILE" "$LIBEXEC/sge_execd" </dev/null >/dev/null 2>&1)
}

# The exec host reports load (qhost shows a load average, not "-").
execd_reports() {
  local la
  la=$(sge_t 10 qhost -h "$CELL_HOST" 2>/dev/null | awk -v h="$CELL_HOST" '$1 == h {print $4}')
  [ -n "$la" ] && [ "$la" != - ]
}

# The queue instance exists and is not in state u (unknown), E (error) or d (disabled).
queue_ready() {
  local st
  st=$(sge_t 10 qstat -f -q "$QUEUE@$CELL_HOST" -u '*' 2>/dev/null | awk -v q="$QUEUE@$CELL_HOST" '$1 == q {print ($6 == "" ? "ok" : $6)}')
  [ -n "$st" ] && [[ $st != *[uEd]* ]]
}

wait_for() { # WHAT CHECKFN
  local what=$1 fn=$2 deadline=$(($(now_us) + START_TIMEOUT * 1000000))
  until "$fn"; do
    if [ "$(now_us)" -ge "$deadline" ]; then
      tail -n 20 "$SPOOL/execd/$CELL_HOST/messages" 2>/dev/null | sed 's/^/[sge]   execd: /' >&2 || true
      tail -n 20 "$SPOOL/qmaster/messages" 2>/dev/null | sed 's/^/[sge]   qmaster: /' >&2 || true
      sge_t 10 qstat -f -u '*' >&2 || true
      die "$what: not within ${START_TIMEOUT}s"
    fi
    running sge_qmaster || die "$what: sge_qmaster exited (log: $SPOOL/qmaster/messages)"
    running sge_execd || die "$what: sge_execd exited (log: $SPOOL/execd/$CELL_HOST/messages)"
    sleep 0.2
  done
}

kill_daemon() { # NAME
  local pids
  mapfile -t pids < <(pids_of "$1")
  [ "${#pids[@]}" -eq 0 ] && return 0
  log "$1: SIGTERM to ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait_gone "$1" 10 && return 0
  mapfile -t pids < <(pids_of "$1")
  log "$1 still there: SIGKILL to ${pids[*]}"
  kill -KILL "${pids[@]}" 2>/dev/null || true
  wait_gone "$1" 5 || die "cannot stop $1 (pids $(pids_of "$1" | tr '\n' ' '))"
}

# kill_orphaned_jobs: jobs whose execd is gone. Each job is the process group of a
# child of its sge_shepherd; end the groups, then the shepherds.
kill_orphaned_jobs() {
  local sh c pg pgs=()
  for sh in $(pids_of sge_shepherd); do
    for c in $(pgrep -P "$sh" || true); do
      pg=$(ps -o pgid= -p "$c" 2>/dev/null | tr -d ' ') || continue
      [ -n "$pg" ] && [ "$pg" != 0 ] && pgs+=("$pg")
    done
  done
  if [ "${#pgs[@]}" -gt 0 ]; then
    log "killing the process groups of jobs left without an execd: ${pgs[*]}"
    local g; for g in "${pgs[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
  fi
  wait_gone sge_shepherd 5 || kill_daemon sge_shepherd
}

stop_execd() {
  if running sge_execd; then
    if running sge_qmaster; then
      # -kej: kill the jobs too (their shepherds would outlive a plain -ke).
      sge_t 20 qconf -kej "$CELL_HOST" >/dev/null 2>&1 || true
      wait_gone sge_execd "$STOP_TIMEOUT" || kill_daemon sge_execd
    else
      kill_daemon sge_execd
    fi
  fi
  if running sge_shepherd; then
    wait_gone sge_shepherd 5 || kill_orphaned_jobs
  fi
  rm -f "$EXECD_PIDFILE"
}

stop_qmaster() { # [hard]
  if running sge_qmaster; then
    if [ "${1:-}" = hard ]; then
      # Only for teardown, which removes the spool: a controlled shutdown takes ~10 s.
      local pids; mapfile -t pids < <(pids_of sge_qmaster)
      kill -KILL "${pids[@]}" 2>/dev/null || true
      wait_gone sge_qmaster 10 || die "cannot stop sge_qmaster (pids ${pids[*]})"
    else
      sge_t 20 qconf -km >/dev/null 2>&1 || true
      wait_gone sge_qmaster "$STOP_TIMEOUT" || kill_daemon sge_qmaster
    fi
  fi
  rm -f "$QMASTER_PIDFILE"
}

stop_cell() { # [hard]
  if ! running sge_execd && ! running sge_qmaster && ! running sge_shepherd; then
    log "not running"
    return 0
  fi
  step "stop sge_execd and its jobs" stop_execd
  step "stop sge_qmaster" stop_qmaster "${1:-}"
}

# ---------------------------------------------------------------- configuration (qmaster up)

# merge_conf CURRENT_FILE KEY=VALUE...: print CURRENT_FILE with those keys set; exit 1
# (printing nothing) when they all have those values already. Continuation lines
# ("\" at the end) belong to their key.
merge_conf() {
  local cur=$1; shift
  awk -v kv="$(printf '%s\n' "$@")" '
    BEGIN { n = split(kv, a, "\n"); for (i = 1; i <= n; i++) if (a[i] != "") {
              k = a[i]; sub(/=.*/, "", k); v = a[i]; sub(/^[^=]*=/, "", v); want[k] = v; order[++m] = k } }
    { line = $0
      while (line ~ /\\$/ && (getline nxt) > 0) { sub(/\\$/, "", line); line = line nxt }
      k = line; sub(/[ \t].*/, "", k); v = line; sub(/^[^ \t]*[ \t]+/, "", v); gsub(/[ \t]+/, " ", v)
      if (k in want) { seen[k] = 1; if (v != want[k]) changed = 1; out[++o] = sprintf("%-32s %s", k, want[k]) }
      else out[++o] = line }
    END { for (i = 1; i <= m; i++) if (!(order[i] in seen)) { changed = 1; out[++o] = sprintf("%-32s %s", order[i], want[order[i]]) }
          if (!changed) exit 1
          for (i = 1; i <= o; i++) print out[i] }' "$cur"
}

GLOBAL_CONF=(
  min_uid=0 min_gid=0                       # root may run jobs (tests record a root job)
  load_report_time=00:00:01                 # a migrated job restarts ~4 s after qmod -sj (~9 s with 5 s)
  max_unheard=00:01:00
  mailer=/bin/true administrator_mail=none  # no mail, ever
  "reporting_params=accounting=true reporting=false flush_time=00:00:01 joblog=false sharelog=00:00:00"
)
SCHED_CONF=(schedule_interval=0:0:1 flush_submit_sec=1 flush_finish_sec=1)

GLOBAL_CHANGED=
ensure_global_conf() {
  local tmp; tmp=$(mktemp -d /var/tmp/dmtcp-condor-sge-conf.XXXXXX)
  CLEANUPS+=("rm -rf '$tmp'")
  sge qconf -sconf global >"$tmp/current"
  if merge_conf "$tmp/current" "${GLOBAL_CONF[@]}" >"$tmp/global"; then
    qc -Mconf "$tmp/global"   # the file must be named "global"
    GLOBAL_CHANGED=1
  fi
  sge qconf -ssconf >"$tmp/sched"
  if merge_conf "$tmp/sched" "${SCHED_CONF[@]}" >"$tmp/sched.new"; then
    qc -Msconf "$tmp/sched.new"
  fi
  rm -rf "$tmp"
}

ensure_hosts_registered() {
  sge qconf -sh 2>/dev/null | grep -qxF "$CELL_HOST" || qc -ah "$CELL_HOST"
  sge qconf -ss 2>/dev/null | grep -qxF "$CELL_HOST" || qc -as "$CELL_HOST"
}

# The queue's base definition (queue_conf(5)); setup creates it, reset brings it back.
queue_attrs() {
  cat <<EOF
qname=$QUEUE
hostlist=$CELL_HOST
seq_no=0
load_thresholds=NONE
suspend_thresholds=NONE
nsuspend=1
suspend_interval=00:05:00
priority=0
min_cpu_interval=00:05:00
processors=UNDEFINED
qtype=BATCH INTERACTIVE
ckpt_list=NONE
pe_list=NONE
rerun=FALSE
slots=$SLOTS
tmpdir=/tmp
shell=/bin/sh
prolog=NONE
epilog=NONE
shell_start_mode=posix_compliant
starter_method=NONE
suspend_method=NONE
resume_method=NONE
terminate_method=NONE
notify=00:00:60
owner_list=NONE
user_lists=NONE
xuser_lists=NONE
subordinate_list=NONE
complex_values=NONE
projects=NONE
xprojects=NONE
calendar=NONE
initial_state=default
EOF
  local r
  for r in rt cpu fsize data stack core rss vmem; do printf 's_%s=INFINITY\nh_%s=INFINITY\n' "$r" "$r"; done
}

ensure_queue() {
  local tmp; tmp=$(mktemp -d /var/tmp/dmtcp-condor-sge-queue.XXXXXX)
  CLEANUPS+=("rm -rf '$tmp'")
  local attrs; mapfile -t attrs < <(queue_attrs)
  if sge qconf -sq "$QUEUE" >"$tmp/current" 2>/dev/null; then
    if merge_conf "$tmp/current" "${attrs[@]}" >"$tmp/q"; then
      qc -Mq "$tmp/q"
      log "queue $QUEUE brought back to its base definition"
    fi
  else
    printf '%s\n' "${attrs[@]}" | sed 's/=/ /' >"$tmp/q"
    qc -Aq "$tmp/q"
  fi
  rm -rf "$tmp"
}

# queue_attr ATTR: the queue's current value (continuation lines joined).
queue_attr() {
  sge qconf -sq "$QUEUE" | awk -v k="$1" '
    { line = $0
      while (line ~ /\\$/ && (getline nxt) > 0) { sub(/\\$/, "", line); line = line nxt }
      split(line, f, /[ \t]+/); if (f[1] == k) { sub(/^[^ \t]*[ \t]+/, "", line); gsub(/[ \t,]+/, ",", line); print line } }'
}

# ---------------------------------------------------------------- commands

cell_set_up() { packages_installed && [ -f "$STATE" ] && [ -e "$SPOOL/spooldb/sge" ]; }

# What setup makes; a cell set up from the same digest needs no daemon work.
config_digest() {
  {
    echo "cell.sh v1 $SGE_ROOT $SGE_CELL $CELL_HOST $SGE_USER $QUEUE"
    aliases_line
    printf '%s\n' "${GLOBAL_CONF[@]}" "${SCHED_CONF[@]}"
    queue_attrs
  } | sha256sum | cut -d' ' -f1
}

already_set_up() {
  cell_set_up && getent passwd "$SGE_USER" >/dev/null &&
    [ "$(sed -n 's/^digest=//p' "$STATE")" = "$(config_digest)" ]
}

cmd_setup() { # [keep-running]
  need_root setup
  local keep=${1:-} t0 was_running=
  t0=$(now_us)
  if already_set_up; then
    step "cell files" ensure_cell_files
    log "cell already set up ($(sed -n 's/^time=//p' "$STATE")); nothing to do"
    log "$(printf '%-40s %s' "setup total" "$(fmt_us $(($(now_us) - t0)))")"
    return 0
  fi
  running sge_qmaster && was_running=1
  if packages_installed; then
    log "packages already installed: ${PACKAGES[*]}"
  else
    install_packages
  fi
  step "loopback names" check_loopback
  step "cell files, host_aliases" ensure_cell_files
  step "spool (init_cluster)" init_spool
  step "user $SGE_USER" ensure_user
  step "start sge_qmaster" start_qmaster
  step "wait for sge_qmaster" wait_qmaster
  step "global and scheduler configuration" ensure_global_conf
  step "admin and submit host" ensure_hosts_registered
  if [ -n "$GLOBAL_CHANGED" ] && running sge_execd; then
    step "restart sge_execd (configuration changed)" stop_execd
  fi
  step "start sge_execd" start_execd
  step "wait for the exec host's load report" wait_for "exec host $CELL_HOST reporting load" execd_reports
  step "queue $QUEUE" ensure_queue
  step "wait for the queue" wait_for "queue $QUEUE@$CELL_HOST ready" queue_ready
  printf 'digest=%s\ntime=%s\n' "$(config_digest)" "$(date -u +%FT%TZ)" >"$STATE"
  if [ -z "$keep" ] && [ -z "$was_running" ]; then
    stop_cell
  fi
  log "$(printf '%-40s %s' "setup total" "$(fmt_us $(($(now_us) - t0)))")"
}

cmd_start() {
  need_root start
  cell_set_up || die "no cell set up; run '$PROG setup' first"
  local t0; t0=$(now_us)
  step "cell files, host_aliases" ensure_cell_files
  step "start sge_qmaster" start_qmaster
  step "wait for sge_qmaster" wait_qmaster
  step "start sge_execd" start_execd
  step "wait for the queue" wait_for "queue $QUEUE@$CELL_HOST ready" queue_ready
  log "$(printf '%-40s %s' "start total" "$(fmt_us $(($(now_us) - t0)))")"
}

delete_all_jobs() {
  local deadline=$(($(now_us) + START_TIMEOUT * 1000000))
  [ -z "$(sge_t 10 qstat -u '*' 2>/dev/null)" ] && return 0
  sge_t 20 qdel -f -u '*' >/dev/null 2>&1 || true
  while [ -n "$(sge_t 10 qstat -u '*' 2>/dev/null)" ]; do
    [ "$(now_us)" -lt "$deadline" ] || { sge_t 10 qstat -u '*' >&2 || true; die "jobs left after qdel -f"; }
    sleep 0.2
  done
}

delete_ckpt_envs() {
  local c
  for c in $(sge_t 10 qconf -sckptl 2>/dev/null); do qc -dckpt "$c"; done
}

clear_queue_states() {
  sge_t 10 qmod -c "$QUEUE@$CELL_HOST" >/dev/null 2>&1 || true
  sge_t 10 qmod -e "$QUEUE@$CELL_HOST" >/dev/null 2>&1 || true
}

cmd_reset() {
  need_root reset
  require_running
  local t0; t0=$(now_us)
  step "delete all jobs (qdel -f)" delete_all_jobs
  step "queue $QUEUE: base definition" ensure_queue
  step "delete checkpoint environments" delete_ckpt_envs
  step "clear queue error/disabled states" clear_queue_states
  step "wait for the queue" wait_for "queue $QUEUE@$CELL_HOST ready" queue_ready
  log "$(printf '%-40s %s' "reset total" "$(fmt_us $(($(now_us) - t0)))")"
}

cmd_up() {
  cmd_setup keep-running
  cmd_start
}

cmd_stop() {
  need_root stop
  local t0; t0=$(now_us)
  stop_cell
  log "$(printf '%-40s %s' "stop total" "$(fmt_us $(($(now_us) - t0)))")"
}

remove_cell() {
  # The spool (Berkeley DB, qmaster and execd spools, job scripts) and the cell directory.
  rm -rf --one-file-system "${SPOOL:?}/spooldb" "$SPOOL/qmaster" "$SPOOL/execd" "${SGE_ROOT:?}/${SGE_CELL:?}"
  rm -f "$QMASTER_PIDFILE" "$EXECD_PIDFILE"
}

remove_user() {
  [ -f "$USER_MARKER" ] || return 0
  local u; u=$(cat "$USER_MARKER")
  [ "$u" = "$SGE_USER" ] || return 0
  if getent passwd "$u" >/dev/null; then
    pkill_user_check "$u"
    userdel -r "$u" 2>/dev/null || userdel "$u"
  fi
  getent group "$u" >/dev/null && groupdel "$u" 2>/dev/null || true
}

pkill_user_check() { # USER: refuse to delete a user that still runs processes
  local u=$1 uid
  uid=$(id -u "$u")
  local d
  for d in /proc/[0-9]*; do
    [ "$(stat -c %u "$d" 2>/dev/null)" = "$uid" ] && die "user $u still runs processes (e.g. pid ${d#/proc/}); not deleting it"
  done
  return 0
}

cmd_teardown() {
  need_root teardown
  local t0; t0=$(now_us)
  stop_cell hard
  step "remove user $SGE_USER (if ours)" remove_user
  step "remove the cell" remove_cell
  log "$(printf '%-40s %s' "teardown total" "$(fmt_us $(($(now_us) - t0)))")"
}

cmd_status() {
  if ! packages_installed; then echo "cell: packages not installed"; return 4; fi
  if ! cell_set_up; then echo "cell: not set up"; return 4; fi
  echo "cell: set up (SGE_ROOT=$SGE_ROOT SGE_CELL=$SGE_CELL host=$CELL_HOST user=$SGE_USER queue=$QUEUE)"
  local rc=0 d
  for d in sge_qmaster sge_execd; do
    if running "$d"; then echo "$d: running (pid $(pids_of "$d" | paste -sd' '))"; else echo "$d: not running"; rc=3; fi
  done
  if [ "$rc" = 0 ] && [ "$(id -u)" = 0 ]; then
    sge_t 10 qstat -f -u '*' 2>&1 || rc=3
    queue_ready || { echo "queue $QUEUE@$CELL_HOST: not ready"; rc=3; }
  fi
  return "$rc"
}

cmd_info() {
  local uid='' gid='' home=''
  if getent passwd "$SGE_USER" >/dev/null; then
    uid=$(id -u "$SGE_USER"); gid=$(id -g "$SGE_USER"); home=$(getent passwd "$SGE_USER" | cut -d: -f6)
  else
    uid=$SGE_UID; gid=$SGE_UID; home=/home/$SGE_USER
  fi
  cat <<EOF
SGE_ROOT=$SGE_ROOT
SGE_CELL=$SGE_CELL
host=$CELL_HOST
user=$SGE_USER
uid=$uid
gid=$gid
home=$home
queue=$QUEUE
slots=$SLOTS
qmaster_spool=$SPOOL/qmaster
qmaster_messages=$SPOOL/qmaster/messages
execd_spool=$SPOOL/execd/$CELL_HOST
execd_messages=$SPOOL/execd/$CELL_HOST/messages
job_spool=$SPOOL/execd/$CELL_HOST/active_jobs
spooldb=$SPOOL/spooldb
accounting=$COMMON/accounting
bindir=/usr/bin
EOF
  if cell_set_up; then echo "setup=yes"; else echo "setup=no"; fi
  if running sge_qmaster && running sge_execd; then echo "running=yes"; else echo "running=no"; fi
}

cell_env() { # USER UID GID HOME
  echo PATH="$SGE_PATH" HOME="$4" USER="$1" LOGNAME="$1" SHELL=/bin/bash LANG=C.UTF-8 \
    SGE_ROOT="$SGE_ROOT" SGE_CELL="$SGE_CELL"
}

cmd_run_as_user() {
  need_root run-as-user
  [ "$#" -gt 0 ] || die "usage: $PROG run-as-user CMD [ARGS...]"
  getent passwd "$SGE_USER" >/dev/null || die "no user $SGE_USER; run '$PROG setup' first"
  local uid gid home
  uid=$(id -u "$SGE_USER"); gid=$(id -g "$SGE_USER"); home=$(getent passwd "$SGE_USER" | cut -d: -f6)
  local as=(setpriv --reuid="$uid" --regid="$gid" --init-groups)
  "${as[@]}" test -w . -a -x . 2>/dev/null ||
    die "run-as-user: the current directory $(pwd) is not writable by $SGE_USER (uid $uid); use a directory under /tmp owned by it"
  exec "${as[@]}" env -i PATH="$SGE_PATH" HOME="$home" USER="$SGE_USER" LOGNAME="$SGE_USER" \
    SHELL=/bin/bash LANG=C.UTF-8 SGE_ROOT="$SGE_ROOT" SGE_CELL="$SGE_CELL" "$@"
}

cmd_run() {
  need_root run
  [ "$#" -gt 0 ] || die "usage: $PROG run CMD [ARGS...]"
  exec env -i PATH="$SGE_PATH" HOME=/root USER=root LOGNAME=root SHELL=/bin/bash LANG=C.UTF-8 \
    SGE_ROOT="$SGE_ROOT" SGE_CELL="$SGE_CELL" "$@"
}

require_running() {
  cell_set_up || die "no cell set up; run '$PROG setup' first"
  qmaster_answers || die "the cell is not running; run '$PROG start' first"
}

cmd_ckpt_env() {
  need_root ckpt-env
  [ "$#" -eq 1 ] && [ -f "$1" ] || die "usage: $PROG ckpt-env FILE (a checkpoint(5) definition)"
  require_running
  local f name dir list t0
  t0=$(now_us)
  f=$(realpath -- "$1")
  name=$(awk '$1 == "ckpt_name" {print $2}' "$f")
  [[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || die "$f: no valid ckpt_name"
  dir=$(awk '$1 == "ckpt_dir" {print $2}' "$f")
  if [[ $dir == /* ]] && [ ! -d "$dir" ]; then
    mkdir -p "$dir"; chmod 1777 "$dir"
  fi
  if sge qconf -sckpt "$name" >/dev/null 2>&1; then
    qc -Mckpt "$f"
  else
    qc -Ackpt "$f"
  fi
  list=$(queue_attr ckpt_list)
  if [ "$list" = NONE ] || [ -z "$list" ]; then
    qc -rattr queue ckpt_list "$name" "$QUEUE"
  elif ! tr ',' '\n' <<<"$list" | grep -qxF "$name"; then
    qc -rattr queue ckpt_list "$list,$name" "$QUEUE"
  fi
  log "$(printf '%-40s %s' "checkpoint environment $name on $QUEUE" "$(fmt_us $(($(now_us) - t0)))")"
}

cmd_set_starter() {
  need_root set-starter
  [ "$#" -eq 1 ] || die "usage: $PROG set-starter PATH|NONE"
  local p=$1
  if [ "$p" != NONE ]; then
    [[ $p == /* ]] || die "set-starter: the path must be absolute: $p"
    [ -f "$p" ] && [ -x "$p" ] || die "set-starter: not an executable file: $p"
  fi
  require_running
  qc -rattr queue starter_method "$p" "$QUEUE"
  log "starter_method of $QUEUE: $p"
}

cmd_set_queue() {
  need_root set-queue
  [ "$#" -eq 2 ] || die "usage: $PROG set-queue ATTR VALUE"
  require_running
  qc -rattr queue "$1" "$2" "$QUEUE"
  log "$1 of $QUEUE: $2"
}

cmd_smoke() {
  need_root smoke
  require_running
  local d out t0
  d=$(mktemp -d /tmp/dmtcp-condor-sge-smoke.XXXXXX)
  chown "$(id -u "$SGE_USER"):$(id -g "$SGE_USER")" "$d"
  t0=$(now_us)
  out=$(cd "$d" && "$SELF" run-as-user qsub -sync y -cwd -b y -o out.txt -j y /bin/echo hello) ||
    die "qsub -sync y failed: $out (job directory kept: $d)"
  [ "$(cat "$d/out.txt" 2>/dev/null)" = hello ] || die "unexpected output in $d/out.txt: $(cat "$d/out.txt" 2>/dev/null)"
  log "$(printf '%-40s %s' "smoke: qsub -sync y /bin/echo" "$(fmt_us $(($(now_us) - t0)))")"
  rm -rf "$d"
}

usage() {
  sed -n '/^# Usage:/,/^# Progress/p' "$0" | sed 's/^# \{0,1\}//'
}

# ---------------------------------------------------------------- main

LOCK=/run/lock/dmtcp-condor-sge-cell.lock
with_lock() {
  # Serialise the commands that change the cell (run, run-as-user, status, info do not lock).
  # Every process started meanwhile gets fd 9 closed (see sge()).
  need_root "${1#cmd_}"
  [ -d "${LOCK%/*}" ] || LOCK=/tmp/${LOCK##*/}
  exec 9>"$LOCK"
  flock -w 900 9 || die "timed out waiting for the lock $LOCK"
  "$@"
}

main() {
  local cmd=${1:-}
  [ "$#" -gt 0 ] && shift
  validate
  case $cmd in
    setup) with_lock cmd_setup ;;
    start) with_lock cmd_start ;;
    up) with_lock cmd_up ;;
    stop) with_lock cmd_stop ;;
    reset) with_lock cmd_reset ;;
    teardown) with_lock cmd_teardown ;;
    status) cmd_status ;;
    info) cmd_info ;;
    run-as-user) cmd_run_as_user "$@" ;;
    run) cmd_run "$@" ;;
    ckpt-env) with_lock cmd_ckpt_env "$@" ;;
    set-starter) with_lock cmd_set_starter "$@" ;;
    set-queue) with_lock cmd_set_queue "$@" ;;
    smoke) cmd_smoke ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
