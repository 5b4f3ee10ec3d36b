# shellcheck shell=bash
# Building busybox initramfs images. Source after common.sh and
# debian-kernel.sh.
#
#   ir_stage_base "$stage"                    # busybox, applet links, /dev/console
#   ir_stage_modules "$stage" "$DK_ROOT" "$DK_KVER" virtio_blk '?tun'
#                                             # .ko files + lib/modules/KVER/load-order
#   ir_pack "$stage" images/out/initramfs.cpio.gz
#
# The load-order file lists one .ko path per line, relative to
# /lib/modules/KVER, dependencies first: an init loads it with a plain
# `insmod` loop, so images need neither modules.dep nor modprobe.

# ir_busybox: path of a statically linked busybox (package busybox-static).
ir_busybox() {
  local bb ldd_out
  bb=$(command -v busybox) || die "busybox not found (run scripts/install-deps)"
  ldd_out=$(LC_ALL=C ldd "$bb" 2>&1) || true
  [[ $ldd_out == *"not a dynamic executable"* ]] ||
    die "$bb is dynamically linked; install busybox-static (scripts/install-deps)"
  printf '%s\n' "$bb"
}

# ir_stage_base DIR: the skeleton every image shares.
ir_stage_base() {
  local dir=$1 bb applet
  bb=$(ir_busybox)
  mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc,lib/modules}
  chmod 1777 "$dir/tmp"
  install -m 0755 "$bb" "$dir/bin/busybox"
  # Links for every applet at the path busybox itself lists ("usr/bin/awk").
  while read -r applet; do
    [[ -e $dir/$applet || -L $dir/$applet ]] || ln -s /bin/busybox "$dir/$applet"
  done < <("$dir/bin/busybox" --list-full)
  # The kernel opens /dev/console for init before init can mount devtmpfs.
  mknod -m 0600 "$dir/dev/console" c 5 1
}

# ir_stage_modules DIR ROOT KVER [?]MODULE...: copy the modules and their
# dependencies from an unpacked kernel package; print how many.
ir_stage_modules() {
  local dir=$1 root=$2 kver=$3 list ko
  shift 3
  local dest=$dir/lib/modules/$kver
  mkdir -p "$dest"
  list=$(dk_module_order "$root" "$kver" "$@")
  while read -r ko; do
    [[ -n $ko ]] || continue
    install -D -m 0644 "$root/lib/modules/$kver/$ko" "$dest/$ko"
  done <<<"$list"
  printf '%s\n' "$list" | sed '/^$/d' >"$dest/load-order"
  wc -l <"$dest/load-order"
}

# ir_pack DIR OUT: gzip'd newc cpio of DIR, owned by root, written atomically.
ir_pack() {
  local dir=$1 out=$2
  (cd "$dir" && find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z |
    cpio --null -o -H newc -R 0:0 --quiet) | gzip -9n >"$out.tmp"
  mv -f "$out.tmp" "$out"
}
