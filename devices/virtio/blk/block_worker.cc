#include "devices/virtio/blk/block_worker.h"

#include <system_error>

#include "vmm/base/check.h"
#include "vmm/base/io_thread.h"
#include "vmm/base/log.h"

namespace mini_vmm::virtio::blk {

Result<std::unique_ptr<BlockWorker>> BlockWorker::Start(Session session, DiskBackend& backend,
                                                        BlockCounters& counters) {
  // The tables below are sized from the queue: only a validated (active)
  // queue's size is bounded by the device's maximum rather than the guest.
  VMM_CHECK(session.queue.active() && session.queue.size() <= session.queue.max_size());
  EventLoop loop = TRY(EventLoop::Create());
  EventFd stop = TRY(EventFd::Create());
  std::unique_ptr<BlockWorker> worker(
      new BlockWorker(std::move(session), backend, counters, std::move(loop), std::move(stop)));
  TRY(worker->Watch());
  try {
    worker->thread_ = std::thread([w = worker.get()] { w->Run(); });
  } catch (const std::system_error& e) {
    return Error::Errno(e.code().value(), "cannot start the I/O thread of {}",
                        worker->session_.name);
  }
  return worker;
}

BlockWorker::BlockWorker(Session session, DiskBackend& backend, BlockCounters& counters,
                         EventLoop loop, EventFd stop)
    : session_(std::move(session)),
      backend_(backend),
      counters_(counters),
      loop_(std::move(loop)),
      stop_(std::move(stop)) {
  const uint16_t size = session_.queue.size();
  in_flight_.resize(size);
  free_tags_.reserve(size);
  for (uint16_t tag = size; tag > 0; --tag) free_tags_.push_back(static_cast<uint16_t>(tag - 1));
  completions_.reserve(size);
}

Result<void> BlockWorker::Watch() {
  // Edge-triggered: a kick means "look at the ring", and ProcessQueue
  // looks until it is empty (or every tag is busy, when a completion
  // resumes it), so the count need not be read: a syscall less per kick.
  constexpr auto kEdge = EventLoop::Trigger::kEdge;
  TRY(loop_.Add(session_.kick.fd(), kEdge, [this] { OnKick(); }));
  // Also edge-triggered (disk_backend.h): OnCompletions reaps everything.
  TRY(loop_.Add(backend_.completion_fd(), kEdge, [this] { OnCompletions(); }));
  TRY(loop_.Add(stop_.fd(), [this] { loop_.Quit(); }));
  return {};
}

BlockWorker::~BlockWorker() {
  if (thread_.joinable()) {
    stop_.Signal();
    thread_.join();
  }
  // The thread is gone; drain what it left with the backend before the
  // driver, told the reset is done, reuses those buffers.
  backend_.Drain();
  for (auto& entry : in_flight_) {
    if (entry) entry->chain.Abandon();
  }
}

void BlockWorker::Run() noexcept {
  EnterIoThread(session_.name);  // Named, and SCHED_BATCH (io_thread.h says why).
  if (auto run = loop_.Run(); !run.ok()) {
    // A host failure, but the guest would otherwise wait forever on a disk
    // nobody serves: tell it the device is broken.
    LOG_ERROR("{}: I/O thread stopped: {}", session_.name, run.error().ToString());
    session_.needs_reset();
  }
}

void BlockWorker::OnKick() {
  ProcessQueue();
  NotifyDriver();
  // Release: whoever sees the count also sees everything this kick did
  // (a test waits on it to know that nothing more will happen).
  counters_.kicks.fetch_add(1, std::memory_order_release);
}

void BlockWorker::OnCompletions() {
  completions_.clear();
  backend_.Reap(completions_);
  for (const DiskCompletion& completion : completions_) Complete(completion);
  if (blocked_) {
    blocked_ = false;
    ProcessQueue();
  }
  NotifyDriver();
}

// The loop of queue.h: drain the ring with notifications off, then turn
// them back on and look once more, so a buffer added in between is not
// missed.
void BlockWorker::ProcessQueue() {
  if (faulted_) return;
  Queue& queue = session_.queue;
  for (;;) {
    queue.DisableNotification();
    while (!free_tags_.empty()) {
      auto chain = queue.Pop();
      if (!chain) break;
      HandleChain(std::move(*chain));
    }
    if (CheckRingFault()) break;
    if (free_tags_.empty()) {
      blocked_ = true;  // OnCompletions resumes once tags are free.
      break;
    }
    if (!queue.EnableNotification()) break;
  }
  backend_.SubmitBatch();
}

void BlockWorker::HandleChain(DescriptorChain&& chain) {
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  Request request = ParseRequest(chain, session_.request_context);
  if (request.fault) CountFault(*request.fault);
  if (!request.io) {
    const uint32_t len = FinishRequest(request, request.result);
    AddUsed(std::move(chain), len);
    return;
  }
  const uint16_t tag = free_tags_.back();
  free_tags_.pop_back();
  in_flight_[tag].emplace(std::move(chain), request.status, request.data_bytes);
  backend_.Enqueue(tag, std::move(*request.io));
}

void BlockWorker::Complete(const DiskCompletion& completion) {
  VMM_CHECK(completion.tag < in_flight_.size() && in_flight_[completion.tag].has_value());
  InFlight& entry = *in_flight_[completion.tag];
  if (completion.status == VIRTIO_BLK_S_IOERR) {
    counters_.io_errors.fetch_add(1, std::memory_order_relaxed);
    LOG_WARN_RATELIMITED("{}: disk I/O failed", session_.name);
  }
  if (faulted_) {
    // The driver must reset the device before it sees anything again.
    entry.chain.Abandon();
  } else {
    const uint32_t len = FinishRequest(entry.status, entry.data_bytes, completion.status);
    AddUsed(std::move(entry.chain), len);
  }
  in_flight_[completion.tag].reset();
  free_tags_.push_back(completion.tag);
}

void BlockWorker::AddUsed(DescriptorChain&& chain, uint32_t len) {
  session_.queue.AddUsed(std::move(chain), len);
  ++used_since_notify_;
}

// A queue fault is ring-level corruption (a descriptor outside RAM, a loop,
// avail->idx running ahead): nothing the ring says can be trusted any more,
// unlike a malformed request, which is answered with a status. §2.1.2: the
// device sets DEVICE_NEEDS_RESET and stops using the queue until reset.
bool BlockWorker::CheckRingFault() {
  const auto fault = session_.queue.fault();
  if (!fault) return false;
  faulted_ = true;
  counters_.ring_faults.fetch_add(1, std::memory_order_relaxed);
  LOG_WARN_RATELIMITED("{}: {}; the device needs a reset", session_.name, ChainErrorName(*fault));
  session_.needs_reset();
  return true;
}

void BlockWorker::NotifyDriver() {
  if (used_since_notify_ == 0 || faulted_) return;
  used_since_notify_ = 0;
  if (session_.queue.ShouldNotifyDriver()) session_.interrupt.NotifyQueue(0);
}

void BlockWorker::CountFault(RequestFault fault) {
  counters_.faults[static_cast<size_t>(fault)].fetch_add(1, std::memory_order_relaxed);
  LOG_WARN_RATELIMITED("{}: bad request from the guest: {}", session_.name,
                       RequestFaultName(fault));
}

}  // namespace mini_vmm::virtio::blk
