// FADT (ACPI 6.5 section 5.2.9, signature "FACP"): a hardware-reduced
// platform whose power management lives in three byte-wide I/O registers.
#pragma once

#include <cstdint>
#include <vector>

#include "firmware/acpi/sdt.h"
#include "firmware/acpi/tables.h"
#include "vmm/memory/guest_address.h"

namespace mini_vmm::firmware::acpi {

inline constexpr uint8_t kFadtRevision = 6;
inline constexpr uint8_t kFadtMinorRevision = 5;  // ACPI 6.5.

// 5.2.9, Fixed ACPI Description Table Fixed Feature Flags.
inline constexpr uint32_t kFadtResetRegSup = 1u << 10;
inline constexpr uint32_t kFadtHwReducedAcpi = 1u << 20;

// 5.2.9.3, IA-PC Boot Architecture Flags.
inline constexpr uint16_t kBootArchLegacyDevices = 1u << 0;
inline constexpr uint16_t kBootArch8042 = 1u << 1;
inline constexpr uint16_t kBootArchVgaNotPresent = 1u << 2;

struct [[gnu::packed]] Fadt {
  SdtHeader header;
  uint32_t firmware_ctrl;
  uint32_t dsdt;
  uint8_t reserved0;
  uint8_t preferred_pm_profile;
  uint16_t sci_int;
  uint32_t smi_cmd;
  uint8_t acpi_enable;
  uint8_t acpi_disable;
  uint8_t s4bios_req;
  uint8_t pstate_cnt;
  uint32_t pm1a_evt_blk;
  uint32_t pm1b_evt_blk;
  uint32_t pm1a_cnt_blk;
  uint32_t pm1b_cnt_blk;
  uint32_t pm2_cnt_blk;
  uint32_t pm_tmr_blk;
  uint32_t gpe0_blk;
  uint32_t gpe1_blk;
  uint8_t pm1_evt_len;
  uint8_t pm1_cnt_len;
  uint8_t pm2_cnt_len;
  uint8_t pm_tmr_len;
  uint8_t gpe0_blk_len;
  uint8_t gpe1_blk_len;
  uint8_t gpe1_base;
  uint8_t cst_cnt;
  uint16_t p_lvl2_lat;
  uint16_t p_lvl3_lat;
  uint16_t flush_size;
  uint16_t flush_stride;
  uint8_t duty_offset;
  uint8_t duty_width;
  uint8_t day_alrm;
  uint8_t mon_alrm;
  uint8_t century;
  uint16_t iapc_boot_arch;
  uint8_t reserved1;
  uint32_t flags;
  GenericAddress reset_reg;
  uint8_t reset_value;
  uint16_t arm_boot_arch;
  uint8_t minor_version;
  uint64_t x_firmware_ctrl;
  uint64_t x_dsdt;
  GenericAddress x_pm1a_evt_blk;
  GenericAddress x_pm1b_evt_blk;
  GenericAddress x_pm1a_cnt_blk;
  GenericAddress x_pm1b_cnt_blk;
  GenericAddress x_pm2_cnt_blk;
  GenericAddress x_pm_tmr_blk;
  GenericAddress x_gpe0_blk;
  GenericAddress x_gpe1_blk;
  GenericAddress sleep_control_reg;
  GenericAddress sleep_status_reg;
  uint64_t hypervisor_vendor_identity;
};
static_assert(sizeof(Fadt) == 276);

// The FADT pointing at the DSDT at `dsdt`.
std::vector<uint8_t> BuildFadt(const AcpiConfig& config, GuestAddress dsdt);

}  // namespace mini_vmm::firmware::acpi
