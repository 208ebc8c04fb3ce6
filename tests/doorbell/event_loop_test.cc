// The io_uring event loop: one thread waiting on several doorbells (and any
// other fd) at once, with timeouts.
#include "csm/doorbell/event_loop.h"

#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace csm {
namespace {

constexpr absl::Duration kGuard = absl::Seconds(10);  // failure guard, not timing

TEST(EventLoop, TimesOutWhenNothingIsReady) {
  absl::StatusOr<EventLoop> loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok()) << loop.status();
  absl::StatusOr<Doorbell> bell = Doorbell::CreateLocal();
  ASSERT_TRUE(bell.ok());
  int calls = 0;
  ASSERT_TRUE(loop->WatchDoorbell(*bell, [&] { ++calls; }).ok());
  absl::StatusOr<int> ran = loop->RunOnce(absl::Milliseconds(1));
  ASSERT_TRUE(ran.ok());
  EXPECT_EQ(*ran, 0);
  EXPECT_EQ(calls, 0);
}

TEST(EventLoop, WaitsOnSeveralDoorbellsAtOnce) {
  absl::StatusOr<EventLoop> loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  std::vector<Doorbell> bells;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<Doorbell> b = Doorbell::CreateLocal();
    ASSERT_TRUE(b.ok());
    bells.push_back(std::move(*b));
  }
  int seen[4] = {};
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(loop->WatchDoorbell(bells[i], [&seen, i] { ++seen[i]; }).ok());
  }
  EXPECT_EQ(loop->watch_count(), 4u);
  bells[2].Ring();
  absl::StatusOr<int> ran = loop->RunOnce(kGuard);
  ASSERT_TRUE(ran.ok());
  EXPECT_EQ(*ran, 1);
  EXPECT_EQ(seen[2], 1);
  bells[0].Ring();
  bells[3].Ring();
  while (seen[0] == 0 || seen[3] == 0) ASSERT_TRUE(loop->RunOnce(kGuard).ok());
  EXPECT_EQ(seen[1], 0);
  // Drained by WatchDoorbell: nothing is pending now.
  ran = loop->RunOnce(absl::ZeroDuration());
  EXPECT_EQ(*ran, 0);
}

TEST(EventLoop, UnwatchStopsCallbacksAndOtherFdsWork) {
  absl::StatusOr<EventLoop> loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  absl::StatusOr<Doorbell> bell = Doorbell::CreateLocal();
  ASSERT_TRUE(bell.ok());
  int bell_calls = 0, pipe_calls = 0;
  absl::StatusOr<EventLoop::WatchId> id = loop->WatchDoorbell(*bell, [&] { ++bell_calls; });
  ASSERT_TRUE(id.ok());
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  ASSERT_TRUE(loop->Watch(p[0], [&](uint32_t) {
                    char c;
                    while (read(p[0], &c, 1) == 1) {
                    }
                    ++pipe_calls;
                  })
                  .ok());
  ASSERT_TRUE(loop->Unwatch(*id).ok());
  EXPECT_TRUE(absl::IsNotFound(loop->Unwatch(*id)));
  bell->Ring();
  ASSERT_EQ(write(p[1], "x", 1), 1);
  close(p[1]);  // EOF: read returns 0, callback must not loop forever
  while (pipe_calls == 0) ASSERT_TRUE(loop->RunOnce(kGuard).ok());
  EXPECT_EQ(bell_calls, 0);
  close(p[0]);
}

TEST(EventLoop, WakeFromAnotherThread) {
  absl::StatusOr<EventLoop> loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  std::thread t([&] { loop->Wake(); });
  absl::StatusOr<int> ran = loop->RunOnce(absl::InfiniteDuration());
  t.join();
  ASSERT_TRUE(ran.ok());
  EXPECT_EQ(*ran, 0);
}

// Two producers, each with its own doorbell and counter; one loop thread
// consumes both. Every produced item must be seen: drain-then-check in the
// callback means no ring is ever lost.
TEST(EventLoop, OneThreadServesManyChannelsWithoutLostWakeups) {
  constexpr uint64_t kItems = 5000;
  absl::StatusOr<EventLoop> loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  struct Channel {
    std::atomic<uint64_t> produced{0};
    uint64_t consumed = 0;
    Doorbell bell;
  };
  Channel ch[2];
  for (Channel& c : ch) {
    absl::StatusOr<Doorbell> b = Doorbell::CreateLocal();
    ASSERT_TRUE(b.ok());
    c.bell = std::move(*b);
    ASSERT_TRUE(loop->WatchDoorbell(c.bell, [&c] {
                      c.consumed = c.produced.load(std::memory_order_acquire);
                    }).ok());
  }
  std::vector<std::thread> producers;
  for (Channel& c : ch) {
    producers.emplace_back([&c] {
      // A second fd to the same eventfd: the ringing side's own handle.
      Doorbell ringer(dup(c.bell.fd()));
      for (uint64_t i = 1; i <= kItems; ++i) {
        c.produced.store(i, std::memory_order_release);
        ringer.Ring();
      }
    });
  }
  while (ch[0].consumed < kItems || ch[1].consumed < kItems) {
    absl::StatusOr<int> ran = loop->RunOnce(kGuard);
    ASSERT_TRUE(ran.ok());
    ASSERT_GT(*ran, 0) << "no wakeup within the guard: consumed " << ch[0].consumed << ", "
                       << ch[1].consumed;
  }
  for (std::thread& t : producers) t.join();
}

}  // namespace
}  // namespace csm
