// Zero-copy channel: loans, in-place receive, wrap with padding, limits,
// record validation and a threaded variable-size stream.
#include "csm/ring/channel.h"

#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "csm/ring/shared_access.h"
#include "csm/ring/shared_span.h"
#include "gtest/gtest.h"

namespace csm {
namespace {

class ChannelTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(256); }
  void Make(uint64_t arena, bool one_view = false) {
    auto file = SharedFile::Create(*ChannelBytes(arena));
    ASSERT_TRUE(file.ok());
    auto a = file->Map(true);
    auto b = file->Map(true);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_TRUE(FormatChannel(a->span(), arena).ok());
    pview_ = std::move(*a);
    cview_ = std::move(*b);
    auto p = ChannelProducer::Attach(pview_.span());
    auto c = ChannelConsumer::Attach(one_view ? pview_.span() : cview_.span());
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_TRUE(c.ok()) << c.status();
    producer_.emplace(std::move(*p));
    consumer_.emplace(std::move(*c));
  }
  std::byte* arena() { return pview_.span().data() + wire::kDataOffset; }
  void SendText(const std::string& s) {
    ASSERT_EQ(producer_->try_send(std::as_bytes(std::span(s))), RingResult::kOk);
  }
  std::string ReceiveText() {
    ChannelMessage m;
    EXPECT_EQ(consumer_->try_receive(m), RingResult::kOk);
    std::string s(reinterpret_cast<const char*>(m.data.data()), m.data.size());
    EXPECT_TRUE(consumer_->release(m).ok());
    return s;
  }

  SharedView pview_, cview_;
  std::optional<ChannelProducer> producer_;
  std::optional<ChannelConsumer> consumer_;
};

TEST_F(ChannelTest, LoanWriteInPlaceCommitReceiveInPlace) {
  ChannelLoan loan;
  ASSERT_EQ(producer_->try_loan(5, loan), RingResult::kOk);
  ASSERT_EQ(loan.data.size(), 5u);
  std::memcpy(loan.data.data(), "hello", 5);
  ChannelMessage m;
  EXPECT_EQ(consumer_->try_receive(m), RingResult::kWouldBlock);  // not committed yet
  ASSERT_TRUE(producer_->commit(loan).ok());
  ASSERT_EQ(consumer_->try_receive(m), RingResult::kOk);
  // The view points into the consumer's own mapping of the arena: no copy.
  EXPECT_GE(m.data.data(), cview_.span().data());
  EXPECT_LT(m.data.data(), cview_.span().data() + cview_.span().size());
  EXPECT_EQ(std::memcmp(m.data.data(), "hello", 5), 0);
  EXPECT_TRUE(consumer_->release(m).ok());
  EXPECT_EQ(consumer_->try_receive(m), RingResult::kWouldBlock);
}

TEST_F(ChannelTest, EmptyMessagesAndShortCommits) {
  SendText("");
  ChannelLoan loan;
  ASSERT_EQ(producer_->try_loan(100, loan), RingResult::kOk);
  std::memcpy(loan.data.data(), "abc", 3);
  ASSERT_TRUE(producer_->commit(loan, 3).ok());
  EXPECT_EQ(ReceiveText(), "");
  EXPECT_EQ(ReceiveText(), "abc");
  EXPECT_EQ(producer_->position(), 64u + 64u);  // records: 16-byte header, whole lines
}

TEST_F(ChannelTest, CommitErrorsAreClear) {
  ChannelLoan loan;
  ASSERT_EQ(producer_->try_loan(10, loan), RingResult::kOk);
  absl::Status too_long = producer_->commit(loan, 11);
  EXPECT_EQ(too_long.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.message().find("11 bytes of a 10-byte loan"), std::string::npos);
  ASSERT_TRUE(producer_->commit(loan).ok());
  EXPECT_EQ(producer_->commit(loan).code(), absl::StatusCode::kInvalidArgument);  // stale
  EXPECT_EQ(producer_->commit(ChannelLoan{}).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ChannelTest, TooLargeAndExactlyMaximum) {
  ChannelLoan loan;
  EXPECT_EQ(producer_->max_message_bytes(), 176u);
  EXPECT_EQ(producer_->try_loan(177, loan), RingResult::kTooLarge);
  // No fault is recorded for it, so the error comes from the result.
  EXPECT_TRUE(producer_->last_fault().ok());
  EXPECT_TRUE(absl::IsOutOfRange(RingFailure(RingResult::kTooLarge, producer_->last_fault())));
  EXPECT_FALSE(RingFailure(RingResult::kPeerFault, absl::OkStatus()).ok());
  ASSERT_EQ(producer_->try_loan(176, loan), RingResult::kOk);
  std::memset(loan.data.data(), 0x5A, 176);
  ASSERT_TRUE(producer_->commit(loan).ok());
  EXPECT_EQ(producer_->try_loan(0, loan), RingResult::kWouldBlock);  // arena full
  ChannelMessage m;
  ASSERT_EQ(consumer_->try_receive(m), RingResult::kOk);
  EXPECT_EQ(m.data.size(), 176u);
  EXPECT_EQ(m.data[175], std::byte{0x5A});
  ASSERT_TRUE(consumer_->release(m).ok());
}

TEST_F(ChannelTest, MaximumMessageAfterWrapWaitsForPaddingThenFits) {
  SendText(std::string(100, 'a'));  // record 128 bytes, producer at offset 128
  EXPECT_EQ(ReceiveText(), std::string(100, 'a'));
  ChannelLoan loan;
  // 176 bytes cannot fit before the end: padding (128 bytes) is committed,
  // then the loan waits until the consumer has stepped past it.
  EXPECT_EQ(producer_->try_loan(176, loan), RingResult::kWouldBlock);
  EXPECT_EQ(producer_->position(), 256u);
  ChannelMessage m;
  EXPECT_EQ(consumer_->try_receive(m), RingResult::kWouldBlock);  // skips padding, frees it
  EXPECT_EQ(consumer_->position(), 256u);
  ASSERT_EQ(producer_->try_loan(176, loan), RingResult::kOk);
  EXPECT_EQ(loan.data.data(), arena() + 16);  // at offset 0
  std::memset(loan.data.data(), 'z', 176);
  ASSERT_TRUE(producer_->commit(loan).ok());
  EXPECT_EQ(ReceiveText(), std::string(176, 'z'));
}

TEST_F(ChannelTest, HoldSeveralMessagesAcrossPaddingAndReleaseInOrder) {
  Make(512);
  SendText(std::string(300, 'x'));  // record 320
  EXPECT_EQ(ReceiveText(), std::string(300, 'x'));
  SendText(std::string(100, 'y'));  // record 128: offset 320..448
  ChannelMessage second, third;
  ASSERT_EQ(consumer_->try_receive(second), RingResult::kOk);
  SendText(std::string(100, 'w'));  // record 128: does not fit at 448 -> padding 64, then at 0
  EXPECT_EQ(producer_->stats().would_block, 0u);
  ASSERT_EQ(consumer_->try_receive(third), RingResult::kOk);  // skips padding while holding
  EXPECT_EQ(third.data.size(), 100u);
  EXPECT_EQ(third.data.data(), cview_.span().data() + wire::kDataOffset + 16);
  EXPECT_EQ(consumer_->position(), 320u);  // nothing released yet
  // Releasing the later message frees everything before it, padding included.
  ASSERT_TRUE(consumer_->release(third).ok());
  EXPECT_EQ(consumer_->release(second).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(consumer_->position(), producer_->position());
}

TEST_F(ChannelTest, PaddingHeldBehindAMessageIsFreedWithIt) {
  SendText(std::string(100, 'x'));  // record 128: offset 0..128
  ChannelMessage held;
  ASSERT_EQ(consumer_->try_receive(held), RingResult::kOk);
  ASSERT_TRUE(consumer_->release(held).ok());
  SendText(std::string(40, 'y'));  // record 64 at 128..192
  ASSERT_EQ(consumer_->try_receive(held), RingResult::kOk);
  ChannelLoan loan;
  EXPECT_EQ(producer_->try_loan(100, loan), RingResult::kWouldBlock);  // commits padding
  ChannelMessage none;
  EXPECT_EQ(consumer_->try_receive(none), RingResult::kWouldBlock);  // skips padding, held
  ASSERT_TRUE(consumer_->release(held).ok());  // frees the padding too
  EXPECT_EQ(consumer_->position(), 256u);
  EXPECT_EQ(producer_->try_loan(100, loan), RingResult::kOk);
}

TEST_F(ChannelTest, ReceiveCopyLeavesTooLargeMessageInPlace) {
  SendText("0123456789");
  std::vector<std::byte> small(4), big(16);
  std::size_t n = 0;
  EXPECT_EQ(consumer_->try_receive_copy(small, n), RingResult::kTooLarge);
  ASSERT_EQ(consumer_->try_receive_copy(big, n), RingResult::kOk);
  EXPECT_EQ(n, 10u);
  EXPECT_EQ(std::memcmp(big.data(), "0123456789", 10), 0);
}

TEST_F(ChannelTest, ReleaseOfUnknownMessageIsRejected) {
  ChannelMessage bogus;
  bogus.end = 64;
  EXPECT_EQ(consumer_->release(bogus).code(), absl::StatusCode::kInvalidArgument);
}

// ---- records a hostile producer could publish ----

class ChannelFaultTest : public ChannelTest {
 protected:
  void Publish(uint64_t offset, uint32_t length, uint32_t type, uint64_t tag) {
    std::memcpy(arena() + offset + 8, &length, 4);
    std::memcpy(arena() + offset + 12, &type, 4);
    std::memcpy(arena() + offset, &tag, 8);
  }
  void ExpectFault(FaultKind kind) {
    ChannelMessage m;
    EXPECT_EQ(consumer_->try_receive(m), RingResult::kPeerFault);
    EXPECT_EQ(consumer_->stats().peer_faults, 1u);
    EXPECT_NE(consumer_->last_fault().message().find(FaultKindName(kind)), std::string::npos)
        << consumer_->last_fault();
  }
};

TEST_F(ChannelFaultTest, UnknownRecordType) {
  Publish(0, 4, 7, 1);
  ExpectFault(FaultKind::kBadRecordType);
}
TEST_F(ChannelFaultTest, LengthPastUnreleasedBytes) {
  Publish(0, 250, 1, 1);  // 16 + 250 bytes cannot fit in a 256-byte arena
  ExpectFault(FaultKind::kBadRecordLength);
}
TEST_F(ChannelFaultTest, LengthPastArenaEnd) {
  Publish(0, 0xFFFFFFF0u, 1, 1);
  ExpectFault(FaultKind::kBadRecordLength);
}
TEST_F(ChannelFaultTest, PaddingNotEndingAtArenaEnd) {
  SendText(std::string(56, 'm'));  // record 128
  EXPECT_EQ(ReceiveText(), std::string(56, 'm'));
  Publish(128, 16, 2, 129);  // padding at 128 must be 112 bytes long
  ExpectFault(FaultKind::kBadRecordLength);
}
TEST_F(ChannelFaultTest, PaddingAtOffsetZero) {
  Publish(0, 240, 2, 1);  // honest producers never pad at offset 0
  ExpectFault(FaultKind::kBadRecordType);
}
TEST_F(ChannelFaultTest, TagOfAnotherPosition) {
  Publish(0, 4, 1, 257);  // the tag of a record one lap later
  ExpectFault(FaultKind::kBadRecordTag);
}
TEST_F(ChannelFaultTest, ZeroTagIsJustNotYet) {
  Publish(0, 4, 1, 0);
  ChannelMessage m;
  EXPECT_EQ(consumer_->try_receive(m), RingResult::kWouldBlock);
  EXPECT_EQ(consumer_->stats().peer_faults, 0u);
}
TEST_F(ChannelFaultTest, ConsumerPositionPastProducer) {
  SendText(std::string(150, 'a'));  // record 192
  ConsumerLine(cview_.span())->position = 264;  // more than was ever produced
  ChannelLoan loan;
  EXPECT_EQ(producer_->try_loan(16, loan), RingResult::kPeerFault);
  EXPECT_EQ(producer_->stats().index_faults, 1u);
}

// Runs of one size let the producer zero a tag one record ahead; switching
// sizes, abandoning a longer loan and wrapping must never let that zero land
// inside a message or a stale tag pass for a commit.
TEST_F(ChannelTest, RunsOfEqualSizesAndAbandonedLoansKeepEveryByte) {
  Make(8192);
  uint64_t seq = 0;
  auto pattern = [](uint64_t s, std::size_t i) { return std::byte((s * 7 + i) | 1); };
  for (std::size_t size : {24, 256, 24, 512, 100, 1000, 24, 300, 300}) {
    for (int i = 0; i < 200; ++i, ++seq) {
      ChannelLoan loan;
      if (i % 3 == 2) {  // a longer loan, written and abandoned
        ASSERT_EQ(producer_->try_loan(size + 200, loan), RingResult::kOk);
        std::memset(loan.data.data(), 0xff, loan.data.size());
      }
      ASSERT_EQ(producer_->try_loan(size, loan), RingResult::kOk) << size << " #" << i;
      for (std::size_t k = 0; k < size; ++k) loan.data[k] = pattern(seq, k);
      ASSERT_TRUE(producer_->commit(loan).ok());
      ChannelMessage m;
      ASSERT_EQ(consumer_->try_receive(m), RingResult::kOk) << size << " #" << i;
      ASSERT_EQ(m.data.size(), size);
      for (std::size_t k = 0; k < size; ++k) {
        ASSERT_EQ(m.data[k], pattern(seq, k)) << "message " << seq << " byte " << k;
      }
      ASSERT_TRUE(consumer_->release(m).ok());
      ASSERT_EQ(consumer_->try_receive(m), RingResult::kWouldBlock) << "after " << seq;
    }
  }
}

// The successor's tag the producer zeroed ahead can be overwritten by a
// longer loan that is then committed short: the prediction must not vouch
// for it any more. (4096-byte arena: a 1000-byte message predicts the tag at
// 2048; a 2000-byte loan writes over it and commits 48 bytes; a 944-byte
// message then ends exactly at 2048.)
TEST_F(ChannelTest, ShortCommitOfALongLoanVoidsTheZeroedSuccessor) {
  Make(4096);
  auto send = [&](std::size_t loan_bytes, std::size_t commit_bytes) {
    ChannelLoan loan;
    ASSERT_EQ(producer_->try_loan(loan_bytes, loan), RingResult::kOk);
    std::memset(loan.data.data(), 0xab, loan.data.size());
    ASSERT_TRUE(producer_->commit(loan, commit_bytes).ok());
  };
  send(1000, 1000);
  send(2000, 48);
  send(944, 944);
  for (std::size_t size : {1000, 48, 944}) {
    ChannelMessage m;
    ASSERT_EQ(consumer_->try_receive(m), RingResult::kOk) << consumer_->last_fault();
    EXPECT_EQ(m.data.size(), size);
    ASSERT_TRUE(consumer_->release(m).ok());
  }
  ChannelMessage m;
  EXPECT_EQ(consumer_->try_receive(m), RingResult::kWouldBlock) << consumer_->last_fault();
  EXPECT_EQ(consumer_->stats().peer_faults, 0u);
}

// A random walk over loan sizes, short commits and abandoned loans (fixed
// seed): whatever an honest producer does, the consumer sees exactly the
// committed messages and never a fault.
TEST_F(ChannelTest, RandomLoansAndShortCommitsNeverLookFaulty) {
  Make(4096);
  std::mt19937_64 rng(20261207);
  const std::size_t max = producer_->max_message_bytes();
  auto pick = [&](std::size_t hi) { return static_cast<std::size_t>(rng() % (hi + 1)); };
  for (uint64_t seq = 0; seq < 20000; ++seq) {
    ChannelLoan loan;
    if (rng() % 4 == 0) {  // abandoned, written all over
      const std::size_t bytes = pick(max);
      if (producer_->try_loan(bytes, loan) == RingResult::kOk) {
        std::memset(loan.data.data(), 0xff, loan.data.size());
      }
    }
    const std::size_t bytes = rng() % 2 ? pick(1200) : pick(max);
    ChannelMessage m;
    RingResult loaned = producer_->try_loan(bytes, loan);
    if (loaned == RingResult::kWouldBlock) {
      // Behind a padding record: the consumer steps past it (and frees it).
      ASSERT_EQ(consumer_->try_receive(m), RingResult::kWouldBlock) << consumer_->last_fault();
      loaned = producer_->try_loan(bytes, loan);
    }
    ASSERT_EQ(loaned, RingResult::kOk) << "step " << seq;
    std::memset(loan.data.data(), 0xcd, loan.data.size());
    const std::size_t committed = rng() % 3 == 0 ? pick(bytes) : bytes;
    for (std::size_t k = 0; k < committed; ++k) loan.data[k] = std::byte(seq * 13 + k);
    ASSERT_TRUE(producer_->commit(loan, committed).ok());
    ASSERT_EQ(consumer_->try_receive(m), RingResult::kOk)
        << "step " << seq << ": " << consumer_->last_fault();
    ASSERT_EQ(m.data.size(), committed);
    for (std::size_t k = 0; k < committed; ++k) ASSERT_EQ(m.data[k], std::byte(seq * 13 + k));
    ASSERT_TRUE(consumer_->release(m).ok());
    ASSERT_EQ(consumer_->try_receive(m), RingResult::kWouldBlock)
        << "step " << seq << ": " << consumer_->last_fault();
  }
  EXPECT_EQ(consumer_->stats().peer_faults, 0u);
}

// A producer that died after a record's tag but before its position: the
// next producer resumes after the committed record instead of rewriting it
// under a consumer that may have taken it. Both kinds of record: a padding
// (written here as the dying producer would have) and a message.
TEST_F(ChannelTest, ProducerReattachResumesAfterAnUnpublishedRecord) {
  Make(1024);
  SendText(std::string(600, 'a'));
  EXPECT_EQ(ReceiveText(), std::string(600, 'a'));
  const uint64_t at = producer_->position();  // 640: a 500-byte message needs padding
  uint64_t* padding = reinterpret_cast<uint64_t*>(arena() + at);
  shared::StoreRelaxed(padding + 1, wire::PackRecord(1024 - at - 16, wire::RecordType::kPadding));
  shared::StoreRelease(padding, at + 1);
  auto again = ChannelProducer::Attach(pview_.span());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->position(), 1024u);
  producer_.emplace(std::move(*again));
  SendText(std::string(500, 'b'));
  EXPECT_EQ(ReceiveText(), std::string(500, 'b'));

  wire::IndexLine* producer_line = ProducerLine(pview_.span());
  const uint64_t before = producer_->position();
  SendText("c");
  shared::StoreRelease(&producer_line->position, before);  // died before publishing "c"
  EXPECT_EQ(ReceiveText(), "c");
  again = ChannelProducer::Attach(pview_.span());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->position(), producer_->position());
  EXPECT_EQ(shared::LoadAcquire(&producer_line->position), producer_->position());
  producer_.emplace(std::move(*again));
  SendText("d");
  EXPECT_EQ(ReceiveText(), "d");
  EXPECT_EQ(consumer_->stats().peer_faults, 0u);
}

// The records a re-attaching producer steps over are checked like the
// consumer checks them: a malformed one refuses the attach.
TEST_F(ChannelTest, ProducerReattachRefusesAMalformedUnpublishedRecord) {
  Make(1024);
  SendText("x");
  const uint64_t at = producer_->position();
  uint64_t* tag = reinterpret_cast<uint64_t*>(arena() + at);
  shared::StoreRelease(tag + 1, wire::PackRecord(4000, wire::RecordType::kMessage));
  shared::StoreRelease(tag, at + 1);
  EXPECT_TRUE(absl::IsDataLoss(ChannelProducer::Attach(pview_.span()).status()));
  shared::StoreRelease(tag + 1, wire::PackRecord(8, wire::RecordType::kPadding));
  EXPECT_TRUE(absl::IsDataLoss(ChannelProducer::Attach(pview_.span()).status()));
  shared::StoreRelease(tag + 1, uint64_t{8} | (uint64_t{7} << 32));
  EXPECT_TRUE(absl::IsDataLoss(ChannelProducer::Attach(pview_.span()).status()));
  shared::StoreRelease(tag, uint64_t{0});
  EXPECT_TRUE(ChannelProducer::Attach(pview_.span()).ok());
}

TEST_F(ChannelTest, ThreadsStreamVariableSizesIntact) {
  Make(4096, /*one_view=*/true);
  constexpr uint64_t kCount = 200'000;
  std::thread producer([&] {
    std::mt19937_64 rng(1);
    for (uint64_t seq = 0; seq < kCount;) {
      const std::size_t size = 8 + rng() % 600;
      ChannelLoan loan;
      RingResult r;
      while ((r = producer_->try_loan(size, loan)) == RingResult::kWouldBlock) {
      }
      ASSERT_EQ(r, RingResult::kOk);
      std::memcpy(loan.data.data(), &seq, 8);
      for (std::size_t i = 8; i < size; ++i) loan.data[i] = std::byte(seq + i);
      ASSERT_TRUE(producer_->commit(loan).ok());
      ++seq;
    }
  });
  std::mt19937_64 rng(1);
  for (uint64_t seq = 0; seq < kCount;) {
    ChannelMessage m;
    const RingResult r = consumer_->try_receive(m);
    ASSERT_NE(r, RingResult::kPeerFault);
    if (r != RingResult::kOk) continue;
    const std::size_t size = 8 + rng() % 600;
    ASSERT_EQ(m.data.size(), size);
    uint64_t got;
    std::memcpy(&got, m.data.data(), 8);
    ASSERT_EQ(got, seq);
    for (std::size_t i = 8; i < size; ++i) ASSERT_EQ(m.data[i], std::byte(seq + i));
    ASSERT_TRUE(consumer_->release(m).ok());
    ++seq;
  }
  producer.join();
}

}  // namespace
}  // namespace csm
