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

#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "csm/ring/ring_header.h"
#include "csm/ring/ring_result.h"

namespace csm {

// Creates a channel whose arena holds `arena_bytes` (a power of two >= 64).
absl::Status FormatChannel(std::span<std::byte> span, uint64_t arena_bytes);
absl::StatusOr<uint64_t> ChannelBytes(uint64_t arena_bytes);

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
  void Publish(uint64_t head);

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

}  // namespace csm
