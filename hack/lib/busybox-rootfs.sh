# Sourced by hack/*-up: the stand-in base images' root file system.

# busybox_rootfs DIR BUSYBOX: fills DIR with the busybox-static binary BUSYBOX as /bin/busybox, one
# symlink per applet it lists (an arm64 binary lists them under emulation), and the users and
# groups of the image the conformance expectations were recorded with.
busybox_rootfs() {
  local rootfs=$1 busybox=$2 applet
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/root"
  cp "$busybox" "$rootfs/bin/busybox"
  for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\nuser:x:1000:1000::/home/user:/bin/sh\n' \
    >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nuser:x:1000:\n' >"$rootfs/etc/group"
  chmod 1777 "$rootfs/tmp"
}

# busybox_layer DIR: the rootfs DIR as a tar on stdout, the same bytes on every machine with the
# same busybox: entries sorted, owned by root, dated 2024-01-01. The layer's diff id, and every
# layer that copies from the image, then do not depend on when the rootfs was made.
busybox_layer() {
  tar -C "$1" --sort=name --mtime=@1704067200 --owner=0 --group=0 --numeric-owner -c .
}

# The image configuration both stand-ins are imported with (`docker import -c ...`).
busybox_import_changes=(
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  -c 'CMD ["sh"]'
)
