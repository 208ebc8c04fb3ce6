#include "csm/ring/channel.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "csm/ring/shared_access.h"

namespace csm {
namespace {

using channel_detail::RecordBytes;

}  // namespace

absl::Status FormatChannel(std::span<std::byte> span, uint64_t arena_bytes) {
  absl::StatusOr<RingGeometry> g = PlanRing(wire::RingKind::kChannel, 0, arena_bytes);
  if (!g.ok()) return g.status();
  return FormatRing(span, *g);
}

absl::StatusOr<uint64_t> ChannelBytes(uint64_t arena_bytes) {
  absl::StatusOr<RingGeometry> g = PlanRing(wire::RingKind::kChannel, 0, arena_bytes);
  if (!g.ok()) return g.status();
  return SpanBytes(*g);
}

// ---------------------------------------------------------------- producer --

absl::StatusOr<ChannelProducer> ChannelProducer::Attach(std::span<std::byte> span) {
  absl::StatusOr<RingGeometry> g = AttachRing(span, wire::RingKind::kChannel, 0);
  if (!g.ok()) return g.status();
  ChannelProducer p;
  p.arena_ = span.data() + g->data_offset;
  p.mask_ = g->capacity - 1;
  p.producer_ = ProducerLine(span);
  p.consumer_ = ConsumerLine(span);
  p.tail_ = shared::LoadAcquire(&p.producer_->position);
  p.head_cache_ = shared::LoadAcquire(&p.consumer_->position);
  if (p.tail_ % wire::kRecordAlign != 0 || p.head_cache_ % wire::kRecordAlign != 0) {
    return absl::DataLossError("channel positions are not record-aligned at attach");
  }
  // A producer that died between a record's tag and its position left a
  // record committed past the position (the consumer may have taken it):
  // resume after it. What is stepped over must be well formed, as the
  // consumer checks it, and the run stays within one arena's worth.
  const uint64_t published = p.tail_;
  for (;;) {
    const uint64_t offset = p.tail_ & p.mask_;
    const std::byte* record = p.arena_ + offset;
    if (shared::LoadAcquire(reinterpret_cast<const uint64_t*>(record)) != p.tail_ + 1) break;
    const uint64_t header = shared::LoadRelaxed(reinterpret_cast<const uint64_t*>(record + 8));
    const uint32_t type = static_cast<uint32_t>(header >> 32);
    const uint64_t bytes = RecordBytes(static_cast<uint32_t>(header));
    const bool padding = type == static_cast<uint32_t>(wire::RecordType::kPadding);
    if ((!padding && type != static_cast<uint32_t>(wire::RecordType::kMessage)) ||
        offset + bytes > p.capacity() || (padding && (offset == 0 || offset + bytes != p.capacity())) ||
        p.tail_ + bytes - published > p.capacity()) {
      return absl::DataLossError("channel has a malformed unpublished record at attach");
    }
    p.tail_ += bytes;
  }
  if (p.tail_ - p.head_cache_ > p.capacity()) {
    return absl::DataLossError("channel positions are inconsistent at attach");
  }
  p.zeroed_to_ = p.tail_ + wire::kRecordAlign;  // the tag at our position is 0
  if (p.tail_ != published) shared::StoreRelease(&p.producer_->position, p.tail_);
  return p;
}

RingResult ChannelProducer::RefreshHead() {
  const uint64_t head = shared::LoadAcquire(&consumer_->position);
  if (head - head_cache_ > tail_ - head_cache_) [[unlikely]] {
    fault_.Record(stats_, FaultKind::kIndexOutOfWindow, "consumer position", head, head_cache_,
                  tail_);
    return RingResult::kPeerFault;
  }
  head_cache_ = head;
  return RingResult::kOk;
}

RingResult ChannelProducer::Reserve(uint64_t record_bytes) {
  if (free_bytes() >= record_bytes) return RingResult::kOk;
  if (RingResult r = RefreshHead(); r != RingResult::kOk) return r;
  if (free_bytes() >= record_bytes) return RingResult::kOk;
  ++stats_.would_block;
  return RingResult::kWouldBlock;
}

RingResult ChannelProducer::LoanSlow(std::size_t bytes, ChannelLoan& loan) {
  if (bytes > max_message_bytes()) [[unlikely]] return RingResult::kTooLarge;
  const uint64_t record = RecordBytes(bytes);
  uint64_t offset = tail_ & mask_;
  if (offset + record > capacity()) {
    // Does not fit before the end: commit a padding record to the end on its
    // own, so the consumer can step past it even if the message itself must
    // wait for the whole arena to drain.
    const uint64_t padding = capacity() - offset;
    if (RingResult r = Reserve(padding + wire::kRecordTrailerBytes); r != RingResult::kOk) return r;
    CommitRecord(padding, static_cast<uint32_t>(padding - wire::kRecordHeaderBytes),
                 wire::RecordType::kPadding);
    offset = 0;
  }
  if (RingResult r = Reserve(record + wire::kRecordTrailerBytes); r != RingResult::kOk) return r;
  loan.data = std::span<std::byte>(arena_ + offset + wire::kRecordHeaderBytes, bytes);
  loan.position = tail_;
  dirty_end_ = std::max<uint64_t>(dirty_end_, tail_ + wire::kRecordHeaderBytes + bytes);
  return RingResult::kOk;
}

absl::Status ChannelProducer::CommitError(const ChannelLoan& loan, std::size_t bytes) const {
  if (loan.position != tail_ || loan.data.data() == nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "loan at position %d is stale (channel is at %d): only the latest loan may be committed",
        loan.position, tail_));
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("cannot commit %d bytes of a %d-byte loan", bytes, loan.data.size()));
}

RingResult ChannelProducer::try_send(std::span<const std::byte> message) {
  ChannelLoan loan;
  if (RingResult r = try_loan(message.size(), loan); r != RingResult::kOk) return r;
  if (!message.empty()) std::memcpy(loan.data.data(), message.data(), message.size());
  (void)commit(loan);  // cannot fail: the loan is current and exactly sized
  return RingResult::kOk;
}

// ---------------------------------------------------------------- consumer --

absl::StatusOr<ChannelConsumer> ChannelConsumer::Attach(std::span<std::byte> span) {
  absl::StatusOr<RingGeometry> g = AttachRing(span, wire::RingKind::kChannel, 0);
  if (!g.ok()) return g.status();
  ChannelConsumer c;
  c.arena_ = span.data() + g->data_offset;
  c.mask_ = g->capacity - 1;
  c.producer_ = ProducerLine(span);
  c.consumer_ = ConsumerLine(span);
  c.head_ = c.read_ = shared::LoadAcquire(&c.consumer_->position);
  if (c.head_ % wire::kRecordAlign != 0) {
    return absl::DataLossError("channel consumer position is not record-aligned at attach");
  }
  return c;
}

RingResult ChannelConsumer::ReceiveSlow(ChannelMessage& message) {
  // At most two records: a padding record, then the message at offset 0.
  for (int records = 0; records < 2; ++records) {
    const uint64_t offset = read_ & mask_;
    std::byte* record = arena_ + offset;
    const uint64_t tag = shared::LoadAcquire(reinterpret_cast<const uint64_t*>(record));
    if (tag == 0) {
      ++stats_.would_block;
      return RingResult::kWouldBlock;
    }
    if (tag != read_ + 1) [[unlikely]] {
      fault_.Record(stats_, FaultKind::kBadRecordTag, "record tag", tag, read_ + 1, read_ + 1);
      return RingResult::kPeerFault;
    }
    const uint64_t header = shared::LoadRelaxed(reinterpret_cast<const uint64_t*>(record + 8));
    const uint32_t length = static_cast<uint32_t>(header);
    const uint32_t type = static_cast<uint32_t>(header >> 32);
    // The producer may only have written up to the end of the arena and up
    // to the bytes we have not released.
    const uint64_t room = std::min(capacity() - offset, head_ + capacity() - read_);
    if (type == static_cast<uint32_t>(wire::RecordType::kPadding)) {
      // Every message fits at offset 0, so padding there is never honest;
      // refusing it also means at most one padding per call.
      if (offset == 0) {
        fault_.Record(stats_, FaultKind::kBadRecordType, "padding at arena offset 0", type, 1, 1);
        return RingResult::kPeerFault;
      }
      const uint64_t padding = capacity() - offset;
      if (uint64_t{length} + wire::kRecordHeaderBytes != padding || padding > room) {
        fault_.Record(stats_, FaultKind::kBadRecordLength, "padding record length", length,
                      padding - wire::kRecordHeaderBytes, padding - wire::kRecordHeaderBytes);
        return RingResult::kPeerFault;
      }
      const uint64_t padding_start = read_;
      read_ += padding;
      // Free the padding at once so a producer waiting to write a large
      // message at offset 0 can proceed; if messages before it are still
      // held, release() frees it together with the last of them.
      if (head_ == padding_start) {
        Publish(read_);
      } else {
        padding_from_ = padding_start;
        padding_to_ = read_;
      }
      continue;
    }
    if (type != static_cast<uint32_t>(wire::RecordType::kMessage)) {
      fault_.Record(stats_, FaultKind::kBadRecordType, "record type", type, 1, 2);
      return RingResult::kPeerFault;
    }
    const uint64_t record_bytes = RecordBytes(length);
    if (record_bytes > room) {
      fault_.Record(stats_, FaultKind::kBadRecordLength, "message length", length, 0,
                    room - wire::kRecordHeaderBytes);
      return RingResult::kPeerFault;
    }
    message.data = std::span<const std::byte>(record + wire::kRecordHeaderBytes, length);
    read_ += record_bytes;
    message.end = read_;
    ++stats_.ops;
    return RingResult::kOk;
  }
  // Unreachable: after a padding we are at offset 0, where padding faults.
  return RingResult::kPeerFault;
}

absl::Status ChannelConsumer::ReleaseError(const ChannelMessage& message) const {
  return absl::InvalidArgumentError(absl::StrFormat(
      "message ending at %d is not outstanding (released up to %d, received up to %d)",
      message.end, head_, read_));
}

RingResult ChannelConsumer::try_receive_copy(std::span<std::byte> out, std::size_t& bytes) {
  ChannelMessage message;
  if (RingResult r = try_receive(message); r != RingResult::kOk) return r;
  if (message.data.size() > out.size()) {
    read_ = message.end - RecordBytes(message.data.size());  // un-receive it
    --stats_.ops;
    return RingResult::kTooLarge;
  }
  bytes = message.data.size();
  if (bytes != 0) std::memcpy(out.data(), message.data.data(), bytes);
  (void)release(message);
  return RingResult::kOk;
}

}  // namespace csm
