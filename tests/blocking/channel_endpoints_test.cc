// Blocking channel ends: waits on doorbells lose no wakeup, time out
// cleanly, and surface limits and peer faults as clear statuses.
#include "csm/blocking/channel_endpoints.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "csm/ring/shared_span.h"
#include "gtest/gtest.h"

namespace csm {
namespace {

// Two doorbells in one process: each side waits on its own eventfd and
// rings a duplicate of the other's.
struct Pair {
  SharedView view;
  std::optional<ChannelSender> sender;
  std::optional<ChannelReceiver> receiver;
};

Pair MakePair(uint64_t arena) {
  Pair p;
  auto file = SharedFile::Create(*ChannelBytes(arena));
  auto view = file->Map();
  EXPECT_TRUE(view.ok());
  p.view = std::move(*view);
  EXPECT_TRUE(FormatChannel(p.view.span(), arena).ok());
  const int sender_bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  const int receiver_bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  p.sender.emplace(*ChannelProducer::Attach(p.view.span()), Doorbell(sender_bell),
                   Doorbell(dup(receiver_bell)));
  p.receiver.emplace(*ChannelConsumer::Attach(p.view.span()), Doorbell(receiver_bell),
                     Doorbell(dup(sender_bell)));
  return p;
}

TEST(BlockingChannelTest, ReceiveTimesOutWhenNothingComes) {
  Pair p = MakePair(4096);
  absl::StatusOr<ChannelMessage> m = p.receiver->Receive({0, absl::Milliseconds(20)});
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDeadlineExceeded);
  m = p.receiver->Receive({1000, absl::Milliseconds(20)});
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(BlockingChannelTest, TooLargeIsInvalidArgumentNamingTheLimit) {
  Pair p = MakePair(4096);
  absl::StatusOr<ChannelLoan> loan = p.sender->Loan(5000);
  EXPECT_EQ(loan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(loan.status().message().find("4016"), std::string::npos) << loan.status();
}

TEST(BlockingChannelTest, PeerFaultIsDataLoss) {
  Pair p = MakePair(4096);
  const uint64_t bad_tag = 12345;
  std::memcpy(p.view.span().data() + wire::kDataOffset, &bad_tag, 8);
  absl::StatusOr<ChannelMessage> m = p.receiver->Receive({0, absl::Seconds(1)});
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss);
}

TEST(BlockingChannelTest, FullArenaWaitsForRoomThenSends) {
  Pair p = MakePair(4096);
  std::vector<std::byte> big(p.sender->endpoint().max_message_bytes());
  ASSERT_TRUE(p.sender->Send(big).ok());
  EXPECT_EQ(p.sender->Send(big, {0, absl::Milliseconds(20)}).code(),
            absl::StatusCode::kDeadlineExceeded);
}

// Both sides sleep at every wait (spin budget 0), or spin first (adaptive),
// while messages of random sizes, some near the arena size, force padding and
// waits for room. A lost wakeup would show as a timeout. Each side pauses now
// and then (2 ms, far beyond any spin budget), so the other one really
// blocks in either mode: how often a spin suffices is up to the scheduler.
void Stream(uint32_t spin_budget) {
  Pair p = MakePair(4096);
  constexpr uint64_t kCount = 20'000;
  const WaitOptions wait{spin_budget, absl::Seconds(10)};
  std::thread producer([&] {
    std::mt19937_64 rng(3);
    for (uint64_t seq = 0; seq < kCount; ++seq) {
      const std::size_t size = 8 + rng() % (seq % 7 == 0 ? 4000 : 300);
      absl::StatusOr<ChannelLoan> loan = p.sender->Loan(size, wait);
      ASSERT_TRUE(loan.ok()) << loan.status() << " at " << seq;
      std::memcpy(loan->data.data(), &seq, 8);
      std::memset(loan->data.data() + 8, static_cast<int>(seq & 0xFF), size - 8);
      ASSERT_TRUE(p.sender->Commit(*loan).ok());
      if (seq % 2000 == 1000) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  std::mt19937_64 rng(3);
  for (uint64_t seq = 0; seq < kCount; ++seq) {
    const std::size_t size = 8 + rng() % (seq % 7 == 0 ? 4000 : 300);
    absl::StatusOr<ChannelMessage> m = p.receiver->Receive(wait);
    ASSERT_TRUE(m.ok()) << m.status() << " at " << seq;
    ASSERT_EQ(m->data.size(), size);
    uint64_t got;
    std::memcpy(&got, m->data.data(), 8);
    ASSERT_EQ(got, seq);
    if (size > 8) {
      ASSERT_EQ(m->data[size - 1], std::byte(seq & 0xFF));
    }
    ASSERT_TRUE(p.receiver->Release(*m).ok());
    if (seq % 2000 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  producer.join();
  EXPECT_GT(p.receiver->wait_stats().blocks, 0u);
  EXPECT_GT(p.sender->wait_stats().blocks, 0u);
}

TEST(BlockingChannelTest, DoorbellModeLosesNoWakeup) { Stream(0); }
TEST(BlockingChannelTest, AdaptiveModeLosesNoWakeup) { Stream(64); }

}  // namespace
}  // namespace csm
