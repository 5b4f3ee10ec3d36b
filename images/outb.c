// outb: write one byte to an x86 I/O port from a test guest's userspace.
//
//   outb PORT VALUE      (decimal or 0x-prefixed hexadecimal)
//
// The guest /init uses it for the boot marker (byte 123 to port 0x3f0):
// Debian's cloud kernel is built without CONFIG_DEVPORT, so /dev/port is not
// there, but ioperm() is (CONFIG_X86_IOPL_IOPERM). images/build compiles this
// file as a static binary without libc, so it runs in a busybox initramfs:
//
//   cc -static -nostdlib -ffreestanding -fno-pie -no-pie -Os -s -o outb outb.c
//
// Exit status: 0 on success, 1 on bad arguments, 2 if ioperm() is refused.

enum {
  kSysWrite = 1,
  kSysIoperm = 173,
  kStderr = 2,
};

static long Syscall3(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a), "S"(b), "d"(c)
                   : "rcx", "r11", "memory");
  return ret;
}

static unsigned long Length(const char* s) {
  unsigned long n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

static int Fail(const char* message, int status) {
  static const char kPrefix[] = "outb: ";
  Syscall3(kSysWrite, kStderr, (long)kPrefix, sizeof kPrefix - 1);
  Syscall3(kSysWrite, kStderr, (long)message, (long)Length(message));
  return status;
}

// Parses a decimal or 0x-prefixed hexadecimal number no larger than `max`.
static int ParseNumber(const char* s, unsigned long max, unsigned long* out) {
  unsigned long base = 10, value = 0;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s += 2;
  }
  if (*s == '\0') return 0;
  for (; *s != '\0'; ++s) {
    unsigned long digit;
    if (*s >= '0' && *s <= '9') {
      digit = (unsigned long)(*s - '0');
    } else if (base == 16 && *s >= 'a' && *s <= 'f') {
      digit = (unsigned long)(*s - 'a' + 10);
    } else if (base == 16 && *s >= 'A' && *s <= 'F') {
      digit = (unsigned long)(*s - 'A' + 10);
    } else {
      return 0;
    }
    value = value * base + digit;
    if (value > max) return 0;
  }
  *out = value;
  return 1;
}

int OutbMain(long argc, char** argv) {
  unsigned long port, value;
  if (argc != 3 || !ParseNumber(argv[1], 0xffff, &port) || !ParseNumber(argv[2], 0xff, &value)) {
    return Fail("usage: outb PORT VALUE\n", 1);
  }
  if (Syscall3(kSysIoperm, (long)port, 1, 1) != 0) {
    return Fail("ioperm refused (not root?)\n", 2);
  }
  __asm__ volatile("outb %b0, %w1" : : "a"(value), "Nd"(port));
  return 0;
}

// Entry point: argc at (%rsp), argv after it; align the stack for the call.
__asm__(
    ".globl _start\n"
    "_start:\n"
    "  xor %ebp, %ebp\n"
    "  mov (%rsp), %rdi\n"
    "  lea 8(%rsp), %rsi\n"
    "  and $-16, %rsp\n"
    "  call OutbMain\n"
    "  mov %eax, %edi\n"
    "  mov $60, %eax\n"  // exit(status)
    "  syscall\n");
