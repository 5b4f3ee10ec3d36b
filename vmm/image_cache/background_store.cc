#include "vmm/image_cache/background_store.h"

#include <atomic>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "vmm/base/log.h"

namespace mini_vmm::image_cache {
namespace {

// The threads of the stores, joined by WaitForBackgroundStores or, at the
// latest, by this object's destruction when the process exits.
class Stores {
 public:
  ~Stores() { JoinAll(); }

  void Start(ImageCache cache, const Sha256::Digest& key, std::shared_ptr<const void> owner,
             std::span<const uint8_t> content) {
    const std::string path = cache.EntryPath(key);
    std::lock_guard lock(mutex_);
    try {
      threads_.emplace_back(
          [this, cache = std::move(cache), key, owner = std::move(owner), content, path]() mutable {
            const bool stored = cache.Store(key, content);
            owner.reset();  // The content may go as soon as it is written.
            if (!stored) Failed(path);
          });
    } catch (const std::system_error& e) {
      Failed(path + " (no thread: " + e.what() + ")");
    }
  }

  bool JoinAll() {
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
    return !failed_.exchange(false);
  }

 private:
  void Failed(const std::string& path) {
    failed_ = true;
    static std::atomic<bool> logged{false};
    if (!logged.exchange(true)) {
      LOG_INFO("image cache: could not store {}; the next boot decompresses the kernel again",
               path);
    } else {
      LOG_DEBUG("image cache: could not store {}", path);
    }
  }

  std::mutex mutex_;
  std::vector<std::thread> threads_;  // Guarded by mutex_.
  std::atomic<bool> failed_{false};
};

Stores& TheStores() {
  static Stores stores;
  return stores;
}

}  // namespace

void StoreInBackground(ImageCache cache, const Sha256::Digest& key,
                       std::shared_ptr<const void> owner, std::span<const uint8_t> content) {
  TheStores().Start(std::move(cache), key, std::move(owner), content);
}

bool WaitForBackgroundStores() { return TheStores().JoinAll(); }

}  // namespace mini_vmm::image_cache
