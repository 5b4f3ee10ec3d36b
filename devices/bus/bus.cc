#include "devices/bus/bus.h"

#include <algorithm>
#include <array>

#include "vmm/base/log.h"

namespace mini_vmm::devices {

BusRegistration::~BusRegistration() {
  if (bus_ != nullptr && !bus_->Remove(base_)) {
    LOG_ERROR("bus range at {:#x} was already removed", base_);
  }
}

namespace {

// Ids of buses and generations of their tables come from one counter, so a
// (bus, generation) pair never repeats, even for a bus made where a
// destroyed one lived.
std::atomic<uint64_t> next_unique{1};
uint64_t NextUnique() { return next_unique.fetch_add(1, std::memory_order_relaxed); }

// A thread's snapshots: one per bus it dispatches on (a vCPU uses two, the
// port-I/O and MMIO buses). Holding the shared_ptr keeps the table alive.
struct CachedTable {
  uint64_t bus = 0;
  uint64_t generation = 0;
  std::shared_ptr<const void> table;
};
constexpr size_t kCachedBuses = 4;
struct ThreadCache {
  std::array<CachedTable, kCachedBuses> tables;
  size_t next_victim = 0;
  size_t last_hit = 0;     // The slot the last outermost dispatch used.
  int dispatch_depth = 0;  // Accesses in progress on this thread (nesting).
};
thread_local ThreadCache thread_cache;

// Counts nested dispatches on this thread for the life of one access.
class DispatchScope {
 public:
  explicit DispatchScope(ThreadCache& cache) : cache_(cache) { ++cache_.dispatch_depth; }
  ~DispatchScope() { --cache_.dispatch_depth; }
  DispatchScope(const DispatchScope&) = delete;
  DispatchScope& operator=(const DispatchScope&) = delete;

 private:
  ThreadCache& cache_;
};

}  // namespace

Bus::Bus(std::string name)
    : id_(NextUnique()),
      name_(std::move(name)),
      table_(std::make_shared<const Table>()),
      generation_(NextUnique()) {}

void Bus::Publish(std::shared_ptr<const Table> table) {
  {
    std::lock_guard lock(table_mutex_);
    table_ = std::move(table);
  }
  // Release: a thread that sees the new generation then takes the table
  // under table_mutex_ and gets one at least this new, fully built.
  generation_.store(NextUnique(), std::memory_order_release);
}

std::shared_ptr<const Bus::Table> Bus::CurrentTable() const {
  std::lock_guard lock(table_mutex_);
  return table_;
}

const Bus::Table& Bus::Snapshot(std::shared_ptr<const Table>* pin) const noexcept {
  ThreadCache& cache = thread_cache;
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  CachedTable* slot = nullptr;
  for (CachedTable& c : cache.tables) {
    if (c.bus == id_) {
      slot = &c;
      break;
    }
  }
  const bool outermost = cache.dispatch_depth <= 1;
  if (slot == nullptr) {
    // Not cached yet (or evicted): take the next slot round-robin, but
    // never while an outer access on this thread may be using its table.
    if (!outermost) {
      *pin = CurrentTable();
      return **pin;
    }
    slot = &cache.tables[cache.next_victim++ % kCachedBuses];
    *slot = CachedTable{id_, 0, nullptr};
  }
  if (slot->generation != generation && outermost) {
    slot->table = CurrentTable();
    slot->generation = generation;
  }
  if (outermost) cache.last_hit = static_cast<size_t>(slot - cache.tables.data());
  return *static_cast<const Table*>(slot->table.get());
}

Result<void> Bus::Insert(std::shared_ptr<BusDevice> device, uint64_t base, uint64_t len) {
  VMM_CHECK(device != nullptr);
  uint64_t end = 0;
  if (len == 0 || __builtin_add_overflow(base, len, &end)) {
    return Error::Invalid("{} bus: invalid range {:#x}+{:#x} for {}", name_, base, len,
                          device->name());
  }
  std::lock_guard lock(write_mutex_);
  auto table = std::make_shared<Table>(*CurrentTable());
  auto it = std::lower_bound(table->begin(), table->end(), base,
                             [](const Range& r, uint64_t b) { return r.base < b; });
  if (it != table->end() && it->base < end) {
    return Error::Invalid("{} bus: {} at {:#x}+{:#x} overlaps {}", name_, device->name(), base, len,
                          it->device->name());
  }
  if (it != table->begin()) {
    const Range& prev = *std::prev(it);
    if (prev.base + prev.len > base) {
      return Error::Invalid("{} bus: {} at {:#x}+{:#x} overlaps {}", name_, device->name(), base,
                            len, prev.device->name());
    }
  }
  table->insert(it, Range{base, len, std::move(device)});
  Publish(std::move(table));
  return {};
}

Result<BusRegistration> Bus::Attach(std::shared_ptr<BusDevice> device, uint64_t base,
                                    uint64_t len) {
  TRY(Insert(std::move(device), base, len));
  return BusRegistration(this, base);
}

bool Bus::Remove(uint64_t base) {
  std::lock_guard lock(write_mutex_);
  auto table = std::make_shared<Table>(*CurrentTable());
  auto it =
      std::find_if(table->begin(), table->end(), [base](const Range& r) { return r.base == base; });
  if (it == table->end()) return false;
  table->erase(it);
  Publish(std::move(table));
  return true;
}

const Bus::Range* Bus::Lookup(const Table& table, uint64_t address, uint64_t len,
                              uint64_t* offset) noexcept {
  // The last range starting at or below `address`.
  auto it = std::upper_bound(table.begin(), table.end(), address,
                             [](uint64_t a, const Range& r) { return a < r.base; });
  if (it == table.begin()) return nullptr;
  const Range& r = *std::prev(it);
  const uint64_t off = address - r.base;
  if (off >= r.len || len > r.len - off) return nullptr;
  *offset = off;
  return &r;
}

std::shared_ptr<BusDevice> Bus::Find(uint64_t address, uint64_t len,
                                     uint64_t* offset) const noexcept {
  const std::shared_ptr<const Table> table = CurrentTable();
  const Range* range = Lookup(*table, address, len, offset);
  return range == nullptr ? nullptr : range->device;
}

// The common case, inlined: an outermost dispatch on the bus this thread
// used last, whose table has not changed since.
inline const void* FastTable(const ThreadCache& cache, uint64_t bus, uint64_t generation) {
  const CachedTable& c = cache.tables[cache.last_hit];
  if (cache.dispatch_depth != 0 || c.bus != bus || c.generation != generation) return nullptr;
  return c.table.get();
}

template <typename Access>
bool Bus::Dispatch(uint64_t address, size_t size, const Access& access) const noexcept {
  ThreadCache& cache = thread_cache;
  uint64_t offset = 0;
  if (const void* fast = FastTable(cache, id_, generation_.load(std::memory_order_acquire))) {
    const Range* range = Lookup(*static_cast<const Table*>(fast), address, size, &offset);
    if (range == nullptr) return false;
    DispatchScope scope(cache);
    access(*range->device, offset);
    return true;
  }
  DispatchScope scope(cache);
  std::shared_ptr<const Table> pin;  // Stays empty unless re-entered uncached.
  const Range* range = Lookup(Snapshot(&pin), address, size, &offset);
  if (range == nullptr) return false;
  access(*range->device, offset);
  return true;
}

bool Bus::Read(uint64_t address, std::span<uint8_t> data, uint32_t vcpu) const noexcept {
  return Dispatch(address, data.size(), [&](BusDevice& device, uint64_t offset) {
    device.Read(IoAccess{address, offset, vcpu}, data);
  });
}

bool Bus::Write(uint64_t address, std::span<const uint8_t> data, uint32_t vcpu) const noexcept {
  return Dispatch(address, data.size(), [&](BusDevice& device, uint64_t offset) {
    device.Write(IoAccess{address, offset, vcpu}, data);
  });
}

}  // namespace mini_vmm::devices
