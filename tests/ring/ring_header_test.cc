// Creating rings and attaching to them: geometry rules and header validation.
#include <cstring>

#include "csm/ring/channel.h"
#include "csm/ring/mpmc_ring.h"
#include "csm/ring/ring_header.h"
#include "csm/ring/spsc_ring.h"
#include "gtest/gtest.h"

namespace csm {
namespace {

struct alignas(64) Arena {
  std::byte bytes[64 * 1024];
};

TEST(RingHeaderTest, PlanRejectsBadGeometry) {
  EXPECT_EQ(PlanRing(wire::RingKind::kSpsc, 8, 3).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanRing(wire::RingKind::kSpsc, 8, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanRing(wire::RingKind::kSpsc, 0, 8).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanRing(wire::RingKind::kChannel, 0, 100).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanRing(wire::RingKind::kChannel, 0, 32).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanRing(wire::RingKind::kChannel, 8, 64).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_NE(PlanRing(wire::RingKind::kSpsc, 8, 3).status().message().find("power of two"),
            std::string::npos);
}

TEST(RingHeaderTest, GeometryMatchesDocumentedLayout) {
  auto spsc = PlanRing(wire::RingKind::kSpsc, 24, 16);
  ASSERT_TRUE(spsc.ok());
  EXPECT_EQ(spsc->data_offset, 384u);
  EXPECT_EQ(spsc->slot_stride, 32u);  // 8-byte sequence word + 24-byte payload
  EXPECT_EQ(SpanBytes(*spsc), 384u + 16 * 32);
  auto mpmc = PlanRing(wire::RingKind::kMpmc, 8, 4);
  ASSERT_TRUE(mpmc.ok());
  EXPECT_EQ(mpmc->slot_stride, 64u);  // 8-byte turn + 8-byte payload, rounded to a line
  auto mpmc_big = PlanRing(wire::RingKind::kMpmc, 57, 4);
  ASSERT_TRUE(mpmc_big.ok());
  EXPECT_EQ(mpmc_big->slot_stride, 128u);
  auto chan = PlanRing(wire::RingKind::kChannel, 0, 4096);
  ASSERT_TRUE(chan.ok());
  EXPECT_EQ(SpanBytes(*chan), 384u + 4096);
}

// Channel lengths are u32 in the record header; arenas go up to 2^40 bytes.
TEST(RingHeaderTest, ChannelMessagesAndPaddingFitTheLengthField) {
  EXPECT_EQ(wire::MaxChannelMessage(256), 176u);
  EXPECT_EQ(wire::MaxChannelMessage(uint64_t{1} << 32), (uint64_t{1} << 32) - 128);
  for (uint64_t arena : {uint64_t{1} << 33, wire::kMaxArenaBytes}) {
    const uint64_t max = wire::MaxChannelMessage(arena);
    EXPECT_LE(max, UINT32_MAX);
    // The longest padding is one line short of the largest record.
    const uint64_t record = (wire::kRecordHeaderBytes + max + 63) / 64 * 64;
    EXPECT_LE(record - wire::kRecordAlign - wire::kRecordHeaderBytes, UINT32_MAX);
  }
}

TEST(RingHeaderTest, FormatRejectsSmallOrMisalignedSpan) {
  Arena a;
  EXPECT_EQ(FormatSpscRing<uint64_t>(std::span(a.bytes, 383 + 8 * 16), 8).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatSpscRing<uint64_t>(std::span(a.bytes + 8, 4096), 8).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(FormatSpscRing<uint64_t>(std::span(a.bytes, 384 + 8 * 16), 8).ok());
}

TEST(RingHeaderTest, AttachChecksEverything) {
  Arena a;
  std::span<std::byte> span(a.bytes);
  std::memset(a.bytes, 0, sizeof(a.bytes));
  EXPECT_EQ(SpscConsumer<uint64_t>::Attach(span).status().code(), absl::StatusCode::kUnavailable);

  ASSERT_TRUE(FormatSpscRing<uint64_t>(span, 64).ok());
  EXPECT_TRUE(SpscConsumer<uint64_t>::Attach(span).ok());
  // Wrong payload type, wrong kind.
  EXPECT_EQ(SpscConsumer<uint32_t>::Attach(span).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(MpmcEndpoint<uint64_t>::Attach(span).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ChannelConsumer::Attach(span).status().code(), absl::StatusCode::kFailedPrecondition);
  // Our own mapping is too small for what the header claims.
  EXPECT_EQ(SpscConsumer<uint64_t>::Attach(span.first(384 + 63 * 16)).status().code(),
            absl::StatusCode::kFailedPrecondition);

  auto* h = reinterpret_cast<wire::RingHeader*>(a.bytes);
  auto corrupt = [&](auto mutate) -> absl::Status {
    EXPECT_TRUE(FormatSpscRing<uint64_t>(span, 64).ok());
    mutate(*h);
    auto c = SpscConsumer<uint64_t>::Attach(span);
    EXPECT_FALSE(c.ok());
    return c.status();
  };
  EXPECT_NE(corrupt([](wire::RingHeader& x) { x.magic ^= 1; }).message().find("magic"),
            std::string::npos);
  EXPECT_NE(corrupt([](wire::RingHeader& x) { x.layout_version = 2; }).message().find("version"),
            std::string::npos);
  EXPECT_EQ(corrupt([](wire::RingHeader& x) { x.capacity = 48; }).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(corrupt([](wire::RingHeader& x) { x.capacity = uint64_t{1} << 62; }).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(corrupt([](wire::RingHeader& x) { x.slot_stride = 4; }).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(corrupt([](wire::RingHeader& x) { x.data_offset = 0; }).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(corrupt([](wire::RingHeader& x) { x.span_bytes = 1; }).code(), absl::StatusCode::kFailedPrecondition);
  // Inconsistent starting positions.
  ASSERT_TRUE(FormatSpscRing<uint64_t>(span, 64).ok());
  ProducerLine(span)->position = 65;
  EXPECT_EQ(SpscProducer<uint64_t>::Attach(span).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace csm
