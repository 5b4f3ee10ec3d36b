#include "firmware/acpi/mcfg.h"

#include <array>

#include "firmware/acpi/sdt.h"

namespace mini_vmm::firmware::acpi {
namespace {

// Table 4-3: the ECAM base of one segment's bus range.
struct [[gnu::packed]] McfgAllocation {
  uint64_t base_address;
  uint16_t segment;
  uint8_t start_bus;
  uint8_t end_bus;
  uint32_t reserved;
};
static_assert(sizeof(McfgAllocation) == 16);

}  // namespace

std::vector<uint8_t> BuildMcfg(const PciHostBridge& bridge) {
  std::vector<uint8_t> table;
  AppendObj(table, MakeSdtHeader("MCFG", kMcfgRevision));
  AppendObj(table, std::array<uint8_t, 8>{});  // Reserved.
  // The base is that of bus 0 even when the range starts later (4.1.2).
  AppendObj(table, McfgAllocation{.base_address = bridge.ecam_base,
                                  .segment = 0,
                                  .start_bus = bridge.first_bus,
                                  .end_bus = bridge.last_bus,
                                  .reserved = 0});
  FinishSdt(table);
  return table;
}

}  // namespace mini_vmm::firmware::acpi
