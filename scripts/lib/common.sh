# shellcheck shell=bash
# Helpers shared by mini-vmm's shell scripts. Source it from a bash script
# that runs with `set -euo pipefail`:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.sh"
#   mvm_init "images/build"        # name used to prefix every message
#
# It defines:
#   MVM_ROOT           absolute path of the repository holding these scripts
#   MVM_CACHE          images/cache: downloads and unpacked kernel packages
#   MVM_OUT            images/out: built images (both folders are git-ignored)
#   info/warn/die      messages on stderr, prefixed with the script's name
#   MVM_DIE_STATUS     exit status of die and of unexpected failures (1)
#   mvm_need_commands  fail early, pointing at scripts/install-deps
#   mvm_temp_dir       a temporary folder removed when the script exits
#   mvm_lock/unlock    serialize cache and image builds between processes
#   mvm_hash           SHA-256 over strings and file contents, for stamps
#   mvm_mib            a file's size for messages
#
# It installs EXIT/INT/TERM/ERR traps (and set -E). A script that needs its
# own cleanup defines a function mvm_exit_hook, which runs first at exit.

# shellcheck disable=SC2034 # some of these are only read by the callers
MVM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
MVM_CACHE=$MVM_ROOT/images/cache
MVM_OUT=$MVM_ROOT/images/out
MVM_PROG=$(basename "$0")
MVM_DIE_STATUS=1
MVM_TEMP_PATHS=()
MVM_FAILED=''
MVM_LOCK_FD=''

mvm_init() {
  MVM_PROG=$1
}

info() { printf '%s: %s\n' "$MVM_PROG" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$MVM_PROG" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$MVM_PROG" "$*" >&2
  exit "$MVM_DIE_STATUS"
}

_mvm_exit() {
  local rc=$?
  [[ -z $MVM_FAILED ]] || rc=$MVM_DIE_STATUS
  trap - EXIT INT TERM
  if declare -F mvm_exit_hook >/dev/null; then mvm_exit_hook || true; fi
  ((${#MVM_TEMP_PATHS[@]} == 0)) || rm -rf -- "${MVM_TEMP_PATHS[@]}"
  exit "$rc"
}

# Name the command behind any failure not reported through die, so `set -e`
# never ends a script silently. set -E lets functions inherit the trap; only
# the main shell reports (a failing $(...) is then reported by its caller).
_mvm_err() {
  ((BASH_SUBSHELL == 0)) || return 0
  MVM_FAILED=1
  printf '%s: error: command failed (%s line %s): %s\n' \
    "$MVM_PROG" "${1#"$MVM_ROOT/"}" "$2" "$3" >&2
}

set -E
trap _mvm_exit EXIT
trap '_mvm_err "${BASH_SOURCE[0]}" "$LINENO" "$BASH_COMMAND"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# mvm_need_commands CMD...: die naming every missing command at once.
mvm_need_commands() {
  local cmd missing=()
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
  done
  ((${#missing[@]} == 0)) ||
    die "missing commands: ${missing[*]} (run scripts/install-deps)"
}

# mvm_temp_dir VAR PARENT [PREFIX]: create a fresh folder under PARENT, store
# its path in VAR and remove it (whatever it then holds) when the script exits.
mvm_temp_dir() {
  local -n _mvm_dir=$1
  mkdir -p "$2"
  _mvm_dir=$(mktemp -d "$2/${3:-.tmp}.XXXXXX")
  MVM_TEMP_PATHS+=("$_mvm_dir")
}

# mvm_lock: take an exclusive lock on images/cache/.lock until mvm_unlock or
# exit. Every script that downloads kernels or writes images/out/ holds it,
# so parallel runs (several scripts/nested at once) never see half-built
# files. Taking it twice in one process is a no-op (a second flock on a new
# file description would deadlock against the first).
mvm_lock() {
  [[ -z $MVM_LOCK_FD ]] || return 0
  mkdir -p "$MVM_CACHE"
  exec {MVM_LOCK_FD}>>"$MVM_CACHE/.lock"
  # Stay quiet through the short holds (stamp checks of parallel runs).
  if ! flock -w 2 "$MVM_LOCK_FD"; then
    info "waiting for another build to release images/cache/.lock"
    flock "$MVM_LOCK_FD"
  fi
}

# mvm_unlock: release mvm_lock early (before a long run that needs no lock).
mvm_unlock() {
  [[ -n $MVM_LOCK_FD ]] || return 0
  exec {MVM_LOCK_FD}>&-
  MVM_LOCK_FD=''
}

# mvm_hash [-f FILE | STRING]...: print one SHA-256 over all arguments; "-f F"
# stands for the content of F. Used for the stamps that decide rebuilds.
mvm_hash() {
  {
    while (($#)); do
      if [[ $1 == -f ]]; then
        printf 'file %s\n' "$(basename "$2")"
        sha256sum <"$2"
        shift 2
      else
        printf 'str %s\n' "$1"
        shift
      fi
    done
  } | sha256sum | cut -d' ' -f1
}

# mvm_mib FILE: size of FILE in MiB with one decimal, for messages.
mvm_mib() {
  local bytes
  bytes=$(stat -c %s "$1")
  printf '%d.%d MiB' $((bytes / 1048576)) $((bytes % 1048576 * 10 / 1048576))
}
