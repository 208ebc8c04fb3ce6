// Doorbell and SpinThenWait: hint semantics, and no lost wakeup under the
// flag-then-recheck protocol, hammered by two threads.
#include "csm/doorbell/doorbell.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "csm/doorbell/spin_wait.h"
#include "gtest/gtest.h"

namespace csm {
namespace {

constexpr absl::Duration kGuard = absl::Seconds(10);  // failure guard, not timing

bool Readable(int fd) {
  pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

TEST(Doorbell, RingWaitDrain) {
  absl::StatusOr<Doorbell> bell = Doorbell::CreateLocal();
  ASSERT_TRUE(bell.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(bell->Wait(absl::ZeroDuration())));
  bell->Ring();
  bell->Ring();
  EXPECT_TRUE(Readable(bell->fd()));
  EXPECT_TRUE(bell->Wait(kGuard).ok());
  EXPECT_FALSE(Readable(bell->fd())) << "Wait must consume the rings it saw";
  bell->Ring();
  bell->Drain();
  EXPECT_FALSE(Readable(bell->fd()));
  EXPECT_EQ(bell->rings(), 3u);
  EXPECT_EQ(bell->dropped_rings(), 0u);
}

TEST(Doorbell, MovesOwnership) {
  absl::StatusOr<Doorbell> bell = Doorbell::CreateLocal();
  ASSERT_TRUE(bell.ok());
  int fd = bell->fd();
  Doorbell moved = std::move(*bell);
  EXPECT_EQ(moved.fd(), fd);
  EXPECT_FALSE(bell->valid());
  EXPECT_TRUE(absl::IsFailedPrecondition(bell->Wait(absl::ZeroDuration())));
}

TEST(Doorbell, RingOnABrokenFdIsCountedNotFatal) {
  Doorbell bell(open("/dev/null", O_RDONLY));  // writes fail with EBADF
  bell.Ring();
  EXPECT_EQ(bell.dropped_rings(), 1u);
}

// The simulator's doorbell is a FIFO a peer can write as fast as we read:
// one Drain reads a bounded amount (what is left only makes the next Wait
// return at once), so a flooding peer cannot hold a waiter past its
// deadline. A full pipe (64 KiB, 1024 reads of 64 bytes) is not emptied.
TEST(Doorbell, DrainReadsABoundedAmount) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  Doorbell bell(fds[0]);
  std::vector<char> junk(4096, 1);
  while (write(fds[1], junk.data(), junk.size()) > 0) {
  }
  int before = 0, after = 0;
  ASSERT_EQ(ioctl(fds[0], FIONREAD, &before), 0);
  bell.Drain();
  ASSERT_EQ(ioctl(fds[0], FIONREAD, &after), 0);
  EXPECT_LT(after, before);
  EXPECT_GT(after, 0) << "an unbounded drain would empty what a peer can refill forever";
  EXPECT_TRUE(bell.Wait(kGuard).ok());  // the rest still reads as rung
  close(fds[1]);
}

// A doorbell whose other end hung up with nothing left to read (a kernel
// doorbell whose region ended) will never ring: Wait says so instead of
// returning at once, forever, as if rung.
TEST(Doorbell, HungUpDoorbellIsUnavailable) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  Doorbell bell(fds[0]);
  ASSERT_EQ(write(fds[1], "x", 1), 1);
  close(fds[1]);
  EXPECT_TRUE(bell.Wait(kGuard).ok());  // the last ring is still delivered
  EXPECT_TRUE(absl::IsUnavailable(bell.Wait(kGuard)));
}

// Two threads ping-pong `rounds` times; each side blocks through the
// doorbell protocol. A single lost wakeup would hang one side past kGuard.
void PingPong(uint32_t spin_budget, int rounds) {
  absl::StatusOr<Doorbell> a_bell = Doorbell::CreateLocal();
  absl::StatusOr<Doorbell> b_bell = Doorbell::CreateLocal();
  ASSERT_TRUE(a_bell.ok() && b_bell.ok());
  std::atomic<uint64_t> ping{0}, pong{0};
  std::atomic<uint32_t> a_waiting{0}, b_waiting{0};
  SpinWaitOptions opts{.spin_budget = spin_budget, .timeout = kGuard};

  auto publish = [](std::atomic<uint64_t>& word, uint64_t v, std::atomic<uint32_t>& waiting,
                    Doorbell& bell) {
    word.store(v, std::memory_order_seq_cst);
    FullFence();
    if (waiting.load(std::memory_order_seq_cst)) bell.Ring();
  };
  std::atomic<int> failures{0};
  SpinWaitStats b_stats;
  std::thread b([&] {
    for (int i = 1; i <= rounds; ++i) {
      absl::Status st = SpinThenWait(
          *b_bell, [&] { return ping.load(std::memory_order_seq_cst) >= static_cast<uint64_t>(i); },
          [&] { b_waiting.store(1, std::memory_order_seq_cst); },
          [&] { b_waiting.store(0, std::memory_order_seq_cst); }, opts, &b_stats);
      if (!st.ok()) {
        ++failures;
        return;
      }
      publish(pong, i, a_waiting, *a_bell);
    }
  });
  SpinWaitStats a_stats;
  for (int i = 1; i <= rounds && failures == 0; ++i) {
    publish(ping, i, b_waiting, *b_bell);
    absl::Status st = SpinThenWait(
        *a_bell, [&] { return pong.load(std::memory_order_seq_cst) >= static_cast<uint64_t>(i); },
        [&] { a_waiting.store(1, std::memory_order_seq_cst); },
        [&] { a_waiting.store(0, std::memory_order_seq_cst); }, opts, &a_stats);
    if (!st.ok()) {
      ADD_FAILURE() << "round " << i << ": " << st;
      ++failures;
    }
  }
  b.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(pong.load(), static_cast<uint64_t>(rounds));
  if (spin_budget == 0) {
    EXPECT_GT(a_stats.blocks + b_stats.blocks, 0u);
  }
}

TEST(Doorbell, StressNoLostWakeupBlockingOnly) { PingPong(/*spin_budget=*/0, 20000); }

TEST(Doorbell, StressNoLostWakeupSpinThenBlock) { PingPong(/*spin_budget=*/64, 20000); }

TEST(SpinWait, TimesOutWhenNeverReady) {
  absl::StatusOr<Doorbell> bell = Doorbell::CreateLocal();
  ASSERT_TRUE(bell.ok());
  int arms = 0, disarms = 0;
  absl::Status st = SpinThenWait(
      *bell, [] { return false; }, [&] { ++arms; }, [&] { ++disarms; },
      {.spin_budget = 8, .timeout = absl::Milliseconds(1)});
  EXPECT_TRUE(absl::IsDeadlineExceeded(st));
  EXPECT_EQ(arms, disarms);
}

TEST(SpinWait, PureSpinModeNeverBlocks) {
  absl::StatusOr<Doorbell> bell = Doorbell::CreateLocal();
  ASSERT_TRUE(bell.ok());
  int calls = 0;
  SpinWaitStats stats;
  absl::Status st = SpinThenWait(
      *bell, [&] { return ++calls == 1000; }, [] {}, [] {},
      {.spin_budget = UINT32_MAX, .timeout = kGuard}, &stats);
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(stats.blocks, 0u);
}

}  // namespace
}  // namespace csm
