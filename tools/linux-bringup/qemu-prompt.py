#!/usr/bin/env python3
"""Boots the Debian guest on QEMU with -icount shift=0 (1 ns per instruction)
and, as soon as the kernel prints "Run /init", types a command that stamps
the kernel log when the BusyBox shell first reads input: the stamp is (about)
the instruction count at which the shell prompt appeared.
Usage: G=... tools/linux-bringup/qemu-prompt.py"""
import os, subprocess, sys, time, select
G = os.environ.get("G", os.path.expanduser("~/.cache/backplane/debian-trixie-riscv64"))
append = os.environ.get("APPEND", "console=ttyS0 earlycon=sbi")
p = subprocess.Popen(["qemu-system-riscv64", "-M", "virt", "-smp", "1", "-m", "256M", "-nographic",
    "-icount", "shift=0,sleep=off", "-bios", f"{G}/fw_jump.bin", "-kernel", f"{G}/vmlinux-6.12.117+deb13-riscv64",
    "-initrd", f"{G}/initramfs.cpio.gz", "-append", append],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
buf = b""
sent = False
deadline = time.time() + 240
while time.time() < deadline:
    r, _, _ = select.select([p.stdout], [], [], 1)
    if r:
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk: break
        buf += chunk
        sys.stdout.write(chunk.decode("latin1")); sys.stdout.flush()
    if not sent and b"Run /init" in buf:
        p.stdin.write(b"echo PROMPT-MARK > /dev/kmsg; cat /proc/stat | head -1; dmesg | tail -2; poweroff -f\n"); p.stdin.flush()
        sent = True
    if b"PROMPT-MARK\r\n" in buf and buf.count(b"PROMPT-MARK") >= 3:
        time.sleep(1); break
p.kill()
