#include "firmware/acpi/fadt.h"

namespace mini_vmm::firmware::acpi {

std::vector<uint8_t> BuildFadt(const AcpiConfig& config, GuestAddress dsdt) {
  // Everything not set here is zero: with HW_REDUCED_ACPI the OS ignores the
  // SCI, SMI, PM1/PM2/PM timer and GPE fields (5.2.9, 4.1), and FACS is
  // optional (5.2.10), so FIRMWARE_CTRL stays 0.
  Fadt fadt{};
  fadt.header = MakeSdtHeader("FACP", kFadtRevision);
  fadt.minor_version = kFadtMinorRevision;
  // Only the 64-bit pointer: when X_DSDT is set, the OS must ignore DSDT,
  // and leaving DSDT zero avoids ACPICA's 32/64-bit mismatch warning.
  fadt.x_dsdt = dsdt.value();
  fadt.flags = kFadtHwReducedAcpi | kFadtResetRegSup;
  // No 8042 flag: Linux then marks the i8042 "firmware absent" and skips its
  // probe, which waits ~1.6 s under nesting; the VMM's i8042 is only there
  // for reset. No legacy-devices flag either: COM1 and the RTC are
  // enumerated from the DSDT instead.
  fadt.iapc_boot_arch = kBootArchVgaNotPresent;
  // 4.8.3.6 Reset Register: one byte write of RESET_VALUE.
  fadt.reset_reg = IoPortRegister8(config.reset_port);
  fadt.reset_value = config.reset_value;
  // 4.8.3.7 Sleep Control and Status Registers, which replace PM1 on
  // hardware-reduced platforms; Linux requires both to be non-zero.
  fadt.sleep_control_reg = IoPortRegister8(config.sleep_control_port);
  fadt.sleep_status_reg = IoPortRegister8(config.sleep_status_port);

  std::vector<uint8_t> table;
  AppendObj(table, fadt);
  FinishSdt(table);
  return table;
}

}  // namespace mini_vmm::firmware::acpi
