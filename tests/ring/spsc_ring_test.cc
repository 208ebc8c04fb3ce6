// SPSC ring: every operation and edge, peer faults, and a threaded run.
#include "csm/ring/spsc_ring.h"

#include <thread>
#include <vector>

#include "csm/ring/shared_access.h"
#include "csm/ring/shared_span.h"
#include "gtest/gtest.h"

namespace csm {
namespace {

struct Msg {
  uint64_t seq;
  uint64_t check;
};
uint64_t Check(uint64_t seq) { return seq * 0x9E3779B97F4A7C15ull ^ 0xC5A5; }

class SpscTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(8); }
  // With `one_view`, both endpoints use one mapping: ThreadSanitizer tracks
  // memory by address and cannot see that two mappings alias.
  void Make(uint64_t capacity, bool one_view = false) {
    auto file = SharedFile::Create(*SpscRingBytes<Msg>(capacity));
    ASSERT_TRUE(file.ok());
    // Producer and consumer use two different mappings of one file.
    auto a = file->Map(true);
    auto b = file->Map(true);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_NE(a->span().data(), b->span().data());
    ASSERT_TRUE(FormatSpscRing<Msg>(a->span(), capacity).ok());
    pview_ = std::move(*a);
    cview_ = std::move(*b);
    auto p = SpscProducer<Msg>::Attach(pview_.span());
    auto c = SpscConsumer<Msg>::Attach(one_view ? pview_.span() : cview_.span());
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_TRUE(c.ok()) << c.status();
    producer_.emplace(std::move(*p));
    consumer_.emplace(std::move(*c));
  }
  // The sequence word of slot `i`, through the producer's view (stride 24:
  // 8-byte word + 16-byte Msg).
  uint64_t* sequence(uint64_t i) {
    return reinterpret_cast<uint64_t*>(pview_.span().data() + wire::kDataOffset + i * 24);
  }
  wire::IndexLine* consumer_line() { return ConsumerLine(pview_.span()); }

  SharedView pview_, cview_;
  std::optional<SpscProducer<Msg>> producer_;
  std::optional<SpscConsumer<Msg>> consumer_;
};

TEST_F(SpscTest, EmptyRingWouldBlock) {
  Msg m;
  EXPECT_EQ(consumer_->try_pop(m), RingResult::kWouldBlock);
  EXPECT_EQ(consumer_->stats().would_block, 1u);
  EXPECT_TRUE(consumer_->last_fault().ok());
}

TEST_F(SpscTest, FillsToCapacityThenWouldBlock) {
  for (uint64_t i = 0; i < 8; ++i) ASSERT_EQ(producer_->try_push({i, Check(i)}), RingResult::kOk);
  EXPECT_EQ(producer_->try_push({8, 0}), RingResult::kWouldBlock);
  Msg m;
  ASSERT_EQ(consumer_->try_pop(m), RingResult::kOk);
  EXPECT_EQ(m.seq, 0u);
  EXPECT_EQ(producer_->try_push({8, Check(8)}), RingResult::kOk);
  EXPECT_EQ(producer_->stats().ops, 9u);
}

TEST_F(SpscTest, WrapsManyLapsInOrder) {
  uint64_t next_push = 0, next_pop = 0;
  for (int round = 0; round < 1000; ++round) {
    const int burst = 1 + round % 8;
    for (int i = 0; i < burst; ++i, ++next_push) {
      ASSERT_EQ(producer_->try_push({next_push, Check(next_push)}), RingResult::kOk);
    }
    for (int i = 0; i < burst; ++i, ++next_pop) {
      Msg m;
      ASSERT_EQ(consumer_->try_pop(m), RingResult::kOk);
      ASSERT_EQ(m.seq, next_pop);
      ASSERT_EQ(m.check, Check(next_pop));
    }
  }
  EXPECT_EQ(consumer_->position(), next_pop);
}

TEST_F(SpscTest, BurstsSplitAtTheWrapAndStopWhenFull) {
  std::vector<Msg> in(20), out(20);
  for (uint64_t i = 0; i < in.size(); ++i) in[i] = {i, Check(i)};
  // Move the indices to the middle of the array so bursts wrap.
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(producer_->try_push(in[0]), RingResult::kOk);
    ASSERT_EQ(consumer_->try_pop(out[0]), RingResult::kOk);
  }
  BurstResult pushed = producer_->try_push_burst(in);
  EXPECT_EQ(pushed.count, 8u);
  EXPECT_EQ(pushed.result, RingResult::kWouldBlock);
  BurstResult popped = consumer_->try_pop_burst(std::span(out).first(3));
  EXPECT_EQ(popped.count, 3u);
  EXPECT_EQ(popped.result, RingResult::kOk);
  popped = consumer_->try_pop_burst(out);
  EXPECT_EQ(popped.count, 5u);
  EXPECT_EQ(popped.result, RingResult::kWouldBlock);
  for (uint64_t i = 0; i < 5; ++i) EXPECT_EQ(out[i].seq, i + 3);
  EXPECT_EQ(producer_->try_push_burst({}).count, 0u);
  EXPECT_EQ(consumer_->try_pop_burst({}).result, RingResult::kOk);
  EXPECT_EQ(consumer_->try_pop_burst(out).result, RingResult::kWouldBlock);
}

TEST_F(SpscTest, BurstOfExactlyCapacity) {
  std::vector<Msg> in(8), out(8);
  for (uint64_t i = 0; i < 8; ++i) in[i] = {i, Check(i)};
  EXPECT_EQ(producer_->try_push_burst(in).result, RingResult::kOk);
  EXPECT_EQ(consumer_->try_pop_burst(out).result, RingResult::kOk);
  for (uint64_t i = 0; i < 8; ++i) EXPECT_EQ(out[i].seq, i);
}

TEST_F(SpscTest, ImpossibleSlotSequenceIsAFault) {
  uint64_t* seq0 = sequence(0);
  *seq0 = 5;  // slot 0 can only hold 0, 1 (ready) or 1 - 8 for position 0
  Msg m;
  EXPECT_EQ(consumer_->try_pop(m), RingResult::kPeerFault);
  EXPECT_EQ(consumer_->stats().slot_faults, 1u);
  EXPECT_EQ(consumer_->last_fault().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(consumer_->last_fault().message().find("slot sequence"), std::string::npos);
  // Bursts go by the producer's position instead, validated likewise.
  ProducerLine(cview_.span())->position = 9;  // 9 items in an 8-slot ring
  EXPECT_EQ(consumer_->try_pop_burst(std::span(&m, 1)).result, RingResult::kPeerFault);
  EXPECT_EQ(consumer_->stats().index_faults, 1u);
  ProducerLine(cview_.span())->position = 0;
  // An honest value again: the consumer recovers, its own position untouched.
  *seq0 = 1;
  EXPECT_EQ(consumer_->try_pop(m), RingResult::kOk);
  EXPECT_EQ(consumer_->position(), 1u);
}

TEST_F(SpscTest, SequenceFromAnotherLapIsAFault) {
  for (uint64_t i = 0; i < 8; ++i) ASSERT_EQ(producer_->try_push({i, Check(i)}), RingResult::kOk);
  Msg m;
  for (uint64_t i = 0; i < 8; ++i) ASSERT_EQ(consumer_->try_pop(m), RingResult::kOk);
  EXPECT_EQ(consumer_->try_pop(m), RingResult::kWouldBlock);  // slot 0 still says 1: last lap
  *sequence(0) = 17;  // two laps ahead
  EXPECT_EQ(consumer_->try_pop(m), RingResult::kPeerFault);
  *sequence(0) = 0;  // zero is only honest in the first lap
  EXPECT_EQ(consumer_->try_pop(m), RingResult::kPeerFault);
  EXPECT_EQ(consumer_->stats().peer_faults, 2u);
}

TEST_F(SpscTest, ConsumerPositionPastProducerIsAFault) {
  for (uint64_t i = 0; i < 8; ++i) ASSERT_EQ(producer_->try_push({i, Check(i)}), RingResult::kOk);
  consumer_line()->position = 100;  // consumed more than was ever produced
  EXPECT_EQ(producer_->try_push({8, 0}), RingResult::kPeerFault);
  consumer_line()->position = 0;
  EXPECT_EQ(producer_->try_push({8, 0}), RingResult::kWouldBlock);
  EXPECT_EQ(producer_->stats().index_faults, 1u);
  EXPECT_EQ(producer_->try_push_burst(std::vector<Msg>(3)).result, RingResult::kWouldBlock);
  consumer_line()->position = 9;
  EXPECT_EQ(producer_->try_push_burst(std::vector<Msg>(3)).result, RingResult::kPeerFault);
}

// The producer stores a slot's word before its position, so a consumer may
// take items on their words while the position still trails; the position
// catching up later is honest, and bursts go on from there.
TEST_F(SpscTest, PopsAheadOfTheProducersPositionThenBursts) {
  for (uint64_t i = 0; i < 6; ++i) ASSERT_EQ(producer_->try_push({i, Check(i)}), RingResult::kOk);
  wire::IndexLine* producer_line = ProducerLine(pview_.span());
  shared::StoreRelease(&producer_line->position, uint64_t{1});  // as if still in flight
  Msg m;
  for (uint64_t i = 0; i < 3; ++i) {
    ASSERT_EQ(consumer_->try_pop(m), RingResult::kOk);
    EXPECT_EQ(m.seq, i);
  }
  shared::StoreRelease(&producer_line->position, uint64_t{2});  // still behind us: fine
  Msg out[4];
  // A burst reads the trailing position: nothing it vouches for, not a fault.
  BurstResult r = consumer_->try_pop_burst(out);
  EXPECT_EQ(r.count, 0u);
  EXPECT_EQ(r.result, RingResult::kWouldBlock);
  ASSERT_EQ(consumer_->try_pop(m), RingResult::kOk);
  EXPECT_EQ(m.seq, 3u);
  shared::StoreRelease(&producer_line->position, uint64_t{6});
  r = consumer_->try_pop_burst(out);
  EXPECT_EQ(r.count, 2u);
  EXPECT_EQ(out[0].seq, 4u);
  EXPECT_EQ(out[1].seq, 5u);
  EXPECT_EQ(consumer_->try_pop(m), RingResult::kWouldBlock);
  EXPECT_EQ(consumer_->stats().peer_faults, 0u);
  EXPECT_TRUE(consumer_->last_fault().ok());
  // Going backwards is not honest.
  shared::StoreRelease(&producer_line->position, uint64_t{5});
  EXPECT_EQ(consumer_->try_pop_burst(out).result, RingResult::kPeerFault);
}

// A producer that died after a slot's word but before its position: the
// next producer to attach resumes after the committed slots instead of
// rewriting them (which the consumer, having taken them, would call a
// fault), and republishes the position.
TEST_F(SpscTest, ProducerReattachResumesAfterUnpublishedSlots) {
  for (uint64_t i = 0; i < 5; ++i) ASSERT_EQ(producer_->try_push({i, Check(i)}), RingResult::kOk);
  wire::IndexLine* producer_line = ProducerLine(pview_.span());
  shared::StoreRelease(&producer_line->position, uint64_t{3});  // died before publishing 4, 5
  Msg m;
  for (uint64_t i = 0; i < 5; ++i) ASSERT_EQ(consumer_->try_pop(m), RingResult::kOk);
  auto again = SpscProducer<Msg>::Attach(pview_.span());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->position(), 5u);
  EXPECT_EQ(shared::LoadAcquire(&producer_line->position), 5u);
  for (uint64_t i = 5; i < 20; ++i) {
    ASSERT_EQ(again->try_push({i, Check(i)}), RingResult::kOk);
    ASSERT_EQ(consumer_->try_pop(m), RingResult::kOk) << consumer_->last_fault();
    EXPECT_EQ(m.seq, i);
  }
  EXPECT_EQ(consumer_->stats().peer_faults, 0u);
}

TEST_F(SpscTest, ThreadsPassAMillionItemsInOrder) {
  Make(1024, /*one_view=*/true);
  constexpr uint64_t kCount = 1'000'000;
  std::thread producer([&] {
    std::vector<Msg> batch(16);
    for (uint64_t next = 0; next < kCount;) {
      const uint64_t n = std::min<uint64_t>(batch.size(), kCount - next);
      for (uint64_t i = 0; i < n; ++i) batch[i] = {next + i, Check(next + i)};
      const BurstResult r = producer_->try_push_burst(std::span(batch).first(n));
      ASSERT_NE(r.result, RingResult::kPeerFault);
      next += r.count;
    }
  });
  uint64_t expect = 0;
  while (expect < kCount) {
    Msg m;
    const RingResult r = consumer_->try_pop(m);
    ASSERT_NE(r, RingResult::kPeerFault);
    if (r != RingResult::kOk) continue;
    ASSERT_EQ(m.seq, expect);
    ASSERT_EQ(m.check, Check(expect));
    ++expect;
  }
  producer.join();
  EXPECT_EQ(consumer_->stats().peer_faults, 0u);
}

// Single pushes store each slot's word before the position, and a consumer
// mixing pops and bursts reads both: the position trailing its own is the
// honest race that once read as a peer fault.
TEST_F(SpscTest, ThreadsMixingPopsAndBurstsSeeNoFault) {
  Make(64, /*one_view=*/true);
  constexpr uint64_t kCount = 500'000;
  std::thread producer([&] {
    for (uint64_t next = 0; next < kCount;) {
      const RingResult r = producer_->try_push({next, Check(next)});
      ASSERT_NE(r, RingResult::kPeerFault);
      if (r == RingResult::kOk) ++next;
    }
  });
  uint64_t expect = 0;
  Msg out[5];
  while (expect < kCount) {
    BurstResult r;
    if (expect % 2 == 0) {
      r.result = consumer_->try_pop(out[0]);
      r.count = r.result == RingResult::kOk ? 1 : 0;
    } else {
      r = consumer_->try_pop_burst(out);
    }
    ASSERT_NE(r.result, RingResult::kPeerFault) << consumer_->last_fault();
    for (std::size_t i = 0; i < r.count; ++i, ++expect) {
      ASSERT_EQ(out[i].seq, expect);
      ASSERT_EQ(out[i].check, Check(expect));
    }
  }
  producer.join();
  EXPECT_EQ(consumer_->stats().peer_faults, 0u);
}

}  // namespace
}  // namespace csm
