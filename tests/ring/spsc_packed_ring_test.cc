// Packed SPSC ring: every operation and edge, peer faults, and a threaded run.
#include "csm/ring/spsc_packed_ring.h"

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

// 12 bytes: slots are rounded up to 16, so copies go item by item.
struct Odd {
  uint32_t seq;
  uint32_t a, b;
};

template <typename T>
class PackedRing {
 public:
  // With `one_view`, both endpoints use one mapping: ThreadSanitizer tracks
  // memory by address and cannot see that two mappings alias.
  void Make(uint64_t capacity, bool one_view = false) {
    auto file = SharedFile::Create(*PackedSpscRingBytes<T>(capacity));
    ASSERT_TRUE(file.ok());
    // Producer and consumer use two different mappings of one file.
    auto a = file->Map(true);
    auto b = file->Map(true);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_NE(a->span().data(), b->span().data());
    ASSERT_TRUE(FormatPackedSpscRing<T>(a->span(), capacity).ok());
    pview_ = std::move(*a);
    cview_ = std::move(*b);
    auto p = PackedSpscProducer<T>::Attach(pview_.span());
    auto c = PackedSpscConsumer<T>::Attach(one_view ? pview_.span() : cview_.span());
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_TRUE(c.ok()) << c.status();
    producer_.emplace(std::move(*p));
    consumer_.emplace(std::move(*c));
  }
  wire::IndexLine* producer_line() { return ProducerLine(pview_.span()); }
  wire::IndexLine* consumer_line() { return ConsumerLine(pview_.span()); }
  std::byte* slot(uint64_t i, uint64_t stride) {
    return pview_.span().data() + wire::kDataOffset + i * stride;
  }

  SharedView pview_, cview_;
  std::optional<PackedSpscProducer<T>> producer_;
  std::optional<PackedSpscConsumer<T>> consumer_;
};

class PackedSpscTest : public ::testing::Test, public PackedRing<Msg> {
 protected:
  void SetUp() override { Make(8); }
};

TEST(PackedSpscLayoutTest, SlotsHoldOnlyThePayloadRoundedToEightBytes) {
  auto msg = PlanRing(wire::RingKind::kSpscPacked, sizeof(Msg), 8);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(msg->slot_stride, 16u);
  EXPECT_EQ(SpanBytes(*msg), wire::kDataOffset + 8 * 16);
  auto odd = PlanRing(wire::RingKind::kSpscPacked, sizeof(Odd), 8);
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->slot_stride, 16u);
  EXPECT_EQ(PlanRing(wire::RingKind::kSpscPacked, 16, 6).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PackedSpscLayoutTest, EndpointsAttachOnlyToTheirOwnKind) {
  auto file = SharedFile::Create(*SpscRingBytes<Msg>(8));
  ASSERT_TRUE(file.ok());
  auto view = file->Map(true);
  ASSERT_TRUE(view.ok());
  ASSERT_TRUE(FormatSpscRing<Msg>(view->span(), 8).ok());
  auto packed = PackedSpscConsumer<Msg>::Attach(view->span());
  EXPECT_EQ(packed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(packed.status().message().find("packed SPSC ring"), std::string::npos);
  ASSERT_TRUE(FormatPackedSpscRing<Msg>(view->span(), 8).ok());
  EXPECT_FALSE(SpscConsumer<Msg>::Attach(view->span()).ok());
  EXPECT_TRUE(PackedSpscConsumer<Msg>::Attach(view->span()).ok());
}

TEST_F(PackedSpscTest, EmptyRingWouldBlock) {
  Msg m;
  EXPECT_EQ(consumer_->try_pop(m), RingResult::kWouldBlock);
  EXPECT_FALSE(consumer_->ready());
  EXPECT_EQ(consumer_->stats().would_block, 1u);
  EXPECT_TRUE(consumer_->last_fault().ok());
}

TEST_F(PackedSpscTest, FillsToCapacityThenWouldBlock) {
  for (uint64_t i = 0; i < 8; ++i) ASSERT_EQ(producer_->try_push({i, Check(i)}), RingResult::kOk);
  EXPECT_EQ(producer_->try_push({8, 0}), RingResult::kWouldBlock);
  EXPECT_EQ(producer_->free_slots_hint(), 0u);
  EXPECT_TRUE(consumer_->ready());
  Msg m;
  ASSERT_EQ(consumer_->try_pop(m), RingResult::kOk);
  EXPECT_EQ(m.seq, 0u);
  EXPECT_EQ(m.check, Check(0));
  EXPECT_EQ(producer_->try_push({8, Check(8)}), RingResult::kOk);
  EXPECT_EQ(producer_->stats().ops, 9u);
  EXPECT_EQ(producer_->stats().would_block, 1u);
}

TEST_F(PackedSpscTest, WrapsManyLapsInOrder) {
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
  EXPECT_EQ(producer_->position(), next_push);
}

TEST_F(PackedSpscTest, BurstsSplitAtTheWrapAndStopWhenFull) {
  std::vector<Msg> in(20), out(20);
  for (uint64_t i = 0; i < in.size(); ++i) in[i] = {i, Check(i)};
  // Move the positions to the middle of the array so bursts wrap.
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(producer_->try_push(in[0]), RingResult::kOk);
    ASSERT_EQ(consumer_->try_pop(out[0]), RingResult::kOk);
  }
  BurstResult pushed = producer_->try_push_burst(in);
  EXPECT_EQ(pushed.count, 8u);
  EXPECT_EQ(pushed.result, RingResult::kWouldBlock);
  // Positions 5..12 sit in slots 5, 6, 7, 0, 1, ...: both pops below cross
  // or start at the wrap (slots 5-0, then 1-4).
  BurstResult popped = consumer_->try_pop_burst(std::span(out).first(4));
  EXPECT_EQ(popped.count, 4u);
  EXPECT_EQ(popped.result, RingResult::kOk);
  for (uint64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(out[i].seq, i);
    EXPECT_EQ(out[i].check, Check(i));
  }
  popped = consumer_->try_pop_burst(out);
  EXPECT_EQ(popped.count, 4u);
  EXPECT_EQ(popped.result, RingResult::kWouldBlock);
  for (uint64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(out[i].seq, i + 4);
    EXPECT_EQ(out[i].check, Check(i + 4));
  }
  EXPECT_EQ(producer_->try_push_burst({}).count, 0u);
  EXPECT_EQ(consumer_->try_pop_burst({}).result, RingResult::kOk);
  EXPECT_EQ(consumer_->try_pop_burst(out).result, RingResult::kWouldBlock);
}

TEST_F(PackedSpscTest, BurstOfExactlyCapacity) {
  std::vector<Msg> in(8), out(8);
  for (uint64_t i = 0; i < 8; ++i) in[i] = {i, Check(i)};
  EXPECT_EQ(producer_->try_push_burst(in).result, RingResult::kOk);
  EXPECT_EQ(producer_->try_push_burst(in).result, RingResult::kWouldBlock);
  EXPECT_EQ(consumer_->try_pop_burst(out).result, RingResult::kOk);
  for (uint64_t i = 0; i < 8; ++i) EXPECT_EQ(out[i].seq, i);
}

// Payloads that are not a multiple of 8 bytes take the item-by-item path.
TEST(PackedSpscOddTest, OddSizedItemsWrapInOrder) {
  PackedRing<Odd> ring;
  ring.Make(4);
  std::vector<Odd> in(3), out(3);
  uint32_t next_push = 0, next_pop = 0;
  for (int round = 0; round < 100; ++round) {
    for (auto& o : in) o = {next_push, next_push * 3, ~next_push}, ++next_push;
    ASSERT_EQ(ring.producer_->try_push_burst(in).result, RingResult::kOk);
    ASSERT_EQ(ring.consumer_->try_pop_burst(out).result, RingResult::kOk);
    for (const Odd& o : out) {
      ASSERT_EQ(o.seq, next_pop);
      ASSERT_EQ(o.a, next_pop * 3);
      ASSERT_EQ(o.b, ~next_pop);
      ++next_pop;
    }
  }
  // 300 items through 4 slots of 16 bytes: slot 1, at offset 16, holds the
  // last item whose position is 1 mod 4.
  ASSERT_EQ(next_pop, 300u);
  Odd at1;
  std::memcpy(&at1, ring.slot(1, 16), sizeof(at1));
  EXPECT_EQ(at1.seq, 297u);
}

TEST_F(PackedSpscTest, ProducerPositionOutsideItsWindowIsAFault) {
  Msg m;
  producer_line()->position = 9;  // 9 items in an 8-slot ring
  EXPECT_EQ(consumer_->try_pop(m), RingResult::kPeerFault);
  EXPECT_TRUE(consumer_->ready());  // faults count as ready: the next pop reports them
  EXPECT_EQ(consumer_->stats().index_faults, 2u);
  EXPECT_EQ(consumer_->last_fault().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(consumer_->last_fault().message().find("producer position"), std::string::npos);
  // An honest value again: the consumer recovers, its own position untouched.
  for (uint64_t i = 0; i < 3; ++i) ASSERT_EQ(producer_->try_push({i, Check(i)}), RingResult::kOk);
  ASSERT_EQ(consumer_->try_pop(m), RingResult::kOk);
  EXPECT_EQ(m.seq, 0u);
  EXPECT_EQ(consumer_->position(), 1u);
  // Going backwards from what we have seen is not honest either.
  producer_line()->position = 1;
  Msg out[4];
  EXPECT_EQ(consumer_->try_pop_burst(std::span(out).first(2)).count, 2u);  // cached: no reload
  EXPECT_EQ(consumer_->try_pop_burst(out).result, RingResult::kPeerFault);
  EXPECT_EQ(consumer_->position(), 3u);
}

TEST_F(PackedSpscTest, ConsumerPositionPastProducerIsAFault) {
  for (uint64_t i = 0; i < 8; ++i) ASSERT_EQ(producer_->try_push({i, Check(i)}), RingResult::kOk);
  consumer_line()->position = 100;  // consumed more than was ever produced
  EXPECT_EQ(producer_->try_push({8, 0}), RingResult::kPeerFault);
  EXPECT_NE(producer_->last_fault().message().find("consumer position"), std::string::npos);
  consumer_line()->position = 0;
  EXPECT_EQ(producer_->try_push({8, 0}), RingResult::kWouldBlock);
  EXPECT_EQ(producer_->stats().index_faults, 1u);
  consumer_line()->position = 9;
  EXPECT_EQ(producer_->try_push_burst(std::vector<Msg>(3)).result, RingResult::kPeerFault);
  consumer_line()->position = 2;
  EXPECT_EQ(producer_->try_push_burst(std::vector<Msg>(3)).count, 2u);
}

TEST(PackedSpscAttachTest, InconsistentPositionsAreRefused) {
  PackedRing<Msg> ring;
  ring.Make(8);
  ring.producer_line()->position = 20;  // 20 produced, 0 consumed, 8 slots
  EXPECT_EQ(PackedSpscProducer<Msg>::Attach(ring.pview_.span()).status().code(),
            absl::StatusCode::kDataLoss);
  ring.producer_line()->position = 0;
  ring.consumer_line()->position = 5;  // consumed more than was produced
  EXPECT_EQ(PackedSpscProducer<Msg>::Attach(ring.pview_.span()).status().code(),
            absl::StatusCode::kDataLoss);
  ring.consumer_line()->position = 0;
  EXPECT_TRUE(PackedSpscProducer<Msg>::Attach(ring.pview_.span()).ok());
}

TEST(PackedSpscThreadTest, ThreadsPassAMillionItemsInOrder) {
  PackedRing<Msg> ring;
  ring.Make(1024, /*one_view=*/true);
  constexpr uint64_t kCount = 1'000'000;
  std::thread producer([&] {
    std::vector<Msg> batch(16);
    for (uint64_t next = 0; next < kCount;) {
      const uint64_t n = std::min<uint64_t>(batch.size() - next % 7, kCount - next);
      for (uint64_t i = 0; i < n; ++i) batch[i] = {next + i, Check(next + i)};
      const BurstResult r = ring.producer_->try_push_burst(std::span(batch).first(n));
      ASSERT_NE(r.result, RingResult::kPeerFault);
      next += r.count;
    }
  });
  uint64_t expect = 0;
  std::vector<Msg> out(11);
  while (expect < kCount) {
    const BurstResult r = (expect & 1) ? ring.consumer_->try_pop_burst(out)
                                       : ring.consumer_->try_pop_burst(std::span(out).first(1));
    ASSERT_NE(r.result, RingResult::kPeerFault);
    for (std::size_t i = 0; i < r.count; ++i, ++expect) {
      ASSERT_EQ(out[i].seq, expect);
      ASSERT_EQ(out[i].check, Check(expect));
    }
  }
  producer.join();
  EXPECT_EQ(ring.consumer_->stats().peer_faults, 0u);
}

}  // namespace
}  // namespace csm
