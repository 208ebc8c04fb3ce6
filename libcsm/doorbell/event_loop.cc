// io_uring event loop (see csm/doorbell/event_loop.h).
#include "csm/doorbell/event_loop.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include <unordered_map>
#include "absl/strings/str_cat.h"

namespace csm {
namespace {

// user_data values with a fixed meaning; watch IDs start above them.
constexpr uint64_t kIgnoreCompletion = 0;  // poll_remove results
constexpr uint64_t kWakeWatch = 1;
constexpr uint64_t kFirstWatch = 2;

}  // namespace

struct EventLoop::State {
  io_uring ring{};
  bool ring_ready = false;
  int wake_fd = -1;
  uint64_t next_id = kFirstWatch;
  struct Watch {
    int fd;
    Callback callback;
  };
  std::unordered_map<WatchId, Watch> watches;

  ~State() {
    if (ring_ready) io_uring_queue_exit(&ring);
    if (wake_fd >= 0) close(wake_fd);
  }

  // Gets an SQE, flushing the submission queue once if it is full.
  io_uring_sqe* Sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (sqe == nullptr) {
      io_uring_submit(&ring);
      sqe = io_uring_get_sqe(&ring);
    }
    return sqe;
  }

  absl::Status Arm(uint64_t id, int fd) {
    io_uring_sqe* sqe = Sqe();
    if (sqe == nullptr) return absl::ResourceExhaustedError("io_uring submission queue is full");
    io_uring_prep_poll_multishot(sqe, fd, POLLIN);
    io_uring_sqe_set_data64(sqe, id);
    return absl::OkStatus();
  }
};

EventLoop::EventLoop(std::unique_ptr<State> state) : state_(std::move(state)) {}
EventLoop::EventLoop(EventLoop&&) noexcept = default;
EventLoop& EventLoop::operator=(EventLoop&&) noexcept = default;
EventLoop::~EventLoop() = default;

absl::StatusOr<EventLoop> EventLoop::Create(unsigned queue_depth) {
  auto state = std::make_unique<State>();
  int rc = io_uring_queue_init(queue_depth, &state->ring, 0);
  if (rc < 0) return absl::ErrnoToStatus(-rc, "io_uring_queue_init (is io_uring disabled?)");
  state->ring_ready = true;
  state->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (state->wake_fd < 0) return absl::ErrnoToStatus(errno, "eventfd for EventLoop::Wake");
  if (absl::Status st = state->Arm(kWakeWatch, state->wake_fd); !st.ok()) return st;
  return EventLoop(std::move(state));
}

absl::StatusOr<EventLoop::WatchId> EventLoop::Watch(int fd, Callback callback) {
  if (fd < 0) return absl::InvalidArgumentError(absl::StrCat("cannot watch fd ", fd));
  WatchId id = state_->next_id++;
  if (absl::Status st = state_->Arm(id, fd); !st.ok()) return st;
  state_->watches.emplace(id, State::Watch{fd, std::move(callback)});
  return id;
}

absl::StatusOr<EventLoop::WatchId> EventLoop::WatchDoorbell(Doorbell& bell,
                                                            std::function<void()> callback) {
  Doorbell* b = &bell;
  return Watch(bell.fd(), [b, cb = std::move(callback)](uint32_t) {
    b->Drain();  // consume first: a ring after this re-triggers the poll
    cb();
  });
}

absl::Status EventLoop::Unwatch(WatchId id) {
  if (state_->watches.erase(id) == 0) {
    return absl::NotFoundError(absl::StrCat("no watch ", id, " in this event loop"));
  }
  io_uring_sqe* sqe = state_->Sqe();
  if (sqe == nullptr) return absl::ResourceExhaustedError("io_uring submission queue is full");
  io_uring_prep_poll_remove(sqe, id);
  io_uring_sqe_set_data64(sqe, kIgnoreCompletion);
  io_uring_submit(&state_->ring);
  return absl::OkStatus();
}

void EventLoop::Wake() {
  const uint64_t one = 1;
  // EAGAIN only when 2^64-2 wakes are pending: one is enough.
  [[maybe_unused]] ssize_t n = write(state_->wake_fd, &one, sizeof(one));
}

size_t EventLoop::watch_count() const { return state_->watches.size(); }

absl::StatusOr<int> EventLoop::RunOnce(absl::Duration timeout) {
  State& s = *state_;
  io_uring_cqe* cqe = nullptr;
  int rc;
  if (timeout == absl::InfiniteDuration()) {
    rc = io_uring_submit_and_wait(&s.ring, 1);
    if (rc >= 0) rc = io_uring_peek_cqe(&s.ring, &cqe);
  } else {
    if (timeout < absl::ZeroDuration()) timeout = absl::ZeroDuration();
    __kernel_timespec ts = {absl::ToInt64Seconds(timeout),
                            absl::ToInt64Nanoseconds(timeout % absl::Seconds(1))};
    rc = io_uring_submit_and_wait_timeout(&s.ring, &cqe, 1, &ts, nullptr);
  }
  if (rc == -ETIME || rc == -EINTR || rc == -EAGAIN) return 0;
  if (rc < 0) return absl::ErrnoToStatus(-rc, "waiting for io_uring completions");

  // Collect first: callbacks may add or remove watches (and so SQEs).
  struct Ready {
    uint64_t id;
    int32_t res;
    bool more;
  };
  std::vector<Ready> ready;
  unsigned head;
  unsigned seen = 0;
  io_uring_for_each_cqe(&s.ring, head, cqe) {
    ready.push_back({cqe->user_data, cqe->res, (cqe->flags & IORING_CQE_F_MORE) != 0});
    ++seen;
  }
  io_uring_cq_advance(&s.ring, seen);

  // A failure to re-arm does not stop the dispatch: the completions are
  // already consumed, so skipping the rest would lose their wake-ups. The
  // first such error is returned once every callback has run.
  absl::Status rearm_error;
  int ran = 0;
  for (const Ready& r : ready) {
    if (r.id == kIgnoreCompletion) continue;
    if (r.id == kWakeWatch) {
      uint64_t v;
      [[maybe_unused]] ssize_t n = read(s.wake_fd, &v, sizeof(v));
      if (!r.more) {
        if (absl::Status st = s.Arm(kWakeWatch, s.wake_fd); !st.ok() && rearm_error.ok()) {
          rearm_error = absl::Status(st.code(), absl::StrCat("re-arming Wake(): ", st.message()));
        }
      }
      continue;
    }
    auto it = s.watches.find(r.id);
    if (it == s.watches.end()) continue;  // unwatched meanwhile
    if (r.res < 0) {
      // The fd itself failed (closed, unsupported): report once and drop.
      Callback cb = std::move(it->second.callback);
      s.watches.erase(it);
      cb(POLLERR);
      ++ran;
      continue;
    }
    // The kernel ended the multishot poll (e.g. overflow): re-arm.
    const absl::Status rearmed = r.more ? absl::OkStatus() : s.Arm(r.id, it->second.fd);
    // Copy: the callback may Unwatch itself.
    Callback cb = it->second.callback;
    cb(static_cast<uint32_t>(r.res));
    ++ran;
    if (!rearmed.ok()) {
      // This watch can never fire again: drop it and tell its owner, as for
      // a failed fd (unless the callback unwatched it already).
      if (s.watches.erase(r.id) != 0) cb(POLLERR);
      if (rearm_error.ok()) {
        rearm_error = absl::Status(rearmed.code(), absl::StrCat("re-arming watch ", r.id, ": ",
                                                                rearmed.message()));
      }
    }
  }
  io_uring_submit(&s.ring);
  if (!rearm_error.ok()) return rearm_error;
  return ran;
}

}  // namespace csm
