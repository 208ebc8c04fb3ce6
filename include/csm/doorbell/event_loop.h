// EventLoop: one thread waits on many file descriptors at once through
// io_uring (liburing): doorbells, event streams, sockets, any pollable fd,
// with a timeout per wait. Works the same with the simulator's fds and the
// ones /dev/csm hands out.
//
// Watches are multishot poll requests: each readiness change produces a
// callback without re-arming. A callback must consume what made the fd
// readable (WatchDoorbell drains for you) or it will not fire again until the
// next change. Single-threaded: Watch/Unwatch/RunOnce from the loop's thread
// (callbacks included); only Wake() may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "csm/doorbell/doorbell.h"

namespace csm {

class EventLoop {
 public:
  using WatchId = uint64_t;
  // Called with the poll revents (POLLIN, POLLERR, POLLHUP...).
  using Callback = std::function<void(uint32_t revents)>;

  static absl::StatusOr<EventLoop> Create(unsigned queue_depth = 64);
  EventLoop(EventLoop&&) noexcept;
  EventLoop& operator=(EventLoop&&) noexcept;
  ~EventLoop();

  // Calls `callback` whenever `fd` becomes readable (or errors). The fd must
  // outlive the watch.
  absl::StatusOr<WatchId> Watch(int fd, Callback callback);
  // Drains the doorbell, then calls `callback`: the caller re-checks its
  // shared condition afterwards, so no ring is lost.
  absl::StatusOr<WatchId> WatchDoorbell(Doorbell& bell, std::function<void()> callback);
  absl::Status Unwatch(WatchId id);

  // Waits up to `timeout` for readiness, runs the callbacks of everything
  // ready, and returns how many ran (0 on timeout or after Wake()).
  absl::StatusOr<int> RunOnce(absl::Duration timeout);
  // Makes a RunOnce in progress (or the next one) return. Thread-safe.
  void Wake();

  size_t watch_count() const;

 private:
  struct State;
  explicit EventLoop(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace csm
