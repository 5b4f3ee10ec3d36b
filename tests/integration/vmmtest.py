"""Helpers for mini-vmm integration tests: start the VMM on real kernels,
drive the guest's serial console, build tiny test kernels.

The tests run where /dev/kvm can boot Linux: inside the nested L1 that
scripts/nested starts (ctest does that), or directly on a host with
hardware virtualization. Timeouts are generous because everything is
~50x slower under nested TCG; tests assert behaviour, never timing.
"""

import base64
import os
import pty
import select
import struct
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VMM = os.environ.get("MINI_VMM_BIN", os.path.join(REPO, "build/debug/vmm/mini-vmm"))
IMAGES = os.environ.get("MINI_VMM_IMAGES", os.path.join(REPO, "images/out"))
KERNEL = os.path.join(IMAGES, "vmlinuz")
KERNEL_GENERIC = os.path.join(IMAGES, "vmlinuz-generic")
INITRD = os.path.join(IMAGES, "initramfs.cpio.gz")

# One boot under nested TCG takes 5-20 s; leave a wide margin for a loaded
# CI machine.
BOOT_TIMEOUT = float(os.environ.get("MINI_VMM_BOOT_TIMEOUT", "300"))
BASE_CMDLINE = "console=ttyS0 reboot=k panic=-1 quiet io_delay=none"

READY = "mini-vmm-init: ready"
PROMPT = "mini-vmm# "


def cmdline(command=None, extra="", base=BASE_CMDLINE):
    """A kernel command line for the test initramfs; `command` runs in the
    guest (base64-encoded, so any shell text survives); `base` replaces
    BASE_CMDLINE."""
    parts = [base]
    if extra:
        parts.append(extra)
    if command is not None:
        parts.append("mvm_cmd64=" + base64.b64encode(command.encode()).decode())
    return " ".join(parts)


class Run:
    """The outcome of one mini-vmm process."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self):
        return "exit %s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            self.returncode, self.stdout[-4000:], self.stderr[-4000:])


def run_vmm(args, timeout=BOOT_TIMEOUT, stdin=subprocess.DEVNULL, prefix=(), env=None):
    """Runs mini-vmm with `args` to completion (stdin not a tty); `prefix`
    is a wrapper command such as setpriv; `env` replaces the environment."""
    proc = subprocess.run(list(prefix) + [VMM] + args, stdin=stdin, capture_output=True,
                          timeout=timeout, env=env)
    return Run(proc.returncode, proc.stdout.decode(errors="replace"),
               proc.stderr.decode(errors="replace"))


def boot_args(kernel=KERNEL, cpus=1, memory="512M", command=None, extra="", more=(),
              base=BASE_CMDLINE):
    return ["run", "--kernel", kernel, "--initrd", INITRD, "--cpus", str(cpus),
            "--memory", memory, "--cmdline", cmdline(command, extra, base)] + list(more)


def guest_output(run):
    """The command's output: the lines between the init's markers."""
    lines = run.stdout.replace("\r", "").split("\n")
    out = []
    inside = False
    for line in lines:
        if line.startswith(READY):
            inside = True
        elif line.startswith("mini-vmm-init: exit="):
            break
        elif inside:
            out.append(line)
    return out


def guest_exit_status(run):
    for line in run.stdout.replace("\r", "").split("\n"):
        if line.startswith("mini-vmm-init: exit="):
            return int(line.split("=", 1)[1])
    return None


class Console:
    """mini-vmm on a pseudo-terminal, as a user at a terminal would run it:
    raw mode, Ctrl-A x, interactive guest shell."""

    def __init__(self, args, use_pipes=False):
        """On a pseudo-terminal by default; with use_pipes, stdin and stdout
        are plain pipes (as when mini-vmm runs under a script)."""
        if use_pipes:
            self.proc = subprocess.Popen([VMM] + args, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.master = self.proc.stdout.fileno()
            self.input = self.proc.stdin.fileno()
        else:
            master, slave = pty.openpty()
            self.proc = subprocess.Popen([VMM] + args, stdin=slave, stdout=slave,
                                         stderr=subprocess.PIPE, close_fds=True)
            os.close(slave)
            self.master = master
            self.input = master
        self.owns_fds = not use_pipes
        self.buffer = b""

    def expect(self, text, timeout=BOOT_TIMEOUT):
        """Waits for `text` in the output; returns everything up to it."""
        needle = text.encode()
        deadline = time.monotonic() + timeout
        while needle not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %r; output so far:\n%s"
                                     % (text, self.buffer.decode(errors="replace")[-3000:]))
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: the VMM closed the terminal.
                chunk = b""
            if not chunk:
                raise AssertionError("mini-vmm exited while waiting for %r; output:\n%s"
                                     % (text, self.buffer.decode(errors="replace")[-3000:]))
            self.buffer += chunk
        head, _, tail = self.buffer.partition(needle)
        self.buffer = tail
        return head.decode(errors="replace")

    def send(self, data):
        os.write(self.input, data.encode() if isinstance(data, str) else data)

    def wait(self, timeout=BOOT_TIMEOUT):
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            self.close()
        return code

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.owns_fds and self.master >= 0:
            os.close(self.master)
        self.master = -1
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def tiny_elf_kernel(code, load_address=0x1000000):
    """An ELF64 x86_64 "kernel": one PT_LOAD segment holding `code` at
    `load_address`, entered there in 64-bit mode like a vmlinux."""
    ehdr_size, phdr_size = 64, 56
    offset = 0x1000
    ehdr = struct.pack("<16sHHIQQQIHHHHHH",
                       b"\x7fELF\x02\x01\x01" + b"\0" * 9,
                       2, 62, 1,                  # ET_EXEC, EM_X86_64, EV_CURRENT
                       load_address, ehdr_size, 0,  # entry, phoff, shoff
                       0, ehdr_size, phdr_size, 1, 64, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, offset, load_address, load_address,
                       len(code), len(code), 0x1000)  # PT_LOAD, R+X
    image = ehdr + phdr
    image += b"\0" * (offset - len(image)) + code
    f = tempfile.NamedTemporaryFile(prefix="tiny-kernel-", suffix=".elf", delete=False)
    f.write(image)
    f.close()
    return f.name


def require(*paths):
    """Fails (never skips) when the binary or an image is missing: a test
    run that silently tests nothing must not pass."""
    for path in (VMM,) + paths:
        if not os.path.exists(path):
            raise AssertionError("missing %s (scripts/test builds it)" % path)
