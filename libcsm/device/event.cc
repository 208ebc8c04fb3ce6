// EventStream: reads struct csm_event records from an event fd.
#include "csm/event.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "csm/uapi/csm.h"

namespace csm {

std::string_view EventTypeName(EventType t) {
  switch (t) {
    case EventType::kAttached: return "attached";
    case EventType::kDetached: return "detached";
    case EventType::kRevoked: return "revoked";
    case EventType::kDestroyed: return "destroyed";
    case EventType::kGone: return "gone";
  }
  return "unknown";
}

std::string Event::ToString() const {
  return absl::StrFormat("#%d %s region %s share %s realm %s%s", seq, EventTypeName(type),
                         region, share, realm, lost_before ? " (events lost before)" : "");
}

EventStream& EventStream::operator=(EventStream&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

EventStream::~EventStream() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<Event> EventStream::TryNext() {
  csm_event raw;
  ssize_t n;
  do {
    n = read(fd_, &raw, sizeof(raw));
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return absl::NotFoundError("no event pending");
  if (n < 0) return absl::ErrnoToStatus(errno, "reading the event stream");
  if (n != sizeof(raw)) {
    return absl::DataLossError(absl::StrFormat("short event record: %d bytes", n));
  }
  if (raw.type < CSM_EVENT_ATTACHED || raw.type > CSM_EVENT_GONE) {
    return absl::DataLossError(absl::StrFormat("unknown event type %d", raw.type));
  }
  Event e;
  e.type = static_cast<EventType>(raw.type);
  e.lost_before = (raw.flags & CSM_EVENT_F_LOST) != 0;
  e.seq = raw.seq;
  e.region = RegionId(raw.region_id);
  e.share = ShareId(raw.share_id);
  e.realm = RealmId(raw.realm_id);
  return e;
}

absl::StatusOr<Event> EventStream::Next(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    absl::StatusOr<Event> e = TryNext();
    if (!absl::IsNotFound(e.status())) return e;
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("no event within ", absl::FormatDuration(timeout)));
    }
    pollfd p = {fd_, POLLIN, 0};
    int ms = timeout == absl::InfiniteDuration()
                 ? -1
                 : static_cast<int>(absl::ToInt64Milliseconds(
                       absl::Ceil(left, absl::Milliseconds(1))));
    if (poll(&p, 1, ms) < 0 && errno != EINTR) return absl::ErrnoToStatus(errno, "poll");
  }
}

}  // namespace csm
