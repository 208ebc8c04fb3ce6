// Events the device reports to a realm: a peer attached or detached, a
// share was revoked, a region destroyed, a peer realm gone. They arrive as
// fixed-size struct csm_event records on a pollable fd.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "csm/ids.h"

namespace csm {

enum class EventType : uint32_t {
  kAttached = 1,   // provider: a consumer attached
  kDetached = 2,   // provider: a consumer detached
  kRevoked = 3,    // consumer: its share was revoked; mapping already gone
  kDestroyed = 4,  // consumer: the provider destroyed the region
  kGone = 5,       // a peer realm died; everything tied to it was released
};

std::string_view EventTypeName(EventType t);

struct Event {
  EventType type = EventType::kGone;
  bool lost_before = false;  // the queue overflowed before this record
  uint64_t seq = 0;
  RegionId region;
  ShareId share;
  RealmId realm;  // the peer concerned
  std::string ToString() const;
};

// Owns one event fd. Movable, not copyable.
class EventStream {
 public:
  explicit EventStream(int fd) : fd_(fd) {}
  EventStream(EventStream&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  EventStream& operator=(EventStream&& other) noexcept;
  ~EventStream();

  // The fd, readable when an event is pending (poll/epoll/io_uring).
  int fd() const { return fd_; }
  // The next event, waiting up to `timeout`; DeadlineExceeded if none.
  absl::StatusOr<Event> Next(absl::Duration timeout);
  // The next event if one is pending; NotFound otherwise.
  absl::StatusOr<Event> TryNext();

 private:
  int fd_ = -1;
};

}  // namespace csm
