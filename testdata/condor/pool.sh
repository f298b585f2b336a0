#!/usr/bin/env bash
# pool.sh: a loopback-only personal HTCondor pool for dmtcp-condor's tests and CI.
#
# HTCondor 23.9 (Debian 13 "trixie", package minicondor) runs as root in a Debian 13
# chroot made with debootstrap from the Debian mirror the host's apt already uses.
# Every daemon listens on 127.0.0.1 only. Jobs are submitted by an unprivileged user
# of the chroot (root cannot submit). The host's /tmp is bind-mounted onto the chroot's
# /tmp, so a job directory under /tmp has the same path inside and outside.
#
# Usage: pool.sh COMMAND [ARGS...]   (run as root; see README.md next to this file)
#   setup             create the chroot, install minicondor, write the config, add the user
#   start             mount, start condor_master, wait until a slot and the schedd answer
#   up                setup, then start
#   stop              stop gracefully (condor_off -graceful), fall back to -fast, then signals
#   teardown          stop, unmount everything, remove the chroot
#   status            print the state; exit 0 running, 3 set up but not running, 4 not set up
#   info              print key=value facts for test drivers (root, user, uid, ...)
#   run-as-user CMD.. run CMD in the chroot as the submitting user, clean env, in the
#                     current directory (which must be /tmp or below)
#   run CMD...        run CMD in the chroot as root, clean env (in the current directory
#                     if it is under /tmp, else in /)
#   smoke             submit /bin/echo as the user and wait for ExitCode 0 in condor_history
#
# Environment (all optional):
#   DMTCP_CONDOR_POOL_ROOT           chroot directory (default /var/tmp/dmtcp-condor-pool/root)
#   DMTCP_CONDOR_POOL_USER           submitting user's name (default submitter)
#   DMTCP_CONDOR_POOL_UID            its uid and gid (default 1000)
#   DMTCP_CONDOR_POOL_MIRROR         Debian mirror URL (default: read from the host's apt sources)
#   DMTCP_CONDOR_POOL_SUITE          Debian suite (default trixie)
#   DMTCP_CONDOR_POOL_NUM_CPUS       NUM_CPUS for the startd (default: HTCondor's detection);
#                                    a change restarts a running pool
#   DMTCP_CONDOR_POOL_PACKAGES       extra Debian packages for the chroot (default none: the
#                                    node is as bare as a real one, and a bundle must bring
#                                    what DMTCP needs, such as libatomic1; python3 and bash
#                                    for the test jobs come with minicondor)
#   DMTCP_CONDOR_POOL_START_TIMEOUT  seconds to wait for the pool to answer (default 60)
#   DMTCP_CONDOR_POOL_STOP_TIMEOUT   seconds to wait for a graceful stop (default 30)
#
# Progress and timings go to stderr, prefixed with "[pool]".

set -Eeuo pipefail
export LC_ALL=C

ROOT_DEFAULT=/var/tmp/dmtcp-condor-pool/root
ROOT=$(realpath -m -- "${DMTCP_CONDOR_POOL_ROOT:-$ROOT_DEFAULT}")
POOL_USER=${DMTCP_CONDOR_POOL_USER:-submitter}
POOL_UID=${DMTCP_CONDOR_POOL_UID:-1000}
SUITE=${DMTCP_CONDOR_POOL_SUITE:-trixie}
START_TIMEOUT=${DMTCP_CONDOR_POOL_START_TIMEOUT:-60}
STOP_TIMEOUT=${DMTCP_CONDOR_POOL_STOP_TIMEOUT:-30}
NUM_CPUS=${DMTCP_CONDOR_POOL_NUM_CPUS:-}
PACKAGES=${DMTCP_CONDOR_POOL_PACKAGES-}

CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
STATE_DIR=/var/lib/dmtcp-condor-pool          # inside the chroot
ROOT_MARKER=.dmtcp-condor-pool-root            # file at the top of ROOT: ours, may be removed
CONFIG_FILE=/etc/condor/config.d/99-dmtcp-condor-pool.conf
MASTER_PIDFILE=/run/condor/dmtcp-condor-pool-master.pid
CONDOR_LOG_DIR=/var/log/condor

PROG=${0##*/}

log() { printf '[pool] %s\n' "$*" >&2; }

# quiet LOGFILE CMD...: run CMD with its output in LOGFILE; show the end of it on failure.
quiet() {
  local logf=$1 rc=0; shift
  "$@" >>"$logf" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    log "command failed (exit $rc): $*; last lines of $logf:"
    tail -n 25 "$logf" | sed 's/^/[pool]   /' >&2
  fi
  return "$rc"
}
die() { printf '[pool] ERROR: %s\n' "$*" >&2; exit 1; }

CURRENT_STEP=
trap 'rc=$?; [ -n "$CURRENT_STEP" ] && printf "[pool] ERROR: step \"%s\" failed (exit %s)\n" "$CURRENT_STEP" "$rc" >&2; exit $rc' ERR

now_us() { local t=${EPOCHREALTIME/[.,]/}; echo "${t#0}"; }
fmt_us() { printf '%d.%02ds' $(($1 / 1000000)) $((($1 % 1000000) / 10000)); }

# step NAME CMD...: run CMD, print how long it took.
step() {
  local name=$1; shift
  local t0; t0=$(now_us)
  CURRENT_STEP=$name
  "$@"
  CURRENT_STEP=
  log "$(printf '%-34s %s' "$name" "$(fmt_us $(($(now_us) - t0)))")"
}

validate() {
  case $ROOT in
    /|"") die "refusing chroot directory '$ROOT'" ;;
  esac
  [[ $ROOT =~ ^/[^[:space:]]+/[^[:space:]]+$ ]] ||
    die "chroot directory must be an absolute path of at least two components without whitespace: '$ROOT'"
  case $ROOT in /tmp|/tmp/*) die "the chroot directory must not be under /tmp (it is bind-mounted inside): $ROOT" ;; esac
  [[ $POOL_UID =~ ^[0-9]+$ ]] && [ "$POOL_UID" -gt 0 ] || die "DMTCP_CONDOR_POOL_UID must be a positive number"
  [[ $POOL_USER =~ ^[a-z_][a-z0-9_-]*$ ]] || die "bad user name '$POOL_USER'"
}

need_root() { [ "$(id -u)" = 0 ] || die "$PROG $1 must run as root"; }

# in_root CMD...: run CMD inside the chroot as root with a clean environment.
# fd 9 (the lock) is closed: a daemon started here must not keep the lock.
in_root() {
  chroot "$ROOT" /usr/bin/env -i PATH="$CHROOT_PATH" HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@" 9>&-
}

# in_root_timeout SECONDS CMD...: in_root with a time limit.
in_root_timeout() {
  local t=$1; shift
  timeout "$t" chroot "$ROOT" /usr/bin/env -i PATH="$CHROOT_PATH" HOME=/root LANG=C.UTF-8 "$@" 9>&-
}

# ---------------------------------------------------------------- mounts

# Mount points at or below ROOT, in mount order (mountinfo field 5, octal escapes decoded).
mounts_under_root() {
  local mp
  while read -r mp; do
    mp=$(printf '%b' "$mp")
    if [ "$mp" = "$ROOT" ] || [[ $mp == "$ROOT"/* ]]; then echo "$mp"; fi
  done < <(awk '{print $5}' /proc/self/mountinfo)
}

unmount_all() {
  local mp mps
  for _ in 1 2 3 4 5; do
    mapfile -t mps < <(mounts_under_root | tac)
    [ "${#mps[@]}" -eq 0 ] && return 0
    for mp in "${mps[@]}"; do
      umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true
    done
  done
  mapfile -t mps < <(mounts_under_root)
  [ "${#mps[@]}" -eq 0 ] || die "cannot unmount: ${mps[*]}"
}

mount_all() {
  # HTCondor gives each job a private /tmp through a mount namespace; that fails with
  # EINVAL unless the chroot root is a mount point, so bind ROOT onto itself first.
  # (A non-recursive bind would hide mounts already under ROOT: clear them first.)
  if ! mountpoint -q "$ROOT"; then
    unmount_all
    mount --bind "$ROOT" "$ROOT"
  fi
  mount --make-private "$ROOT"
  mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
  # A fresh sysfs, not the host's /sys: HTCondor must not see (and use) the host's cgroups.
  mountpoint -q "$ROOT/sys" || mount -t sysfs sysfs "$ROOT/sys"
  if ! mountpoint -q "$ROOT/dev"; then
    mount --rbind /dev "$ROOT/dev"
    mount --make-rslave "$ROOT/dev"
  fi
  # Job directories live under /tmp and have the same path inside and outside.
  mountpoint -q "$ROOT/tmp" || mount --bind /tmp "$ROOT/tmp"
}

# ---------------------------------------------------------------- processes

# PIDs of processes whose root directory is ROOT (the pool's daemons and jobs).
root_pids() {
  local d r
  for d in /proc/[0-9]*; do
    r=$(readlink "$d/root" 2>/dev/null) || continue
    if [ "$r" = "$ROOT" ] || [[ $r == "$ROOT"/* ]]; then echo "${d#/proc/}"; fi
  done
}

master_pid() {
  local f=$ROOT$MASTER_PIDFILE pid r
  [ -s "$f" ] || return 1
  pid=$(tr -dc 0-9 <"$f")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = condor_master ] || return 1
  r=$(readlink "/proc/$pid/root" 2>/dev/null) || return 1
  [ "$r" = "$ROOT" ] || return 1
  echo "$pid"
}

kill_root_pids() {
  local sig=$1 pids
  mapfile -t pids < <(root_pids)
  [ "${#pids[@]}" -eq 0 ] && return 0
  log "sending SIG$sig to ${#pids[@]} process(es) left in the chroot: ${pids[*]}"
  kill "-$sig" "${pids[@]}" 2>/dev/null || true
}

wait_no_root_pids() { # SECONDS
  local deadline=$(($(now_us) + $1 * 1000000))
  while [ -n "$(root_pids)" ]; do
    [ "$(now_us)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# ---------------------------------------------------------------- setup

host_mirror() {
  local re='^(buster|bullseye|bookworm|trixie|forky|duke|sid|oldoldstable|oldstable|stable|testing|unstable)$'
  local f
  shopt -s nullglob
  {
    for f in /etc/apt/sources.list.d/*.sources; do
      awk -v re="$re" '
        function flush(   n, s, i, ok, m, u) {
          if (uris != "" && types ~ /(^|[ \t])deb([ \t]|$)/ && tolower(enabled) !~ /^no/) {
            n = split(suites, s, /[ \t]+/); ok = 0
            for (i = 1; i <= n; i++) if (s[i] ~ re) ok = 1
            if (ok) { m = split(uris, u, /[ \t]+/); for (i = 1; i <= m; i++) if (u[i] != "") print u[i] }
          }
          uris = ""; types = ""; suites = ""; enabled = ""; last = ""
        }
        /^#/ { next }
        /^[ \t]*$/ { flush(); next }
        /^[ \t]/ { v = $0; sub(/^[ \t]+/, "", v)
                   if (last == "uris") uris = uris " " v; else if (last == "suites") suites = suites " " v
                   else if (last == "types") types = types " " v; next }
        { k = tolower($0); sub(/:.*/, "", k); v = $0; sub(/^[^:]*:[ \t]*/, "", v); last = k
          if (k == "types") types = v; else if (k == "uris") uris = v
          else if (k == "suites") suites = v; else if (k == "enabled") enabled = v }
        END { flush() }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      awk -v re="$re" '
        $1 == "deb" { i = 2
          if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
          if ($(i + 1) ~ re) print $i }' "$f"
    done
  } | grep -E '^(https?|file):' | head -n 1
}

ensure_host_tools() {
  local pkgs=()
  command -v debootstrap >/dev/null || pkgs+=(debootstrap)
  [ -s /usr/share/keyrings/debian-archive-keyring.gpg ] || pkgs+=(debian-archive-keyring)
  [ "${#pkgs[@]}" -eq 0 ] && return 0
  log "installing on the host: ${pkgs[*]}"
  local logf; logf=$(mktemp /var/tmp/dmtcp-condor-pool-apt.XXXXXX)
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}" >"$logf" 2>&1 || {
    quiet "$logf" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    quiet "$logf" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}"
  }
  rm -f "$logf"
}

do_debootstrap() {
  local mirror=${DMTCP_CONDOR_POOL_MIRROR:-}
  if [ -z "$mirror" ]; then
    mirror=$(host_mirror) || true
    [ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d/*}; set DMTCP_CONDOR_POOL_MIRROR"
  fi
  local script=()
  if [ ! -e "/usr/share/debootstrap/scripts/$SUITE" ] && [ -e /usr/share/debootstrap/scripts/sid ]; then
    script=(/usr/share/debootstrap/scripts/sid)
  fi
  if [ -e "$ROOT" ]; then
    log "removing an incomplete chroot at $ROOT"
    remove_root
  fi
  mkdir -p "$ROOT"
  : >"$ROOT/$ROOT_MARKER"
  log "debootstrap --variant=minbase $SUITE $ROOT $mirror"
  local logf=$ROOT.debootstrap.log
  if ! debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
      "$SUITE" "$ROOT" "$mirror" "${script[@]}" >"$logf" 2>&1; then
    tail -n 30 "$logf" >&2 || true
    [ -f "$ROOT/debootstrap/debootstrap.log" ] && tail -n 30 "$ROOT/debootstrap/debootstrap.log" >&2
    unmount_all || true
    die "debootstrap failed (log: $logf)"
  fi
  rm -f "$logf"
  unmount_all   # debootstrap may leave proc/sys mounted
  mkdir -p "$ROOT$STATE_DIR"
  : >"$ROOT$STATE_DIR/debootstrap.done"
}

ensure_policy_rc_d() {
  # The package's install step expects systemd: never start services in the chroot.
  local f=$ROOT/usr/sbin/policy-rc.d
  if [ ! -x "$f" ] || ! grep -q 'exit 101' "$f"; then
    printf '#!/bin/sh\n# dmtcp-condor pool: no service starts inside the chroot\nexit 101\n' >"$f"
    chmod 0755 "$f"
  fi
}

# install_packages PKG...: apt-get install the packages, with one apt-get update.
install_packages() {
  local logf=$ROOT$STATE_DIR/apt.log
  quiet "$logf" in_root apt-get update -q
  quiet "$logf" in_root apt-get install -y -q --no-install-recommends "$@"
  quiet "$logf" in_root apt-get clean
}

installed() { # PKG
  [ "$(in_root dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

# missing_packages: minicondor and $PACKAGES that are not installed yet.
missing_packages() {
  local p
  for p in minicondor $PACKAGES; do
    [[ $p =~ ^[a-z0-9][a-z0-9+.-]*$ ]] || die "bad package name '$p' in DMTCP_CONDOR_POOL_PACKAGES"
    installed "$p" || echo "$p"
  done
}

ensure_dirs() {
  # Made by systemd-tmpfiles on a real system; condor:condor, and the execute
  # directory must be 0755 (else the startd exits with status 4).
  in_root sh -ec '
    for d in /run/condor /run/lock/condor /var/spool/condor /var/lib/condor /var/lib/condor/execute /var/log/condor; do
      mkdir -p "$d"; chown condor:condor "$d"; chmod 0755 "$d"
    done
    # FS authentication (FS_LOCAL_DIR): a world-writable sticky directory of
    # the chroot itself, so a host /tmp without mode 1777 cannot break it.
    mkdir -p /var/lib/condor/fs-auth; chown root:root /var/lib/condor/fs-auth; chmod 1777 /var/lib/condor/fs-auth'
}

ensure_hosts() {
  local h f=$ROOT/etc/hosts
  h=$(hostname)
  touch "$f"
  grep -Eq '^127\.0\.0\.1([[:space:]].*)?[[:space:]]localhost([[:space:]]|$)' "$f" || echo "127.0.0.1 localhost" >>"$f"
  if [ -n "$h" ] && ! grep -Eq "^127\.0\.0\.1([[:space:]].*)?[[:space:]]${h//./\\.}([[:space:]]|$)" "$f"; then
    echo "127.0.0.1 $h" >>"$f"
  fi
}

config_text() {
  cat <<'EOF'
# Written by dmtcp-condor's testdata/condor/pool.sh: a loopback-only personal pool
# for tests. Do not edit; rerun "pool.sh setup" instead.
NETWORK_INTERFACE = 127.0.0.1
BIND_ALL_INTERFACES = False
ENABLE_IPV6 = False
ENABLE_IPV4 = True
CONDOR_HOST = 127.0.0.1
MAIL = /bin/true
START = True
SUSPEND = False
PREEMPT = False
KILL = False
JOB_DEFAULT_LEASE_DURATION = 120
# The tools authenticate to the schedd by creating a file here (default /tmp,
# which is the host's /tmp bind-mounted, and not always mode 1777).
FS_LOCAL_DIR = /var/lib/condor/fs-auth
# Fast cycles for tests: submit->done in seconds, vacate->running again in ~1 s.
SCHEDD_INTERVAL = 1
NEGOTIATOR_INTERVAL = 1
NEGOTIATOR_CYCLE_DELAY = 1
UPDATE_INTERVAL = 2
STARTER_UPDATE_INTERVAL = 2
SHADOW_QUEUE_UPDATE_INTERVAL = 2
# Without these the negotiator still waits 5 s between cycles (submit->done ~5 s).
NEGOTIATOR_MIN_INTERVAL = 1
SCHEDD_MIN_INTERVAL = 1
POLLING_INTERVAL = 1
STARTER_INITIAL_UPDATE_INTERVAL = 2
PERIODIC_EXPR_INTERVAL = 2
EOF
  if [ -n "$NUM_CPUS" ]; then echo "NUM_CPUS = $NUM_CPUS"; fi
}

# ensure_config: write the local config; sets CONFIG_CHANGED if it did, and
# NEED_RESTART if NUM_CPUS changed (the startd reads it only when it starts).
ensure_config() {
  local f=$ROOT$CONFIG_FILE new old=
  new=$(config_text)
  [ -f "$f" ] && old=$(cat "$f")
  if [ "$old" != "$new" ]; then
    mkdir -p "${f%/*}"
    printf '%s\n' "$new" >"$f.tmp" && mv "$f.tmp" "$f"
    CONFIG_CHANGED=1
    if [ "$(grep '^NUM_CPUS' <<<"$old")" != "$(grep '^NUM_CPUS' <<<"$new")" ]; then NEED_RESTART=1; fi
  fi
}

# apply_config: make a running pool use a changed config.
apply_config() {
  [ -n "$CONFIG_CHANGED" ] && master_pid >/dev/null || return 0
  if [ -z "$NEED_RESTART" ] && in_root_timeout 20 condor_reconfig >&2; then
    log "condor_reconfig (config changed)"
    return 0
  fi
  # NUM_CPUS is read only at start; and a reconfig may be refused (e.g. the
  # change repairs authentication): restart.
  step "stop (config changed)" stop_pool
  step "start condor_master" start_master
  step "wait for a slot and the schedd" wait_ready
}

ensure_user() {
  in_root sh -ec '
    user=$1; uid=$2
    if getent passwd "$user" >/dev/null; then
      [ "$(id -u "$user")" = "$uid" ] || { echo "user $user exists with uid $(id -u "$user"), not $uid" >&2; exit 1; }
      exit 0
    fi
    getent group "$uid" >/dev/null || groupadd -g "$uid" "$user"
    useradd -m -u "$uid" -g "$uid" -s /bin/sh "$user"' ensure-user "$POOL_USER" "$POOL_UID"
}

ensure_light() { # cheap, idempotent, run by setup and start
  ensure_policy_rc_d
  ensure_dirs
  ensure_hosts
  ensure_config
  ensure_user
}

cmd_setup() {
  need_root setup
  local t0; t0=$(now_us)
  CONFIG_CHANGED= NEED_RESTART=
  step "host: debootstrap present" ensure_host_tools
  if [ -f "$ROOT$STATE_DIR/debootstrap.done" ]; then
    log "chroot already bootstrapped at $ROOT"
  else
    step "debootstrap $SUITE (minbase)" do_debootstrap
  fi
  step "policy-rc.d" ensure_policy_rc_d
  step "mounts" mount_all
  local missing
  missing=$(missing_packages | tr '\n' ' ')
  if [ -z "${missing// /}" ]; then
    log "minicondor${PACKAGES:+ and $PACKAGES} already installed"
  else
    step "apt-get install ${missing% }" install_packages $missing
  fi
  step "directories, hosts, config, user" ensure_light
  : >"$ROOT$STATE_DIR/setup.done"
  apply_config
  log "$(printf '%-34s %s' "setup total" "$(fmt_us $(($(now_us) - t0)))")"
}

# ---------------------------------------------------------------- start / stop

pool_answers() {
  local slots
  slots=$(in_root_timeout 10 condor_status -af Name 2>/dev/null) || return 1
  [ -n "$slots" ] || return 1
  in_root_timeout 10 condor_q -totals >/dev/null 2>&1
}

start_master() {
  if master_pid >/dev/null; then
    log "condor_master already running (pid $(master_pid))"
    return 0
  fi
  # A hard stop may leave daemons behind without their master.
  if [ -n "$(root_pids)" ]; then
    kill_root_pids TERM
    wait_no_root_pids 10 || { kill_root_pids KILL; wait_no_root_pids 5 || die "processes left in the chroot: $(root_pids | tr '\n' ' ')"; }
  fi
  rm -f "$ROOT$MASTER_PIDFILE"
  # The master must not inherit a descriptor of its caller: "flock LOCK pool.sh start"
  # would leave LOCK held by the daemons for as long as the pool runs, and every later
  # "flock LOCK ..." would wait for ever.
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
    done
    in_root condor_master -pidfile "$MASTER_PIDFILE" >&2
  )
}

wait_ready() {
  local deadline=$(($(now_us) + START_TIMEOUT * 1000000))
  until pool_answers; do
    if [ "$(now_us)" -ge "$deadline" ]; then
      log "the pool did not answer within ${START_TIMEOUT}s (no slot in condor_status or condor_q failing)"
      local l
      for l in MasterLog CollectorLog NegotiatorLog SchedLog StartLog; do
        [ -f "$ROOT$CONDOR_LOG_DIR/$l" ] || continue
        printf '[pool] ---- tail %s/%s\n' "$CONDOR_LOG_DIR" "$l" >&2
        tail -n 15 "$ROOT$CONDOR_LOG_DIR/$l" >&2
      done
      die "HTCondor pool did not become ready within ${START_TIMEOUT}s (logs: $ROOT$CONDOR_LOG_DIR)"
    fi
    if ! master_pid >/dev/null; then
      if [ -f "$ROOT$CONDOR_LOG_DIR/MasterLog" ]; then tail -n 20 "$ROOT$CONDOR_LOG_DIR/MasterLog" >&2; fi
      die "condor_master exited (logs: $ROOT$CONDOR_LOG_DIR)"
    fi
    sleep 0.2
  done
}

cmd_start() {
  need_root start
  [ -f "$ROOT$STATE_DIR/setup.done" ] || die "no pool set up at $ROOT; run '$PROG setup' first"
  local t0; t0=$(now_us)
  CONFIG_CHANGED= NEED_RESTART=
  step "mounts" mount_all
  step "directories, hosts, config, user" ensure_light
  apply_config
  step "start condor_master" start_master
  step "wait for a slot and the schedd" wait_ready
  log "$(printf '%-34s %s' "start total" "$(fmt_us $(($(now_us) - t0)))")"
}

wait_master_gone() { # SECONDS
  local deadline=$(($(now_us) + $1 * 1000000))
  while master_pid >/dev/null; do
    [ "$(now_us)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

stop_pool() {
  local pid
  if pid=$(master_pid); then
    # Graceful: running jobs get their kill_sig; a hard stop would leave them
    # "disconnected" for the whole job lease.
    if ! in_root_timeout 20 condor_off -graceful -master >&2; then
      kill -TERM "$pid" 2>/dev/null || true   # SIGTERM to the master: graceful shutdown
    fi
    if ! wait_master_gone "$STOP_TIMEOUT"; then
      log "graceful stop took more than ${STOP_TIMEOUT}s; stopping fast"
      in_root_timeout 20 condor_off -fast -master >&2 ||
        kill -QUIT "$pid" 2>/dev/null || true      # SIGQUIT to the master: fast shutdown
      wait_master_gone 15 || kill -KILL "$pid" 2>/dev/null || true
    fi
  else
    log "condor_master is not running"
  fi
  rm -f "$ROOT$MASTER_PIDFILE"
  # Whatever is left (daemons of a crashed master, orphaned jobs) is ours: end it.
  if [ -n "$(root_pids)" ]; then
    wait_no_root_pids 5 || { kill_root_pids TERM; wait_no_root_pids 10 ||
      { kill_root_pids KILL; wait_no_root_pids 5 || die "processes left in the chroot: $(root_pids | tr '\n' ' ')"; }; }
  fi
}

cmd_stop() {
  need_root stop
  [ -d "$ROOT" ] || { log "no pool at $ROOT"; return 0; }
  step "stop" stop_pool
}

remove_root() {
  [ -d "$ROOT" ] || { rm -f "$ROOT"; return 0; }
  unmount_all
  # Never follow the /tmp bind: make sure nothing is mounted below ROOT any more.
  [ -z "$(mounts_under_root)" ] || die "still mounted under $ROOT: $(mounts_under_root | tr '\n' ' ')"
  if [ -d "$ROOT/tmp" ] && [ "$(stat -c %d:%i "$ROOT/tmp")" = "$(stat -c %d:%i /tmp)" ]; then
    die "$ROOT/tmp is the host's /tmp; refusing to remove"
  fi
  if [ ! -e "$ROOT/$ROOT_MARKER" ] && [ -n "$(ls -A "$ROOT")" ]; then
    die "$ROOT was not made by $PROG (no $ROOT_MARKER); refusing to remove it"
  fi
  rm -rf --one-file-system "$ROOT"
}

cmd_teardown() {
  need_root teardown
  local t0; t0=$(now_us)
  if [ -d "$ROOT" ]; then
    step "stop" stop_pool
    step "unmount" unmount_all
    step "remove $ROOT" remove_root
  else
    step "unmount" unmount_all
    log "no pool at $ROOT"
  fi
  rm -f "$ROOT.debootstrap.log" "$(lock_file)"
  rmdir "${ROOT%/*}" 2>/dev/null || true
  log "$(printf '%-34s %s' "teardown total" "$(fmt_us $(($(now_us) - t0)))")"
}

# ---------------------------------------------------------------- status / info / run

cmd_status() {
  if [ ! -f "$ROOT$STATE_DIR/setup.done" ]; then
    echo "pool: not set up (root $ROOT)"
    return 4
  fi
  echo "pool: set up at $ROOT (user $POOL_USER, uid $POOL_UID)"
  echo "mounts:"
  mounts_under_root | sed 's/^/  /'
  local pid
  if ! pid=$(master_pid); then
    echo "condor_master: not running"
    return 3
  fi
  echo "condor_master: running (pid $pid)"
  if [ "$(id -u)" = 0 ]; then
    in_root condor_status 2>&1 || true
    in_root condor_q -allusers -totals 2>&1 || true
    pool_answers || { echo "pool: not answering"; return 3; }
  fi
  return 0
}

cmd_info() {
  local gid=$POOL_UID
  printf 'root=%s\nuser=%s\nuid=%s\ngid=%s\nsuite=%s\nconfig=%s\nlogdir=%s\njobdir_parent=/tmp\n' \
    "$ROOT" "$POOL_USER" "$POOL_UID" "$gid" "$SUITE" "$ROOT$CONFIG_FILE" "$ROOT$CONDOR_LOG_DIR"
  if [ -f "$ROOT$STATE_DIR/setup.done" ]; then echo "setup=yes"; else echo "setup=no"; fi
  if master_pid >/dev/null 2>&1; then echo "running=yes"; else echo "running=no"; fi
}

require_mounted() {
  [ -f "$ROOT$STATE_DIR/setup.done" ] || die "no pool set up at $ROOT; run '$PROG setup' first"
  mountpoint -q "$ROOT/tmp" && mountpoint -q "$ROOT/proc" ||
    die "the chroot is not mounted; run '$PROG start' first"
}

# as_user DIR CMD...: run CMD in the chroot as the submitting user, clean env, in DIR.
as_user() {
  local dir=$1; shift
  chroot --userspec="$POOL_UID:$POOL_UID" --groups="$POOL_UID" "$ROOT" \
    /usr/bin/env -i PATH="$CHROOT_PATH" HOME="/home/$POOL_USER" USER="$POOL_USER" \
    LOGNAME="$POOL_USER" LANG=C.UTF-8 \
    /bin/sh -c 'cd "$1" || exit 125; shift; exec "$@"' pool-run-as-user "$dir" "$@" 9>&-
}

cmd_run_as_user() {
  need_root run-as-user
  [ "$#" -gt 0 ] || die "usage: $PROG run-as-user CMD [ARGS...]"
  local cwd; cwd=$(pwd -P)
  case $cwd in /tmp|/tmp/*) ;; *) die "run-as-user must be called from /tmp or below (cwd $cwd): only /tmp is shared with the chroot" ;; esac
  require_mounted
  exec chroot --userspec="$POOL_UID:$POOL_UID" --groups="$POOL_UID" "$ROOT" \
    /usr/bin/env -i PATH="$CHROOT_PATH" HOME="/home/$POOL_USER" USER="$POOL_USER" \
    LOGNAME="$POOL_USER" LANG=C.UTF-8 \
    /bin/sh -c 'cd "$1" || exit 125; shift; exec "$@"' pool-run-as-user "$cwd" "$@"
}

# smoke: submit /bin/echo as the user from a fresh directory under /tmp and wait
# until condor_history shows ExitCode 0.
cmd_smoke() {
  need_root smoke
  require_mounted
  master_pid >/dev/null || die "the pool is not running; run '$PROG start' first"
  local d t0 c out code deadline
  d=$(mktemp -d /tmp/dmtcp-condor-pool-smoke.XXXXXX)
  chown "$POOL_UID:$POOL_UID" "$d"
  printf '%s\n' 'executable = /bin/echo' 'arguments = "hello from the pool"' \
    'output = out.txt' 'error = err.txt' 'log = job.log' 'should_transfer_files = YES' 'queue' >"$d/job.sub"
  t0=$(now_us)
  c=$(as_user "$d" condor_submit -terse job.sub) || die "condor_submit failed (job directory kept: $d)"
  c=${c%%.*}
  deadline=$((t0 + 120 * 1000000))
  until code=$(as_user "$d" condor_history "$c" -af ExitCode 2>/dev/null) && [ -n "$code" ]; do
    [ "$(now_us)" -lt "$deadline" ] || die "job $c did not finish within 120s (job directory kept: $d)"
    sleep 0.2
  done
  out=$(cat "$d/out.txt" 2>/dev/null || true)
  [ "$code" = 0 ] && [ "$out" = "hello from the pool" ] ||
    die "job $c: ExitCode $code, output '$out' (job directory kept: $d)"
  log "$(printf '%-34s %s' "smoke: submit -> ExitCode 0" "$(fmt_us $(($(now_us) - t0)))")"
  rm -rf "$d"
}

cmd_run() {
  need_root run
  [ "$#" -gt 0 ] || die "usage: $PROG run CMD [ARGS...]"
  local cwd; cwd=$(pwd -P)
  case $cwd in /tmp|/tmp/*) ;; *) cwd=/ ;; esac
  require_mounted
  exec chroot "$ROOT" /usr/bin/env -i PATH="$CHROOT_PATH" HOME=/root LANG=C.UTF-8 \
    /bin/sh -c 'cd "$1" || exit 125; shift; exec "$@"' pool-run "$cwd" "$@"
}

usage() {
  sed -n '/^# Usage:/,/^# Progress/p' "$0" | sed 's/^# \{0,1\}//'
}

# ---------------------------------------------------------------- main

lock_file() {
  local lock
  lock=/run/lock/dmtcp-condor-pool$(printf '%s' "$ROOT" | tr '/' '_').lock
  [ -d /run/lock ] && [ -w /run/lock ] || lock=/tmp/${lock##*/}
  echo "$lock"
}

with_lock() {
  # Serialise setup/start/stop/teardown on the same root (run-as-user/run do not lock).
  # Every process started meanwhile gets fd 9 closed (see in_root).
  local lock; lock=$(lock_file)
  exec 9>"$lock"
  flock -w 900 9 || die "timed out waiting for the lock $lock"
  "$@"
}

main() {
  local cmd=${1:-}
  [ "$#" -gt 0 ] && shift
  validate
  case $cmd in
    setup) with_lock cmd_setup ;;
    start) with_lock cmd_start ;;
    up) with_lock cmd_setup && with_lock cmd_start ;;
    stop) with_lock cmd_stop ;;
    teardown) with_lock cmd_teardown ;;
    status) cmd_status ;;
    info) cmd_info ;;
    run-as-user) cmd_run_as_user "$@" ;;
    run) cmd_run "$@" ;;
    smoke) cmd_smoke ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
