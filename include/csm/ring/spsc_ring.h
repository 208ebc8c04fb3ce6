// Single-producer single-consumer ring of fixed-size slots in shared memory.
//
// Protocol (docs/ring-protocol.md, kind kSpsc): the producer owns the
// producer line's `position` (count of slots written), the consumer owns the
// consumer line's (count of slots read); slot i lives at data + (i mod
// capacity) * stride. Each side keeps its own index privately and a cached
// copy of the other's, reloading it only when the cache says full / empty
// (the rigtorp trick: most operations touch no line the peer writes).
//
// Hardening: a reloaded peer index is read once and must lie in the only
// window an honest peer can produce: the consumer's position never goes
// backwards or past the producer's; the producer's never goes backwards or
// more than `capacity` ahead of the consumer's. Anything else is counted,
// recorded and returned as kPeerFault; slot addresses come from our private
// index masked by our private capacity, so they are always inside the span.
//
// Endpoints are single-threaded objects: one per side, not shared by threads.
#pragma once

#include <algorithm>
#include <cstring>
#include <span>
#include <type_traits>

#include "absl/status/statusor.h"
#include "csm/ring/ring_header.h"
#include "csm/ring/ring_result.h"
#include "csm/ring/shared_access.h"

namespace csm {

// Outcome of a burst: how many items moved, and why it stopped short.
struct BurstResult {
  std::size_t count = 0;
  RingResult result = RingResult::kOk;  // kOk iff all requested items moved
};

template <typename T>
concept RingPayload = std::is_trivially_copyable_v<T> && alignof(T) <= wire::kCacheLine &&
                      sizeof(T) <= wire::kMaxSlotBytes;

namespace spsc_detail {

// State both endpoints share the shape of: private geometry and line pointers.
template <typename T>
class Endpoint {
 public:
  uint64_t capacity() const { return mask_ + 1; }
  const RingStats& stats() const { return stats_; }
  absl::Status last_fault() const { return fault_.ToStatus(); }
  // The waiting flags for the doorbell layer (docs/ring-protocol.md).
  wire::IndexLine* producer_line() const { return producer_; }
  wire::IndexLine* consumer_line() const { return consumer_; }

 protected:
  Endpoint() = default;
  absl::Status Init(std::span<std::byte> span) {
    absl::StatusOr<RingGeometry> g = AttachRing(span, wire::RingKind::kSpsc, sizeof(T));
    if (!g.ok()) return g.status();
    data_ = span.data() + g->data_offset;
    mask_ = g->capacity - 1;
    producer_ = ProducerLine(span);
    consumer_ = ConsumerLine(span);
    return absl::OkStatus();
  }
  std::byte* slot(uint64_t position) const { return data_ + (position & mask_) * sizeof(T); }

  std::byte* data_ = nullptr;
  uint64_t mask_ = 0;
  wire::IndexLine* producer_ = nullptr;
  wire::IndexLine* consumer_ = nullptr;
  RingStats stats_;
  FaultRecord fault_;
};

}  // namespace spsc_detail

// Creates an SPSC ring of `capacity` slots of T in `span` (64-byte aligned).
template <RingPayload T>
absl::Status FormatSpscRing(std::span<std::byte> span, uint64_t capacity) {
  absl::StatusOr<RingGeometry> g = PlanRing(wire::RingKind::kSpsc, sizeof(T), capacity);
  if (!g.ok()) return g.status();
  return FormatRing(span, *g);
}

// Bytes of span an SPSC ring of `capacity` slots of T needs.
template <RingPayload T>
absl::StatusOr<uint64_t> SpscRingBytes(uint64_t capacity) {
  absl::StatusOr<RingGeometry> g = PlanRing(wire::RingKind::kSpsc, sizeof(T), capacity);
  if (!g.ok()) return g.status();
  return SpanBytes(*g);
}

template <RingPayload T>
class SpscProducer : public spsc_detail::Endpoint<T> {
  using Base = spsc_detail::Endpoint<T>;

 public:
  // Attaches to a formatted ring. The starting positions are the only shared
  // values taken on trust, and only if they are mutually consistent.
  static absl::StatusOr<SpscProducer> Attach(std::span<std::byte> span) {
    SpscProducer p;
    if (absl::Status s = p.Init(span); !s.ok()) return s;
    p.tail_ = shared::LoadAcquire(&p.producer_->position);
    p.head_cache_ = shared::LoadAcquire(&p.consumer_->position);
    if (p.tail_ - p.head_cache_ > p.capacity()) {
      return absl::DataLossError("SPSC ring positions are inconsistent at attach");
    }
    return p;
  }

  RingResult try_push(const T& item) {
    if (tail_ - head_cache_ == this->capacity()) [[unlikely]] {
      if (RingResult r = RefreshHead(); r != RingResult::kOk) return r;
      if (tail_ - head_cache_ == this->capacity()) {
        ++this->stats_.would_block;
        return RingResult::kWouldBlock;
      }
    }
    std::memcpy(this->slot(tail_), &item, sizeof(T));
    ++tail_;
    shared::StoreRelease(&this->producer_->position, tail_);
    ++this->stats_.ops;
    return RingResult::kOk;
  }

  // Pushes as many of `items` as fit, publishing once.
  BurstResult try_push_burst(std::span<const T> items) {
    if (items.empty()) return {};
    uint64_t room = this->capacity() - (tail_ - head_cache_);
    if (room < items.size()) {
      if (RingResult r = RefreshHead(); r != RingResult::kOk) return {0, r};
      room = this->capacity() - (tail_ - head_cache_);
    }
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(room, items.size()));
    if (n == 0) {
      ++this->stats_.would_block;
      return {0, RingResult::kWouldBlock};
    }
    // At most two contiguous runs: up to the end of the slot array, then from 0.
    const uint64_t first = std::min<uint64_t>(n, this->capacity() - (tail_ & this->mask_));
    std::memcpy(this->slot(tail_), items.data(), first * sizeof(T));
    std::memcpy(this->slot(tail_ + first), items.data() + first, (n - first) * sizeof(T));
    tail_ += n;
    shared::StoreRelease(&this->producer_->position, tail_);
    this->stats_.ops += n;
    return {n, n == items.size() ? RingResult::kOk : RingResult::kWouldBlock};
  }

  // Slots free as of the last refresh (a lower bound).
  uint64_t free_slots_hint() const { return this->capacity() - (tail_ - head_cache_); }
  uint64_t position() const { return tail_; }
  // Re-reads the consumer's position now (for waiters); kPeerFault if impossible.
  RingResult Refresh() { return RefreshHead(); }

 private:
  SpscProducer() = default;

  RingResult RefreshHead() {
    const uint64_t head = shared::LoadAcquire(&this->consumer_->position);
    // Honest window: head_cache_ <= head <= tail_. Unsigned differences make
    // "went backwards" a huge number, so one comparison covers both ends.
    if (head - head_cache_ > tail_ - head_cache_) [[unlikely]] {
      this->fault_.Record(this->stats_, FaultKind::kIndexOutOfWindow, "consumer position", head,
                          head_cache_, tail_);
      return RingResult::kPeerFault;
    }
    head_cache_ = head;
    return RingResult::kOk;
  }

  uint64_t tail_ = 0;        // private: slots we have published
  uint64_t head_cache_ = 0;  // last validated consumer position
};

template <RingPayload T>
class SpscConsumer : public spsc_detail::Endpoint<T> {
  using Base = spsc_detail::Endpoint<T>;

 public:
  static absl::StatusOr<SpscConsumer> Attach(std::span<std::byte> span) {
    SpscConsumer c;
    if (absl::Status s = c.Init(span); !s.ok()) return s;
    c.head_ = shared::LoadAcquire(&c.consumer_->position);
    c.tail_cache_ = shared::LoadAcquire(&c.producer_->position);
    if (c.tail_cache_ - c.head_ > c.capacity()) {
      return absl::DataLossError("SPSC ring positions are inconsistent at attach");
    }
    return c;
  }

  RingResult try_pop(T& out) {
    if (head_ == tail_cache_) [[unlikely]] {
      if (RingResult r = RefreshTail(); r != RingResult::kOk) return r;
      if (head_ == tail_cache_) {
        ++this->stats_.would_block;
        return RingResult::kWouldBlock;
      }
    }
    std::memcpy(&out, this->slot(head_), sizeof(T));
    ++head_;
    shared::StoreRelease(&this->consumer_->position, head_);
    ++this->stats_.ops;
    return RingResult::kOk;
  }

  // Pops up to out.size() items, publishing once.
  BurstResult try_pop_burst(std::span<T> out) {
    if (out.empty()) return {};
    uint64_t avail = tail_cache_ - head_;
    if (avail < out.size()) {
      if (RingResult r = RefreshTail(); r != RingResult::kOk) return {0, r};
      avail = tail_cache_ - head_;
    }
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(avail, out.size()));
    if (n == 0) {
      ++this->stats_.would_block;
      return {0, RingResult::kWouldBlock};
    }
    const uint64_t first = std::min<uint64_t>(n, this->capacity() - (head_ & this->mask_));
    std::memcpy(out.data(), this->slot(head_), first * sizeof(T));
    std::memcpy(out.data() + first, this->slot(head_ + first), (n - first) * sizeof(T));
    head_ += n;
    shared::StoreRelease(&this->consumer_->position, head_);
    this->stats_.ops += n;
    return {n, n == out.size() ? RingResult::kOk : RingResult::kWouldBlock};
  }

  // Items ready as of the last refresh (a lower bound).
  uint64_t ready_hint() const { return tail_cache_ - head_; }
  uint64_t position() const { return head_; }
  // Re-reads the producer's position now (for waiters); kPeerFault if impossible.
  RingResult Refresh() { return RefreshTail(); }

 private:
  SpscConsumer() = default;

  RingResult RefreshTail() {
    const uint64_t tail = shared::LoadAcquire(&this->producer_->position);
    // Honest window: tail_cache_ <= tail <= head_ + capacity. Our own head is
    // the private copy: the producer never gets to tell us where we are.
    const uint64_t limit = head_ + this->capacity();
    if (tail - tail_cache_ > limit - tail_cache_) [[unlikely]] {
      this->fault_.Record(this->stats_, FaultKind::kIndexOutOfWindow, "producer position", tail,
                          tail_cache_, limit);
      return RingResult::kPeerFault;
    }
    tail_cache_ = tail;
    return RingResult::kOk;
  }

  uint64_t head_ = 0;        // private: slots we have consumed
  uint64_t tail_cache_ = 0;  // last validated producer position
};

}  // namespace csm
