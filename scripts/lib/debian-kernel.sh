# shellcheck shell=bash
# Debian kernel packages for the test images and the nested-KVM L1 VM.
# Source after common.sh. Nothing here installs a kernel: packages are fetched
# with `apt-get download` and unpacked with `dpkg-deb -x` into
#
#   images/cache/kernels/<flavour>/<package>_<version>/   (+ depmod output)
#
# so modules can be resolved with kmod. Only the newest unpacked version of
# each flavour is kept. The ABI package (today linux-image-6.1.0-NN-<flavour>)
# is resolved at run time from the metapackage linux-image-<flavour>.
#
#   dk_resolve cloud-amd64   # sets DK_PKG, DK_VERSION (apt metadata only)
#   dk_fetch cloud-amd64     # dk_resolve + download/unpack if needed;
#                            # also sets DK_ROOT (unpacked tree), DK_KVER
#                            # (its `uname -r`) and DK_VMLINUZ
#   dk_module_order "$DK_ROOT" "$DK_KVER" virtio_blk '?tun'
#                            # .ko paths (relative to lib/modules/KVER) in
#                            # load order; '?' marks a module that may be absent
#
# Callers that may download hold mvm_lock.

DK_KERNELS=$MVM_CACHE/kernels

# _dk_apt_cache ARGS...: apt-cache with its binary cache kept in images/cache.
# Debian's container images disable /var/cache/apt/pkgcache.bin, which makes
# every apt-cache call re-parse the lists (~0.5 s); apt rebuilds this copy by
# itself whenever the lists change.
_dk_apt_cache() {
  mkdir -p "$MVM_CACHE"
  apt-cache -o Dir::Cache::pkgcache="$MVM_CACHE/apt-pkgcache.bin" "$@"
}

# _dk_abi_package META: "PACKAGE VERSION" of the linux-image-<ABI> package
# that the candidate of metapackage META depends on, e.g.
# "linux-image-6.1.0-56-amd64 6.1.192-2". Fails if apt does not know META.
_dk_abi_package() {
  _dk_apt_cache show --no-all-versions "$1" 2>/dev/null |
    sed -n 's/^Depends: \(linux-image-[0-9][^ ,]*\) (= \([^)]*\)).*$/\1 \2/p' |
    grep . | head -n1
}

# _dk_cached FLAVOUR: the unpacked tree already in the cache, if any.
_dk_cached() {
  local dir
  for dir in "$DK_KERNELS/$1"/*/; do
    [[ -e $dir/.complete ]] && basename "$dir" && return 0
  done
  return 1
}

_dk_apt_update() {
  info "refreshing apt package lists (apt-get update)"
  apt-get update -qq -o APT::Sandbox::User=root >&2
}

# _dk_lists_key: changes whenever apt's view of the archive can change.
_dk_lists_key() {
  # stat fails on patterns matching nothing; the key just leaves them out.
  { stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* /etc/apt/sources.list \
    /etc/apt/sources.list.d/* /etc/apt/preferences /etc/apt/preferences.d/* \
    2>/dev/null || true; } | sha256sum | cut -d' ' -f1
}

# dk_resolve FLAVOUR: set DK_PKG and DK_VERSION for linux-image-FLAVOUR.
# Refreshes stale or missing apt lists once. Without a mirror, falls back to
# the version already in the cache (with a warning) so cached builds still run.
# The answer is remembered until apt's lists change: reading package records
# from Debian's compressed lists costs ~0.4 s per query.
dk_resolve() {
  local flavour=$1 meta=linux-image-$1 found cached key memo
  DK_FLAVOUR=$flavour
  memo=$MVM_CACHE/resolved-$flavour
  key=$(_dk_lists_key)
  if [[ -f $memo ]] && read -r cached found <"$memo" && [[ $cached == "$key" ]]; then
    read -r DK_PKG DK_VERSION <<<"$found"
    [[ -n $DK_VERSION ]] && return 0
  fi
  if ! found=$(_dk_abi_package "$meta"); then
    if _dk_apt_update; then
      found=$(_dk_abi_package "$meta") ||
        die "apt knows no $meta depending on a linux-image-<ABI> package (is Debian main in sources.list?)"
      key=$(_dk_lists_key)
    elif cached=$(_dk_cached "$flavour"); then
      warn "apt-get update failed; using the cached $cached"
      found="${cached%%_*} ${cached#*_}"
    else
      die "apt-get update failed and no $meta is cached"
    fi
  fi
  read -r DK_PKG DK_VERSION <<<"$found"
  mkdir -p "$MVM_CACHE"
  printf '%s %s %s\n' "$key" "$DK_PKG" "$DK_VERSION" >"$memo.tmp"
  mv -f "$memo.tmp" "$memo"
}

# _dk_download PKG VERSION DIR: fetch PKG=VERSION into DIR; retry once after
# refreshing the lists (the mirror drops superseded versions).
_dk_download() {
  local pkg=$1 version=$2 dir=$3
  info "downloading $pkg ($version)"
  if ! (cd "$dir" && apt-get download -qq -o APT::Sandbox::User=root "$pkg=$version" >&2); then
    _dk_apt_update || die "cannot download $pkg and apt-get update failed"
    dk_resolve "$DK_FLAVOUR"
    version=$DK_VERSION
    (cd "$dir" && apt-get download -qq -o APT::Sandbox::User=root "$DK_PKG=$version" >&2) ||
      die "cannot download $DK_PKG ($version)"
  fi
}

# _dk_unpack FLAVOUR: download and unpack DK_PKG/DK_VERSION into the cache.
_dk_unpack() {
  local flavour=$1 final tmp deb kver
  # A partial download or tree is removed when the script exits.
  mvm_temp_dir tmp "$DK_KERNELS"
  _dk_download "$DK_PKG" "$DK_VERSION" "$tmp"
  # _dk_download may have re-resolved DK_PKG/DK_VERSION after apt-get update.
  final=$DK_KERNELS/$flavour/${DK_PKG}_$DK_VERSION
  deb=$(compgen -G "$tmp/${DK_PKG}_*.deb" | head -n1) || true
  [[ -n $deb ]] || die "apt-get download produced no ${DK_PKG}_*.deb"
  info "unpacking $(basename "$deb")"
  dpkg-deb -x "$deb" "$tmp/root"
  rm -f "$deb"
  kver=$(_dk_kver "$tmp/root")
  # Build modules.dep for this tree only; -C /dev/null ignores the host's
  # /etc/depmod.d so the result depends on the package alone.
  depmod -C /dev/null -b "$tmp/root" "$kver"
  touch "$tmp/root/.complete"
  rm -rf "${DK_KERNELS:?}/${flavour:?}"  # older versions of this flavour
  mkdir -p "$DK_KERNELS/$flavour"
  mv "$tmp/root" "$final"
  rm -rf "$tmp"
}

# _dk_kver ROOT: the single lib/modules/<uname -r> of an unpacked package.
_dk_kver() {
  local dirs=("$1"/lib/modules/*/)
  if ((${#dirs[@]} != 1)) || [[ ! -d ${dirs[0]} ]]; then
    die "expected one lib/modules/<version> in $1"
  fi
  basename "${dirs[0]}"
}

# dk_fetch FLAVOUR: make the current linux-image-FLAVOUR available unpacked.
dk_fetch() {
  local flavour=$1
  dk_resolve "$flavour"
  mkdir -p "$DK_KERNELS"
  [[ -e $DK_KERNELS/$flavour/${DK_PKG}_$DK_VERSION/.complete ]] || _dk_unpack "$flavour"
  DK_ROOT=$DK_KERNELS/$flavour/${DK_PKG}_$DK_VERSION
  DK_KVER=$(_dk_kver "$DK_ROOT")
  DK_VMLINUZ=$DK_ROOT/boot/vmlinuz-$DK_KVER
  [[ -f $DK_VMLINUZ ]] || die "no boot/vmlinuz-$DK_KVER in $DK_PKG"
}

# dk_module_order ROOT KVER [?]MODULE...: print the .ko files MODULEs need,
# dependencies first, each once, as paths relative to ROOT/lib/modules/KVER.
# Built-in modules print nothing. A missing MODULE is an error unless written
# '?MODULE'. kmod reads only the package's modules.dep (-C /dev/null: not the
# host's /etc/modprobe.d, whose options or blacklists do not apply to guests).
dk_module_order() {
  local root=$1 kver=$2 spec mod deps kind path
  local moddir=$root/lib/modules/$kver
  local -A seen=()
  shift 2
  for spec in "$@"; do
    mod=${spec#\?}
    if ! deps=$(modprobe -C /dev/null -d "$root" -S "$kver" --show-depends "$mod" 2>/dev/null); then
      [[ $spec == \?* ]] && continue
      die "kernel $kver has no module $mod"
    fi
    while read -r kind path _; do
      [[ $kind == insmod ]] || continue  # "builtin NAME": nothing to load
      path=${path#"$moddir/"}
      [[ -z ${seen[$path]:-} ]] || continue
      seen[$path]=1
      printf '%s\n' "$path"
    done <<<"$deps"
  done
}

# dk_extract_vmlinux BZIMAGE OUT: write the uncompressed ELF kernel inside
# BZIMAGE (XZ payload: generic flavour; LZ4: cloud flavour) to OUT. QEMU boots
# such an ELF through its PVH entry point, which skips the in-guest
# decompression: under TCG that saves ~4 s per boot of the XZ kernel.
dk_extract_vmlinux() {
  local in=$1 out=$2 magic off
  # Like the kernel's scripts/extract-vmlinux: try each place the magic bytes
  # occur until one decompresses to an ELF file. The decompressors stop at
  # the end of the stream and may complain about the bytes after it.
  for magic in '\xfd7zXZ\x00' '\x02\x21\x4c\x18'; do
    for off in $(LC_ALL=C grep -obUaP "$magic" "$in" | cut -d: -f1 | head -n4); do
      case $magic in
        *7zXZ*) tail -c +$((off + 1)) "$in" 2>/dev/null | xz -dc --single-stream >"$out.tmp" 2>/dev/null || true ;;
        *) tail -c +$((off + 1)) "$in" 2>/dev/null | lz4 -dc >"$out.tmp" 2>/dev/null || true ;;
      esac
      if [[ $(head -c4 "$out.tmp" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then
        mv -f "$out.tmp" "$out"
        return 0
      fi
    done
  done
  rm -f "$out.tmp"
  die "found no XZ or LZ4 compressed ELF kernel in $in"
}
