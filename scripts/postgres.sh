#!/usr/bin/env bash
# Makes a PostgreSQL server available on 127.0.0.1 for the test suite.
#
#   url=$(bash scripts/postgres.sh)    # -> postgres://postgres@127.0.0.1:54329/postgres
#
# Idempotent: installs the Debian `postgresql` package if no server binaries
# exist, creates the cluster on first use, starts it if it is not running
# (after a reboot, a crash, `pg_ctl stop`, a stale postmaster.pid), and does
# nothing if it already answers. Concurrent runs are serialised with flock.
#
#   AIDLEDGER_PG_DIR   cluster directory (default /tmp/aidledger-pg), holding
#                      data/ (the cluster), sock/ (unix sockets), postgres.log
#   AIDLEDGER_PG_PORT  TCP port on 127.0.0.1 (default 54329)
#
# The only line written to stdout is the admin URL; everything else goes to
# stderr. Stop the server with:
#   runuser -u postgres -- /usr/lib/postgresql/*/bin/pg_ctl -D /tmp/aidledger-pg/data stop
set -euo pipefail
shopt -s extglob

# Keep the real stdout on fd 3 for the URL; everything else goes to stderr.
# fd 3 (the caller's $(...) pipe) and fd 9 (our lock) must never reach the
# postmaster, or `url=$(...)` would hang for as long as the server runs and
# the lock would stay held: every command that may start a daemon runs with
# `3>&- 9>&-`.
exec 3>&1 1>&2

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

PG_PORT=${AIDLEDGER_PG_PORT:-54329}
if ! [[ $PG_PORT =~ ^[0-9]{1,5}$ ]] || ((10#$PG_PORT < 1 || 10#$PG_PORT > 65535)); then
  die "AIDLEDGER_PG_PORT must be a TCP port number, got '$PG_PORT'"
fi
PG_PORT=$((10#$PG_PORT))
PG_DIR=${AIDLEDGER_PG_DIR:-/tmp/aidledger-pg}
PG_DIR=${PG_DIR%/}
[[ -n $PG_DIR ]] || die "AIDLEDGER_PG_DIR must not be /"
# Absolute and canonical (postgres reports its cwd that way), but resolving
# only the parent: the directory itself must not be a symlink (see below).
PG_DIR=$(realpath -m -- "$(dirname -- "$PG_DIR")")/$(basename -- "$PG_DIR")
PG_DIR=/${PG_DIR##+(/)} # "//x" when the parent is /
DATA=$PG_DIR/data
SOCK=$PG_DIR/sock
LOG=$PG_DIR/postgres.log
URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
# sun_path is 108 bytes including the NUL; postgres appends /.s.PGSQL.<port>.
((${#SOCK} + 11 + ${#PG_PORT} < 108)) || die "socket directory path too long: $SOCK"

# Our own libpq settings must not be bent by the caller's PG* variables
# (PGSSLMODE=require, PGCONNECT_TIMEOUT, PGDATA, ...).
for v in $(compgen -e PG || true); do unset "$v"; done
export LC_ALL=C
# runuser keeps the current directory; postgres may not be able to enter it
# (e.g. /root), which makes initdb/pg_ctl complain or fail.
cd /

IS_ROOT=0
[[ $EUID -eq 0 ]] && IS_ROOT=1

# Runs a command as the cluster owner: `postgres` when we are root (initdb and
# pg_ctl refuse to run as root), ourselves otherwise.
as_pg() {
  if ((IS_ROOT)); then
    runuser -u postgres -- "$@" 3>&- 9>&-
  else
    "$@" 3>&- 9>&-
  fi
}

# Newest installed server version's bin directory, or "" if none.
newest_bindir() {
  local found=() f
  for f in /usr/lib/postgresql/*/bin/initdb; do
    [[ -x $f ]] && found+=("${f%/initdb}")
  done
  ((${#found[@]})) || return 0
  printf '%s\n' "${found[@]}" | sort -V | tail -n 1
}

install_postgresql() {
  ((IS_ROOT)) || die "PostgreSQL server binaries are missing and we are not root; install the 'postgresql' package"
  export DEBIAN_FRONTEND=noninteractive
  # Output to a file, not a $(...) pipe: a package script that starts a daemon
  # would otherwise keep the pipe open and hang us.
  local out
  out=$(mktemp)
  log "installing the postgresql package (apt-get install -y postgresql)..."
  if ! apt-get install -y -qq postgresql >"$out" 2>&1 3>&- 9>&-; then
    log "install failed; running apt-get update and retrying"
    if ! { apt-get update -qq && apt-get install -y -qq postgresql; } >"$out" 2>&1 3>&- 9>&-; then
      tail -n 40 "$out" >&2
      rm -f "$out"
      die "apt-get install postgresql failed"
    fi
  fi
  rm -f "$out"
}

pg_ready() {
  # -U postgres: the default user (root) does not exist and would log a FATAL
  # line on every probe.
  "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -t 2 3>&- 9>&-
}

# Prints the PID of a live postmaster of this cluster (from postmaster.pid,
# checked against /proc: a PID from before a reboot may belong to anything
# now), or fails.
live_postmaster() {
  local pid
  pid=$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$DATA" ]] || return 1
  echo "$pid"
}

# PIDs of all processes working in the data directory: the postmaster and its
# children, including backends orphaned by a postmaster crash (still attached
# to the old shared memory). Zombies have no cwd and do not count.
cluster_processes() {
  local d
  for d in /proc/[0-9]*; do
    [[ $(readlink "$d/cwd" 2>/dev/null) == "$DATA" ]] && echo "${d#/proc/}"
  done
  return 0
}

# Waits up to $1 seconds for the server to accept connections. Gives up early
# if, after a few seconds' grace, no postmaster of this cluster is alive. The
# limit is generous because a live postmaster that does not answer yet is
# making progress: after a crash it syncs the data directory, replays the WAL
# and writes an end-of-recovery checkpoint, which after a killed test run (a
# few hundred throwaway databases) takes minutes on a small machine.
wait_ready() {
  local start=$SECONDS
  while ((SECONDS - start < $1)); do
    pg_ready && return 0
    if ((SECONDS - start >= 3)) && ! live_postmaster >/dev/null; then
      log "the server is not running (it exited or never started)"
      return 1
    fi
    if ((SECONDS > start && (SECONDS - start) % 30 == 0)); then
      log "still waiting ($((SECONDS - start)) s): $(grep -v 'not yet accepting\|starting up\|Consistent recovery' "$LOG" | tail -n 1)"
      sleep 1
    fi
    sleep 0.5
  done
  log "timed out after $1 s waiting for the server to accept connections"
  return 1
}

fail_with_log() {
  if [[ -s $LOG ]]; then
    log "last lines of $LOG:"
    grep -v "not yet accepting\|starting up\|Consistent recovery" "$LOG" | tail -n 40 >&2
  fi
  die "$1"
}

done_ok() {
  printf '%s\n' "$URL" >&3
  exit 0
}

# --- binaries ---------------------------------------------------------------
BIN=$(newest_bindir)
if [[ -z $BIN ]]; then
  install_postgresql
  BIN=$(newest_bindir)
  [[ -n $BIN ]] || die "no /usr/lib/postgresql/*/bin/initdb even after installing postgresql"
fi

# --- fast path: already up --------------------------------------------------
if pg_ready; then
  live_postmaster >/dev/null ||
    log "warning: something answers on 127.0.0.1:$PG_PORT but it is not the cluster in $DATA"
  done_ok
fi

# --- the cluster directory, owned by the cluster owner ----------------------
if ((IS_ROOT)); then
  id -u postgres >/dev/null 2>&1 ||
    useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
  OWNER=postgres
else
  OWNER=$(id -un)
fi
# /tmp is world-writable: do not follow a planted symlink, do not adopt a
# directory someone else filled.
[[ ! -L $PG_DIR ]] || die "$PG_DIR is a symlink; refusing to use it"
mkdir -p -- "$PG_DIR"
[[ -d $PG_DIR && ! -L $PG_DIR ]] || die "$PG_DIR is not a directory"
if [[ $(stat -c %U -- "$PG_DIR") != "$OWNER" ]]; then
  [[ -z $(ls -A -- "$PG_DIR") ]] ||
    die "$PG_DIR exists, is not empty and is owned by $(stat -c %U -- "$PG_DIR"), not $OWNER"
  chown "$OWNER:" -- "$PG_DIR"
fi
# 0711: others may reach sock/ but not list or read; data/ itself is 0700.
chmod 0711 -- "$PG_DIR"
as_pg test -w "$PG_DIR" -a -x "$PG_DIR" ||
  die "user $OWNER cannot use $PG_DIR (is a parent directory closed to it, e.g. /root?)"

# --- serialise concurrent runs ----------------------------------------------
exec 9>"$PG_DIR/.lock"
flock -w 120 9 || die "timed out waiting for another postgres.sh run (lock $PG_DIR/.lock)"
pg_ready && done_ok # another run brought it up while we waited

# --- create the cluster on first use ----------------------------------------
if [[ ! -f $DATA/PG_VERSION ]]; then
  if [[ -e $DATA ]]; then
    rmdir -- "$DATA" 2>/dev/null || die "$DATA exists but is not a PostgreSQL cluster; remove it"
  fi
  # initdb into a scratch directory and rename it into place, so an
  # interrupted initdb never leaves a half-made cluster behind.
  tmp=$PG_DIR/data.initdb
  rm -rf -- "$tmp"
  log "creating a cluster in $DATA with $BIN/initdb"
  if ! as_pg "$BIN/initdb" -D "$tmp" --locale=C -E UTF8 --auth=trust -U postgres >"$PG_DIR/initdb.log" 2>&1; then
    tail -n 40 "$PG_DIR/initdb.log" >&2
    die "initdb failed (full output in $PG_DIR/initdb.log)"
  fi
  mv -- "$tmp" "$DATA"
fi

VERSION=$(<"$DATA/PG_VERSION")
BIN=/usr/lib/postgresql/$VERSION/bin
[[ -x $BIN/pg_ctl ]] ||
  die "$DATA is a PostgreSQL $VERSION cluster but $BIN/pg_ctl is not installed (apt-get install postgresql-$VERSION)"

# --- settings: rewritten before every start, included from postgresql.conf --
# Kept in the cluster config (not only pg_ctl -o) so a manual pg_ctl start or
# restart gets the same port and sockets.
conf_quote() { printf "'%s'" "${1//\'/\'\'}"; }
as_pg mkdir -p -- "$SOCK"
{
  echo "# Written by scripts/postgres.sh before every start; edits are lost."
  echo "listen_addresses = '127.0.0.1'"
  echo "port = $PG_PORT"
  echo "unix_socket_directories = $(conf_quote "$SOCK")"
  echo "max_connections = 300"
  echo "shared_buffers = 128MB"
  echo "fsync = on # the tests check durability"
  echo "synchronous_commit = on"
  echo "full_page_writes = on"
} >"$DATA/aidledger.conf.tmp"
chmod 0644 -- "$DATA/aidledger.conf.tmp"
mv -f -- "$DATA/aidledger.conf.tmp" "$DATA/aidledger.conf"
include="include 'aidledger.conf'"
grep -qxF -- "$include" "$DATA/postgresql.conf" || echo "$include" >>"$DATA/postgresql.conf"

# --- start ------------------------------------------------------------------
if pid=$(live_postmaster); then
  running_port=$(sed -n 4p "$DATA/postmaster.pid")
  [[ $running_port == "$PG_PORT" ]] ||
    die "the cluster in $DATA is running (pid $pid) on port $running_port, not $PG_PORT; stop it first"
  log "the server (pid $pid) is running but not accepting connections yet; waiting"
  wait_ready 900 && done_ok
  live_postmaster >/dev/null && fail_with_log "the server (pid $pid) does not accept connections"
fi
# No postmaster. Backends orphaned by a postmaster crash exit by themselves
# once they notice; give them a moment.
for _ in $(seq 20); do
  [[ -z $(cluster_processes) ]] && break
  sleep 0.5
done
procs=$(cluster_processes)
[[ -z $procs ]] ||
  die "no postmaster, but processes still run in $DATA (pids: ${procs//$'\n'/ }); stop them first"
# Nothing runs in the cluster, so lock files left by a crash or a reboot are
# stale. Postgres would mistake a reused or not-yet-reaped PID in them for a
# running server and refuse to start, so remove them. (Only safe because no
# process is left that could be attached to the old shared memory.)
for f in "$DATA/postmaster.pid" "$SOCK/.s.PGSQL.$PG_PORT.lock" "$SOCK/.s.PGSQL.$PG_PORT"; do
  if [[ -e $f || -S $f ]]; then
    log "removing stale $f"
    rm -f -- "$f"
  fi
done
touch -- "$LOG"
((IS_ROOT)) && chown postgres: -- "$LOG"
log "starting PostgreSQL $VERSION on 127.0.0.1:$PG_PORT (log: $LOG)"
as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -W start >&2 || fail_with_log "pg_ctl start failed"
wait_ready 900 || fail_with_log "the server did not come up"
log "ready"
done_ok
