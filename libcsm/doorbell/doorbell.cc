// Doorbell over an fd with eventfd conventions (see csm/doorbell/doorbell.h).
#include "csm/doorbell/doorbell.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"

namespace csm {
namespace {

// poll() takes milliseconds; round up so a short timeout never busy-loops.
int PollMillis(absl::Duration remaining) {
  if (remaining == absl::InfiniteDuration()) return -1;
  if (remaining <= absl::ZeroDuration()) return 0;
  int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(remaining, absl::Milliseconds(1)));
  return ms > INT32_MAX ? INT32_MAX : static_cast<int>(ms);
}

}  // namespace

Doorbell::Doorbell(int fd) : fd_(fd) {
  int flags = fcntl(fd_, F_GETFL);
  if (flags >= 0 && !(flags & O_NONBLOCK)) fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

Doorbell::Doorbell(Doorbell&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      rings_(other.rings_.exchange(0, std::memory_order_relaxed)),
      dropped_(other.dropped_.exchange(0, std::memory_order_relaxed)) {}

Doorbell& Doorbell::operator=(Doorbell&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    rings_.store(other.rings_.exchange(0, std::memory_order_relaxed), std::memory_order_relaxed);
    dropped_.store(other.dropped_.exchange(0, std::memory_order_relaxed),
                   std::memory_order_relaxed);
  }
  return *this;
}

Doorbell::~Doorbell() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<Doorbell> Doorbell::CreateLocal() {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, "eventfd for a local doorbell");
  return Doorbell(fd);
}

void Doorbell::Ring() {
  const uint64_t one = 1;
  rings_.fetch_add(1, std::memory_order_relaxed);
  ssize_t n;
  do {
    n = write(fd_, &one, sizeof(one));
  } while (n < 0 && errno == EINTR);
  // EAGAIN: saturated, the peer has rings pending anyway. Anything else
  // (peer gone, bad fd): still only a hint; count it.
  if (n != static_cast<ssize_t>(sizeof(one))) dropped_.fetch_add(1, std::memory_order_relaxed);
}

void Doorbell::Drain() {
  // 64 bytes: one eventfd read (8, which empties it) or up to 8 pending
  // FIFO rings per call. A short read took everything there was, so read
  // again only after a full one: the read that would find it empty costs a
  // whole syscall (~1.1 us on the 2026-12-06 VM), a large share of a
  // doorbell round trip. At most kMaxReads: a peer writing into a FIFO as
  // fast as we read would otherwise keep us here forever, past every
  // deadline; rings left over only make the next Wait return at once.
  constexpr int kMaxReads = 16;
  uint64_t buf[8];
  for (int reads = 0; reads < kMaxReads;) {
    ssize_t n = read(fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof(buf))) return;  // short, EAGAIN (empty), EOF, error
    ++reads;
  }
}

absl::Status Doorbell::Wait(absl::Duration timeout) {
  if (fd_ < 0) return absl::FailedPreconditionError("Wait on an empty doorbell");
  const absl::Time deadline =
      timeout == absl::InfiniteDuration() ? absl::InfiniteFuture() : absl::Now() + timeout;
  for (;;) {
    struct pollfd p = {fd_, POLLIN, 0};
    int rc = poll(&p, 1, PollMillis(deadline - absl::Now()));
    if (rc > 0) {
      if (p.revents & POLLNVAL) return absl::InternalError("doorbell fd is not open");
      // Hung up or failed with nothing to read (a kernel doorbell once its
      // region is no longer active): no ring will ever come, and treating
      // it as one would make a caller's wait loop spin at full speed.
      if ((p.revents & (POLLHUP | POLLERR)) && !(p.revents & POLLIN)) {
        return absl::UnavailableError("doorbell hung up: its region is no longer active");
      }
      Drain();
      return absl::OkStatus();
    }
    if (rc < 0 && errno != EINTR) return absl::ErrnoToStatus(errno, "poll on doorbell");
    if (rc == 0 && absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("doorbell not rung within ", absl::FormatDuration(timeout)));
    }
  }
}

}  // namespace csm
