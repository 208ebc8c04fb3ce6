// Doorbell: a hint-only, cross-realm wakeup carried by a region.
//
// One Doorbell per direction per peer: MyDoorbell() is the one this realm
// waits on, PeerDoorbell(peer) the one it rings. Both are plain file
// descriptors with eventfd conventions (uapi/csm.h, CSM_IOC_DOORBELL_FD):
// write of a __u64 rings, POLLIN means rung, read until EAGAIN drains. So a
// Doorbell is constructible from any such fd: a kernel doorbell fd, an
// eventfd, or the simulator's FIFO.
//
// Threads: Ring may run in one thread while Wait/Drain run in another (the
// usual ringer/waiter split); moving a Doorbell needs exclusive access. One
// waiting thread per doorbell: a region's MyDoorbell() fds all read one
// counter, so two threads waiting on it (say a receiver and a sender of
// different channels) can each consume the other's ring; give each waiting
// thread its own region, or wait in one thread (an EventLoop).
//
// Hint only: Wait may return spuriously, and a Ring that cannot be delivered
// is dropped (counted). Lost wakeups are excluded by the caller's protocol,
// not here: the waiter publishes "I am waiting" in shared memory, fences,
// re-checks its condition, then waits; the ringer publishes, fences, checks
// the flag, then rings.
#pragma once

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace csm {

class Doorbell {
 public:
  Doorbell() = default;
  // Takes ownership of `fd` (made O_NONBLOCK if it is not already).
  explicit Doorbell(int fd);
  Doorbell(Doorbell&& other) noexcept;
  Doorbell& operator=(Doorbell&& other) noexcept;
  Doorbell(const Doorbell&) = delete;
  Doorbell& operator=(const Doorbell&) = delete;
  ~Doorbell();

  // A connected pair in this process (an eventfd both rings and waits):
  // for tests and for in-process channels.
  static absl::StatusOr<Doorbell> CreateLocal();

  bool valid() const { return fd_ >= 0; }

  // Wakes the peer. Never blocks; a ring that cannot be delivered
  // (saturated, peer gone) is counted in dropped_rings(), never an error.
  void Ring();
  // Returns after a ring (or spuriously), or DeadlineExceeded. Consumes the
  // rings it observed. Fails otherwise only for a broken fd (Internal) or
  // one that hung up with nothing to read (Unavailable: the region is gone).
  absl::Status Wait(absl::Duration timeout);
  // Readable when rung: poll/epoll/io_uring friendly.
  int fd() const { return fd_; }
  // Consumes pending rings (after fd() reported readable), with a bounded
  // number of reads: a flooding peer cannot keep it from returning.
  void Drain();

  // Counters; safe to read while another thread rings.
  uint64_t rings() const { return rings_.load(std::memory_order_relaxed); }
  uint64_t dropped_rings() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  int fd_ = -1;
  std::atomic<uint64_t> rings_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace csm
