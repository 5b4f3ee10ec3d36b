// The x86_64 mini-vmm platform, declared once: the guest-physical memory
// map, and the fixed addresses, ports and interrupt lines of the PC devices.
// Firmware tables (ACPI, MP table), the device models and the machine
// builder all read them from here; nothing else spells them.
//
// Guest-physical memory:
//
//   0x0000_0472  BIOS data area reset flag     (reset_vector.h)
//   0x0000_0500  GDT, then IDT                (boot-time, reclaimed by Linux)
//   0x0000_7000  zero page (struct boot_params)
//   0x0000_8ff0  boot stack top
//   0x0000_9000  identity page tables (PML4, PDPT, 4 PDs: first 4 GiB)
//   0x0002_0000  kernel command line
//   0x0009_fc00  end of low RAM (EBDA and ISA hole above, e820-reserved)
//   0x000e_0000  ACPI tables (RSDP first, where Linux scans for it)
//   0x000f_0000  MP table (floating pointer in the BIOS area Linux scans)
//   0x000f_fff0  reset vector (real-mode F000:FFF0): a stub that resets
//   0x0010_0000  bzImage protected-mode code; RAM continues to 3 GiB
//   0xc000_0000  MMIO hole: PCI BARs (32-bit window), virtio-mmio at
//                0xd000_0000, PCI ECAM at 0xe000_0000, IOAPIC, LAPIC
//   0x1_0000_0000 RAM above 3 GiB continues here
//
// Ports: i8042 0x60/0x64, RTC 0x70-0x71, COM1 0x3f8-0x3ff, boot marker
// 0x3f0, ACPI PM block 0x600-0x602, PCI configuration 0xcf8-0xcff (with
// the reset control register at 0xcf9).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace mini_vmm::arch::x86_64 {

inline constexpr uint64_t kPageSize = 0x1000;

// The BIOS data area's reset flag (segment 0x40, offset 0x72).
inline constexpr uint64_t kBiosResetFlagAddress = 0x472;
inline constexpr uint64_t kGdtAddress = 0x500;
inline constexpr uint64_t kIdtAddress = 0x520;
inline constexpr uint64_t kZeroPageAddress = 0x7000;
inline constexpr uint64_t kBootStackPointer = 0x8ff0;
inline constexpr uint64_t kPml4Address = 0x9000;
inline constexpr uint64_t kPdptAddress = 0xa000;
inline constexpr uint64_t kPdAddress = 0xb000;  // Four pages: 0xb000-0xefff.
inline constexpr uint64_t kIdentityMappedBytes = 4ull << 30;
inline constexpr uint64_t kCmdlineAddress = 0x20000;
inline constexpr uint64_t kCmdlineAreaSize = 0x10000;

inline constexpr uint64_t kLowRamEnd = 0x9fc00;
inline constexpr uint64_t kAcpiTablesAddress = 0xe0000;
inline constexpr uint64_t kAcpiTablesSize = 0x10000;
inline constexpr uint64_t kMpTableAddress = 0xf0000;
// Where real mode's F000:FFF0 lands: the last 16 bytes below 1 MiB.
inline constexpr uint64_t kResetVectorAddress = 0xffff0;
inline constexpr uint64_t kResetVectorSize = 0x10;
inline constexpr uint64_t kMpTableSize = kResetVectorAddress - kMpTableAddress;
inline constexpr uint64_t kHighMemoryStart = 0x100000;

inline constexpr uint64_t kMmioHoleStart = 0xc000'0000;
inline constexpr uint64_t kMmioHoleEnd = 0x1'0000'0000;
inline constexpr uint64_t kVirtioMmioBase = 0xd000'0000;
inline constexpr uint64_t kVirtioMmioStride = 0x1000;
inline constexpr uint64_t kIoapicAddress = 0xfec0'0000;
inline constexpr uint64_t kLapicAddress = 0xfee0'0000;
// KVM needs three pages for the real-mode TSS and one for the identity map
// on Intel; they must not overlap RAM or MMIO.
inline constexpr uint64_t kIdentityMapAddress = 0xfffb'c000;
inline constexpr uint64_t kTssAddress = 0xfffb'd000;

// Port I/O devices of the PC. Device models keep their own register
// offsets and counts; where they sit is the platform's.
inline constexpr uint16_t kI8042DataPort = 0x60;
inline constexpr uint16_t kI8042CommandPort = 0x64;  // Status register when read.
inline constexpr uint16_t kRtcPort = 0x70;           // Index; data at 0x71.
inline constexpr uint16_t kRtcPortCount = 2;
inline constexpr uint16_t kCom1Port = 0x3f8;
inline constexpr uint16_t kCom1PortCount = 8;
// Written 123 by the test guests once booted (devices/legacy/boot_marker.h).
inline constexpr uint16_t kBootMarkerPort = 0x3f0;
// The ACPI PM block (devices/legacy/acpi_pm.h): SLP_TYP/SLP_EN control,
// status, and the FADT's reset register, one byte each.
inline constexpr uint16_t kAcpiPmPort = 0x600;
inline constexpr uint16_t kAcpiSleepControlPort = kAcpiPmPort;
inline constexpr uint16_t kAcpiSleepStatusPort = kAcpiPmPort + 1;
inline constexpr uint16_t kAcpiResetPort = kAcpiPmPort + 2;
inline constexpr uint16_t kAcpiPmPortCount = 3;
// The chipset's reset control register (devices/legacy/reset_control.h).
inline constexpr uint16_t kResetControlPort = 0xcf9;

// GSIs: the in-kernel IOAPIC has 24 pins (GSI base 0; its ID follows the
// vCPUs' APIC IDs). The ISA IRQs
// of the PC's own devices are reserved (0 timer, 1 keyboard, 2 cascade,
// 3 COM2, 4 COM1, 8 RTC), and so are the four PCI INTx pins (20-23, below);
// the rest (5-7, 9-19, edge, active-high) are handed out to devices in
// that order by PlatformResources.
inline constexpr uint32_t kIoapicPins = 24;
inline constexpr uint32_t kIsaIrqs = 16;
inline constexpr uint32_t kKeyboardIrq = 1;
inline constexpr uint32_t kCom1Irq = 4;
inline constexpr uint32_t kRtcIrq = 8;
inline constexpr uint32_t kSerialGsi = kCom1Irq;
inline constexpr std::array<uint32_t, 6> kLegacyGsis = {0, kKeyboardIrq, 2, 3, kCom1Irq, kRtcIrq};
// Windows of the platform's MMIO devices (virtio-mmio), handed out from here.
inline constexpr uint64_t kMmioDevicesEnd = 0xe000'0000;

// PCI: one host bridge, segment 0, bus 0 only, found through ACPI (MCFG and
// a PNP0A08 device) or, with acpi=off, through ports 0xcf8/0xcfc. BARs are
// assigned by mini-vmm from three windows: 32-bit ones below the
// virtio-mmio windows, 64-bit ones above the end of RAM, I/O BARs in the
// port window (PlatformResources).
inline constexpr uint64_t kPciMmio32Base = kMmioHoleStart;
inline constexpr uint64_t kPciMmio32End = kVirtioMmioBase;
inline constexpr uint64_t kPciEcamBase = kMmioDevicesEnd;
// Bus 0 only: 32 devices x 8 functions x 4 KiB of configuration space.
inline constexpr uint32_t kPciDevices = 32;
inline constexpr uint64_t kPciEcamSize = uint64_t{kPciDevices} * 8 * 0x1000;
inline constexpr uint64_t kPciMmio64Alignment = 1ull << 30;
// I/O BARs (a passed-through device's) get ports from 0xc000-0xffff, where
// PC firmware puts them too, far above every fixed port of the platform.
inline constexpr uint16_t kPciIoBase = 0xc000;
inline constexpr uint32_t kPciIoEnd = 0x10000;
inline constexpr uint64_t kPciMmio64Size = 64ull << 30;
// CONFIG_ADDRESS at 0xcf8 (dword), CONFIG_DATA at 0xcfc-0xcff.
inline constexpr uint16_t kPciConfigAddressPort = 0xcf8;
inline constexpr uint16_t kPciConfigDataPort = 0xcfc;
// INTA#-INTD# of every slot go to four level-triggered, active-low IOAPIC
// pins, swizzled by slot as on a PC's bridge: slot s, pin p (0 = INTA#)
// raises kPciIntxGsis[(s + p) % 4]. The ACPI _PRT and the MP table describe
// exactly this, and the devices' INTx are wired by it.
inline constexpr std::array<uint32_t, 4> kPciIntxGsis = {20, 21, 22, 23};
constexpr uint32_t PciIntxGsi(uint32_t slot, uint32_t pin) {
  return kPciIntxGsis[(slot + pin) % kPciIntxGsis.size()];
}

// Each virtio-mmio device takes one edge-triggered IOAPIC pin of its own.
inline constexpr size_t kMaxVirtioMmioDevices =
    kIoapicPins - kLegacyGsis.size() - kPciIntxGsis.size();

// The boot GDT: null, 64-bit code, data, TSS.
inline constexpr uint16_t kBootCodeSelector = 0x08;
inline constexpr uint16_t kBootDataSelector = 0x10;
inline constexpr uint16_t kBootTssSelector = 0x18;

}  // namespace mini_vmm::arch::x86_64
