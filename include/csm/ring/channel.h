// Zero-copy channel: variable-size messages in a shared byte arena, one
// producer and one consumer.
//
// The producer loans space in the arena, writes the message in place and
// commits; the consumer receives a view of the message in place and releases
// it when done. Nothing is copied by the channel.
//
// Protocol (docs/ring-protocol.md, kind kChannel): positions are free-running
// byte counts; a record at position p starts at arena offset p mod capacity
// with a 16-byte header {u64 tag, u32 length, u32 type} and is padded to whole
// cache lines (64 bytes). The producer writes the payload and length/type, then the tag
// p + 1 with release ordering: that commits the record, so the consumer
// learns of a message from the line that holds it, with no index to fetch.
// Before committing, the producer zeroes the tag word just past the record,
// so the consumer never mistakes stale bytes for the next record. A message
// never wraps: when it does not fit before the end of the arena the producer
// first commits a padding record that runs exactly to the end, then writes
// the message at offset 0. So any message up to max_message_bytes() =
// capacity - 80 fits once the consumer has caught up.
//
// Hardening (consumer): each tag is read once and must be 0 (nothing yet) or
// exactly our private read position + 1; the header is read once; the type
// must be message or padding; padding must end exactly at the arena end (and
// never start at offset 0), and a message must lie inside both the arena and
// the bytes we have not released (a producer may not have written beyond).
// The view handed to the caller is therefore always inside the span. Its
// *bytes* are still shared: a hostile producer can change them while they
// are read, so parse structured data from a private copy. (Producer) the
// consumer's position must stay within [last seen, our position].
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "csm/ring/ring_header.h"
#include "csm/ring/ring_result.h"
#include "csm/ring/shared_access.h"

namespace csm {

// Creates a channel whose arena holds `arena_bytes` (a power of two >= 64).
absl::Status FormatChannel(std::span<std::byte> span, uint64_t arena_bytes);
absl::StatusOr<uint64_t> ChannelBytes(uint64_t arena_bytes);

namespace channel_detail {
// Bytes a record with `payload` bytes occupies: header + payload, whole lines.
constexpr uint64_t RecordBytes(uint64_t payload) {
  return (wire::kRecordHeaderBytes + payload + wire::kRecordAlign - 1) & ~uint64_t{wire::kRecordAlign - 1};
}
// How far ahead of its position the producer keeps record tags zeroed.
// Measured (csm-compare, 3 interleaved A/B runs): 8 lines made 512-byte
// streaming cost 1.46-1.54x the floor's ticks and 256/512-byte ping-pong
// 1.23-1.33x; 4 lines gave 1.15x and 1.11-1.18x, the same elsewhere.
// Zeroing a whole record ahead for records up to 4 KiB cost 1.2-1.6x the
// floor's ticks at 512 B-64 KiB: the producer then pays for the next
// record's lines in this commit. Records longer than this are covered by
// the successor prediction in CommitRecord instead.
inline constexpr uint64_t kZeroAheadBytes = 4 * wire::kRecordAlign;
inline uint64_t* Word(std::byte* p) { return reinterpret_cast<uint64_t*>(p); }
}  // namespace channel_detail

// Space loaned by the producer: write up to data.size() bytes, then commit.
struct ChannelLoan {
  std::span<std::byte> data;
  uint64_t position = 0;  // producer position of the record (private bookkeeping)
};

// A received message: read data in place, then release it.
struct ChannelMessage {
  std::span<const std::byte> data;
  uint64_t end = 0;  // consumer position just past the record
};

// Endpoints are cache-line aligned: their private positions and counters
// change on every operation and must not share a line with the other side's.
// Not line-pair aligned like the rings' (spsc_ring.h): measured, 128-byte
// alignment made csm-compare's zero-copy streaming of 16-64 KiB messages
// 10-15% slower (A/B, same machine, interleaved runs); why is not yet known.
// Threads of one process that own a producer and a consumer should keep
// them 128 bytes apart themselves.
class alignas(wire::kCacheLine) ChannelProducer {
 public:
  static absl::StatusOr<ChannelProducer> Attach(std::span<std::byte> span);

  // Loans room for a message of `bytes`. kTooLarge if bytes exceeds
  // max_message_bytes(), kWouldBlock until the consumer frees enough space.
  // Only the most recent loan may be committed; a new loan abandons the last.
  RingResult try_loan(std::size_t bytes, ChannelLoan& loan);

  // Publishes the first `bytes` of the loan (bytes <= loan.data.size()).
  // InvalidArgument for a stale loan or a length larger than the loan.
  absl::Status commit(const ChannelLoan& loan, std::size_t bytes);
  absl::Status commit(const ChannelLoan& loan) { return commit(loan, loan.data.size()); }

  // Copying convenience: loan, copy `message`, commit.
  RingResult try_send(std::span<const std::byte> message);

  uint64_t capacity() const { return mask_ + 1; }
  std::size_t max_message_bytes() const {
    return wire::MaxChannelMessage(capacity());
  }
  uint64_t position() const { return tail_; }
  // Re-reads the consumer's position now (for waiters).
  RingResult Refresh() { return RefreshHead(); }
  const RingStats& stats() const { return stats_; }
  absl::Status last_fault() const { return fault_.ToStatus(); }
  wire::IndexLine* producer_line() const { return producer_; }
  wire::IndexLine* consumer_line() const { return consumer_; }

 private:
  ChannelProducer() = default;
  RingResult RefreshHead();
  RingResult Reserve(uint64_t bytes);  // ensure free space, refreshing once
  // try_loan when the fast case does not apply (wrap, refresh, too large).
  RingResult LoanSlow(std::size_t bytes, ChannelLoan& loan);
  absl::Status CommitError(const ChannelLoan& loan, std::size_t bytes) const;
  // Writes a record's header at our position and commits it (tag last).
  void CommitRecord(uint64_t record_bytes, uint32_t length, wire::RecordType type);
  uint64_t free_bytes() const { return capacity() - (tail_ - head_cache_); }

  std::byte* arena_ = nullptr;
  uint64_t mask_ = 0;
  wire::IndexLine* producer_ = nullptr;
  wire::IndexLine* consumer_ = nullptr;
  uint64_t tail_ = 0;        // private: bytes published
  uint64_t head_cache_ = 0;  // last validated consumer position
  // Tags of line starts in [tail_, zeroed_to_) are known to be 0.
  uint64_t zeroed_to_ = 0;
  // A tag zeroed one record ahead (where the next record's successor starts
  // if it is as long as the last one); 0 for none.
  uint64_t predicted_zero_ = 0;
  // End of the bytes the application may have written through loans since
  // the last commit (a loan may be longer than what is committed).
  uint64_t dirty_end_ = 0;
  RingStats stats_;
  FaultRecord fault_;
};

class alignas(wire::kCacheLine) ChannelConsumer {
 public:
  static absl::StatusOr<ChannelConsumer> Attach(std::span<std::byte> span);

  // Views the next message in place. Several may be received before
  // releasing; release them in order.
  RingResult try_receive(ChannelMessage& message);

  // Frees `message` and every message received before it.
  // InvalidArgument if it was already released or not yet received.
  absl::Status release(const ChannelMessage& message);

  // Copying convenience: copies the next message into `out`, sets `bytes` to
  // its length and releases it. kTooLarge (nothing consumed) if `out` is
  // smaller than the message.
  RingResult try_receive_copy(std::span<std::byte> out, std::size_t& bytes);

  uint64_t capacity() const { return mask_ + 1; }
  std::size_t max_message_bytes() const {
    return wire::MaxChannelMessage(capacity());
  }
  uint64_t position() const { return head_; }
  const RingStats& stats() const { return stats_; }
  absl::Status last_fault() const { return fault_.ToStatus(); }
  wire::IndexLine* producer_line() const { return producer_; }
  wire::IndexLine* consumer_line() const { return consumer_; }

 private:
  ChannelConsumer() = default;
  void Publish(uint64_t head) {
    head_ = head;
    shared::StoreRelease(&consumer_->position, head_);
  }
  // try_receive for everything but a well-formed message: padding, faults.
  RingResult ReceiveSlow(ChannelMessage& message);
  absl::Status ReleaseError(const ChannelMessage& message) const;

  std::byte* arena_ = nullptr;
  uint64_t mask_ = 0;
  wire::IndexLine* producer_ = nullptr;
  wire::IndexLine* consumer_ = nullptr;
  uint64_t head_ = 0;        // private: bytes released (published to the producer)
  uint64_t read_ = 0;        // private: bytes parsed by try_receive
  // A padding record skipped while earlier messages were still held: it is
  // released together with the message that ends where it starts.
  uint64_t padding_from_ = ~uint64_t{0};
  uint64_t padding_to_ = 0;
  RingStats stats_;
  FaultRecord fault_;
};

// The hot paths are inline: a message's round trip is a few dozen
// instructions on each side, and a call per step would be a large share.
// Except try_receive, which is kept out of line on purpose (below).

inline RingResult ChannelProducer::try_loan(std::size_t bytes, ChannelLoan& loan) {
  const uint64_t record = channel_detail::RecordBytes(bytes);
  const uint64_t offset = tail_ & mask_;
  if (bytes > max_message_bytes() || offset + record > capacity() ||
      free_bytes() < record + wire::kRecordTrailerBytes) [[unlikely]] {
    return LoanSlow(bytes, loan);
  }
  loan.data = std::span<std::byte>(arena_ + offset + wire::kRecordHeaderBytes, bytes);
  loan.position = tail_;
  dirty_end_ = std::max<uint64_t>(dirty_end_, tail_ + wire::kRecordHeaderBytes + bytes);
  return RingResult::kOk;
}

inline absl::Status ChannelProducer::commit(const ChannelLoan& loan, std::size_t bytes) {
  if (loan.position != tail_ || loan.data.data() == nullptr || bytes > loan.data.size())
      [[unlikely]] {
    return CommitError(loan, bytes);
  }
  CommitRecord(channel_detail::RecordBytes(bytes), static_cast<uint32_t>(bytes),
               wire::RecordType::kMessage);
  ++stats_.ops;
  return absl::OkStatus();
}

inline void ChannelProducer::CommitRecord(uint64_t record_bytes, uint32_t length,
                                          wire::RecordType type) {
  using channel_detail::Word;
  std::byte* record = arena_ + (tail_ & mask_);
  const uint64_t next = tail_ + record_bytes;
  // The next record's tag must read 0 before this record becomes visible
  // (it lies in the room Reserve() found). Usually an earlier commit zeroed
  // it already, off the critical path (the zero-ahead lines, or the
  // prediction below when this record is as long as the last); not if the
  // application wrote there through a longer loan than it committed: then
  // neither the zero-ahead lines from `next` on nor the predicted tag can be
  // trusted (the loan may have covered either).
  if (dirty_end_ > next) {
    zeroed_to_ = std::min(zeroed_to_, next);
    predicted_zero_ = 0;
  }
  if (zeroed_to_ <= next) [[unlikely]] {
    if (next != predicted_zero_ || dirty_end_ > next) {
      shared::StoreRelaxed(Word(arena_ + (next & mask_)), uint64_t{0});
    }
    zeroed_to_ = next + wire::kRecordAlign;  // the lines before are this record's
  }
  shared::StoreRelaxed(Word(record + 8), wire::PackRecord(length, type));
  shared::StoreRelease(Word(record), tail_ + 1);  // the commit
  tail_ = next;
  dirty_end_ = 0;
  shared::StoreRelease(&producer_->position, tail_);  // for attaching and monitoring
  // Zero the tags of the next few lines now, in released space, so the next
  // commit finds its successor's tag zero and does not wait for that line.
  const uint64_t limit = std::min(next + channel_detail::kZeroAheadBytes, head_cache_ + capacity());
  for (; zeroed_to_ < limit; zeroed_to_ += wire::kRecordAlign) {
    shared::StoreRelaxed(Word(arena_ + (zeroed_to_ & mask_)), uint64_t{0});
  }
  // Messages often come in runs of one size: zero the tag where the next
  // record's successor starts if it is as long as this one, so that commit
  // does not wait for that line either (1 store; for 256-byte ping-pong
  // csm-ping's p50 went from 230 to 220 ns, and to 191 with the first line
  // written last, see docs/ring-protocol.md). Only in released space.
  const uint64_t successor = next + record_bytes;
  if (successor >= zeroed_to_ && successor + wire::kRecordAlign <= head_cache_ + capacity()) {
    shared::StoreRelaxed(Word(arena_ + (successor & mask_)), uint64_t{0});
    predicted_zero_ = successor;
  }
}

// Not inlined into callers' polling loops: measured, a polling loop that
// calls it is faster than one with it inlined. csm-compare ping-pong, 3 A/B
// pairs (AMD EPYC family 26, slow cross-core regime): zero-copy round trip
// p50 at 64 B 751-781 -> 621-651 ns, rx ticks 714-735 -> 441-462; 512 B
// 901-931 -> 771-831 ns; csm-ping spin 64 B 590-601 -> 470-572 ns; streaming
// throughput unchanged. Why is not established; one explanation is that the
// inlined loop speculates into the success path and loads the record's
// later lines while the producer is still filling them (prefetching those
// lines between polls also made csm-ping slower).
[[gnu::noinline]] inline RingResult ChannelConsumer::try_receive(ChannelMessage& message) {
  const uint64_t offset = read_ & mask_;
  std::byte* record = arena_ + offset;
  // One read of the tag and one of the header; any doubt goes to the slow
  // path, which reads and judges afresh (it trusts nothing seen here).
  const uint64_t tag = shared::LoadAcquire(channel_detail::Word(record));
  if (tag == 0) {
    ++stats_.would_block;
    return RingResult::kWouldBlock;
  }
  const uint64_t header = shared::LoadRelaxed(channel_detail::Word(record + 8));
  const uint32_t length = static_cast<uint32_t>(header);
  const uint64_t room = std::min(capacity() - offset, head_ + capacity() - read_);
  const uint64_t record_bytes = channel_detail::RecordBytes(length);
  if (tag != read_ + 1 ||
      static_cast<uint32_t>(header >> 32) != static_cast<uint32_t>(wire::RecordType::kMessage) ||
      record_bytes > room) [[unlikely]] {
    return ReceiveSlow(message);
  }
  message.data = std::span<const std::byte>(record + wire::kRecordHeaderBytes, length);
  read_ += record_bytes;
  message.end = read_;
  ++stats_.ops;
  return RingResult::kOk;
}

inline absl::Status ChannelConsumer::release(const ChannelMessage& message) {
  if (message.end - head_ - 1 >= read_ - head_) [[unlikely]] {  // need head_ < end <= read_
    return ReleaseError(message);
  }
  Publish(message.end == padding_from_ ? padding_to_ : message.end);
  return absl::OkStatus();
}

}  // namespace csm
