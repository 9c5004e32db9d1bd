#!/bin/bash
# Prepares the IPVS test VM: host packages, Debian's generic kernel unpacked under /var/cache/lvskeeper-vm,
# and a busybox initramfs that mounts the host's / read-only over 9p and chroots into it.
# Run by CI before `npm test`; tests themselves never install anything.
set -euo pipefail
W=${LVSK_VM_CACHE:-/var/cache/lvskeeper-vm}
export DEBIAN_FRONTEND=noninteractive
PKGS="qemu-system-x86 busybox-static cpio kmod ipvsadm iproute2"
apt-get install -y --no-install-recommends $PKGS >/dev/null 2>&1 || { apt-get update >/dev/null; apt-get install -y --no-install-recommends $PKGS >/dev/null; }
[ -f "$W/ready" ] && exit 0
mkdir -p "$W"
# The metapackage names the current ABI; the -cloud flavour lacks 9p, so the generic one is used.
KPKG=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)
rm -rf "$W/dl" "$W/k" && mkdir -p "$W/dl" "$W/k"
(cd "$W/dl" && apt-get download "$KPKG" >/dev/null)
dpkg-deb -x "$W"/dl/linux-image-*.deb "$W/k" && rm -rf "$W/dl"
KVER=$(ls "$W/k/lib/modules"); depmod -b "$W/k" "$KVER"; echo "$KVER" > "$W/kver"
IR="$W/ir"; rm -rf "$IR"; mkdir -p "$IR"/{bin,mods,proc,sys,dev,host}
cp /bin/busybox "$IR/bin/"
for a in sh mount insmod mkdir cat echo poweroff chroot sed; do ln -s busybox "$IR/bin/$a"; done
: > "$IR/order"
for top in virtio_pci 9pnet_virtio 9p; do
  for m in $(modprobe -d "$W/k" -S "$KVER" --show-depends "$top" | awk '$1=="insmod"{print $2}'); do
    b=$(basename "$m"); grep -qx "$b" "$IR/order" || { cp "$m" "$IR/mods/"; echo "$b" >> "$IR/order"; }
  done
done
cat > "$IR/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /order); do insmod /mods/$m 2>/dev/null; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose hostroot /host || echo LVSK-VM-MOUNT-FAIL
mount -t proc proc /host/proc; mount -t sysfs sys /host/sys; mount -t devtmpfs dev /host/dev
arg() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" /proc/cmdline; }
OUT=$(arg lvskout)
mount -t tmpfs run /host/run; mount -t tmpfs tmp /host/tmp
mount -t 9p -o trans=virtio,version=9p2000.L outdir /host$OUT || echo LVSK-VM-OUT-FAIL
chroot /host /bin/sh $OUT/guest.sh
echo LVSK-VM-EXIT=$?
poweroff -f
INIT
chmod +x "$IR/init"
(cd "$IR" && find . | cpio -o -H newc 2>/dev/null | gzip -1 > "$W/initrd.gz")
touch "$W/ready"
