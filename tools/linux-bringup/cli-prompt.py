#!/usr/bin/env python3
"""Runs `backplane run` on the Debian guest (host time, as a user would),
reports the wall time until the BusyBox prompt, types a command that sleeps
in the guest (timer interrupts while idle) and powers off.
Usage: tools/linux-bringup/cli-prompt.py [--cmd 'shell command'] [extra backplane run flags]
(from /work/main; G=dir overrides the guest directory)"""
import os, subprocess, sys, time, select
G = os.environ.get("G", os.path.expanduser("~/.cache/backplane/debian-trixie-riscv64"))
cmd = ["node", "--conditions=source", "--import", "tsx", "apps/cli/src/main.ts", "run", "-M", "virt", "-m", "256M",
       "-nographic", "-bios", f"{G}/fw_jump.bin", "-kernel", f"{G}/vmlinux-6.12.117+deb13-riscv64",
       "-initrd", f"{G}/initramfs.cpio.gz", "-append", "console=ttyS0 earlycon=sbi"]
extra = sys.argv[1:]
guest_cmd = b"sleep 2; echo SLEPT-OK"
if extra[:1] == ["--cmd"]:
    guest_cmd = extra[1].encode() + b"; echo SLEPT-OK"
    extra = extra[2:]
cmd += extra
t0 = time.time()
p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
buf = b""
state = 0
while time.time() - t0 < 1500:
    r, _, _ = select.select([p.stdout], [], [], 1)
    if r:
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk: break
        buf += chunk
        sys.stdout.write(chunk.decode("latin1")); sys.stdout.flush()
    if state == 0 and b"~ # " in buf:
        sys.stderr.write(f"\n[prompt after {time.time() - t0:.1f}s wall]\n")
        t1 = time.time()
        p.stdin.write(guest_cmd + b"; poweroff -f\n"); p.stdin.flush()
        state = 1
    if state == 1 and b"SLEPT-OK\r\n" in buf.split(b"poweroff -f", 1)[-1]:
        sys.stderr.write(f"\n[command took {time.time() - t1:.1f}s wall]\n")
        state = 2
    if p.poll() is not None: break
sys.stderr.write(f"\n[exit {p.wait(timeout=30) if state == 2 else p.poll()} after {time.time() - t0:.1f}s wall]\n")
