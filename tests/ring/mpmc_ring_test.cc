// MPMC ring: edges, turn validation, and a threaded many-to-many run.
#include "csm/ring/mpmc_ring.h"

#include <atomic>
#include <thread>
#include <vector>

#include "csm/ring/shared_span.h"
#include "gtest/gtest.h"

namespace csm {
namespace {

struct Item {
  uint32_t producer;
  uint32_t pad;
  uint64_t seq;
};

class MpmcTest : public ::testing::Test {
 protected:
  void Make(uint64_t capacity) {
    auto file = SharedFile::Create(*MpmcRingBytes<Item>(capacity));
    ASSERT_TRUE(file.ok());
    auto v = file->Map(true);
    ASSERT_TRUE(v.ok());
    view_ = std::move(*v);
    ASSERT_TRUE(FormatMpmcRing<Item>(view_.span(), capacity).ok());
  }
  MpmcEndpoint<Item> Endpoint() {
    auto e = MpmcEndpoint<Item>::Attach(view_.span());
    EXPECT_TRUE(e.ok()) << e.status();
    return std::move(*e);
  }
  uint64_t* turn(uint64_t slot) {
    return reinterpret_cast<uint64_t*>(view_.span().data() + wire::kDataOffset + slot * 64);
  }
  SharedView view_;
};

TEST_F(MpmcTest, EmptyFullAndWrap) {
  Make(4);
  auto a = Endpoint();
  auto b = Endpoint();
  Item it{};
  EXPECT_EQ(b.try_pop(it), RingResult::kWouldBlock);
  for (uint64_t lap = 0; lap < 10; ++lap) {
    for (uint64_t i = 0; i < 4; ++i) ASSERT_EQ(a.try_push({0, 0, lap * 4 + i}), RingResult::kOk);
    EXPECT_EQ(a.try_push({0, 0, 99}), RingResult::kWouldBlock);
    for (uint64_t i = 0; i < 4; ++i) {
      ASSERT_EQ(b.try_pop(it), RingResult::kOk);
      EXPECT_EQ(it.seq, lap * 4 + i);
    }
    EXPECT_EQ(b.try_pop(it), RingResult::kWouldBlock);
  }
  EXPECT_EQ(a.stats().ops, 40u);
  EXPECT_EQ(b.stats().ops, 40u);
  EXPECT_EQ(a.stats().peer_faults + b.stats().peer_faults, 0u);
}

TEST_F(MpmcTest, ImpossibleTurnIsAFault) {
  Make(8);
  auto e = Endpoint();
  *turn(0) = 5;  // slot 0 can only hold turns 0 or 1 (mod 8) for ticket 0
  EXPECT_EQ(e.try_push({0, 0, 1}), RingResult::kPeerFault);
  Item it;
  EXPECT_EQ(e.try_pop(it), RingResult::kPeerFault);
  EXPECT_EQ(e.stats().slot_faults, 2u);
  EXPECT_EQ(e.last_fault().code(), absl::StatusCode::kDataLoss);
  *turn(0) = 0;
  EXPECT_EQ(e.try_push({0, 0, 1}), RingResult::kOk);
  EXPECT_EQ(e.try_pop(it), RingResult::kOk);
}

TEST_F(MpmcTest, RunawayTicketCounterCostsBoundedWork) {
  Make(8);
  auto e = Endpoint();
  // A peer claims the enqueue counter is far ahead: turns look "stale", the
  // endpoint re-reads, sees the same, and gives up after its retry budget.
  ProducerLine(view_.span())->position = 8 * 1000 + 3;
  for (uint64_t i = 0; i < 8; ++i) *turn(i) = 8 * 2000 + i;
  EXPECT_EQ(e.try_push({0, 0, 1}), RingResult::kWouldBlock);
  EXPECT_EQ(e.stats().retry_exhausted, 1u);
}

TEST_F(MpmcTest, TwoProducersTwoConsumersLoseNothing) {
  Make(64);
  constexpr uint64_t kPerProducer = 200'000;
  std::atomic<uint64_t> consumed{0};
  std::vector<std::vector<uint64_t>> last_seen(2, std::vector<uint64_t>(2, 0));
  std::vector<uint64_t> sums(2, 0);
  std::vector<std::thread> threads;
  for (uint32_t p = 0; p < 2; ++p) {
    threads.emplace_back([&, p] {
      auto e = Endpoint();
      for (uint64_t s = 1; s <= kPerProducer;) {
        const RingResult r = e.try_push({p, 0, s});
        ASSERT_NE(r, RingResult::kPeerFault);
        if (r == RingResult::kOk) ++s;
      }
    });
  }
  for (uint32_t c = 0; c < 2; ++c) {
    threads.emplace_back([&, c] {
      auto e = Endpoint();
      while (consumed.load() < 2 * kPerProducer) {
        Item it;
        const RingResult r = e.try_pop(it);
        ASSERT_NE(r, RingResult::kPeerFault);
        if (r != RingResult::kOk) continue;
        ASSERT_LT(it.producer, 2u);
        // Per producer, each consumer sees increasing sequence numbers.
        ASSERT_GT(it.seq, last_seen[c][it.producer]);
        last_seen[c][it.producer] = it.seq;
        sums[c] += it.seq;
        consumed.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(consumed.load(), 2 * kPerProducer);
  EXPECT_EQ(sums[0] + sums[1], 2 * (kPerProducer * (kPerProducer + 1) / 2));
}

}  // namespace
}  // namespace csm
