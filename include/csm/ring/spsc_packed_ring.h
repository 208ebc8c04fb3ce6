// Packed SPSC ring: fixed-size slots holding nothing but the payload, for
// streams of small items moved in bursts.
//
// Protocol (docs/ring-protocol.md, kind kSpscPacked): slot i lives at
// data + (i mod capacity) * stride, stride = sizeof(T) rounded up to 8. There
// is no per-slot sequence word: the consumer learns what is ready from the
// producer's published position, the producer what is free from the
// consumer's, and each caches the other's and reloads it only when its copy
// runs out. A burst of 32 16-byte items then moves 8 payload lines between
// cores, where the sequenced ring (spsc_ring.h) moves 12: that ring is the one for
// latency (an item arrives in the line that holds it, no index to fetch),
// this one for throughput (measured in bench/spsc_throughput_bench.cc).
//
// Hardening: each side keeps its own position privately; a reloaded producer
// position must lie in [last seen, our position + capacity], a reloaded
// consumer position in [last seen, our position]. Anything else is counted,
// recorded and returned as kPeerFault. Slot addresses come from a private
// position masked by the private capacity, so they are always inside the span.
//
// Endpoints are single-threaded objects: one per side, not shared by threads.
#pragma once

#include <algorithm>
#include <cstring>
#include <span>

#include "csm/ring/spsc_ring.h"

namespace csm {

// Creates a packed SPSC ring of `capacity` slots of T in `span` (64-byte aligned).
template <RingPayload T>
absl::Status FormatPackedSpscRing(std::span<std::byte> span, uint64_t capacity) {
  absl::StatusOr<RingGeometry> g = PlanRing(wire::RingKind::kSpscPacked, sizeof(T), capacity);
  if (!g.ok()) return g.status();
  return FormatRing(span, *g);
}

// Bytes of span a packed SPSC ring of `capacity` slots of T needs.
template <RingPayload T>
absl::StatusOr<uint64_t> PackedSpscRingBytes(uint64_t capacity) {
  absl::StatusOr<RingGeometry> g = PlanRing(wire::RingKind::kSpscPacked, sizeof(T), capacity);
  if (!g.ok()) return g.status();
  return SpanBytes(*g);
}

namespace spsc_detail {

// Copies n items into / out of the slots from `position` on: at most two
// memcpys (split at the wrap) when slots are exactly T, else one per item.
template <typename T>
void CopyIntoSlots(std::byte* data, uint64_t mask, uint64_t stride, uint64_t position,
                   const T* items, std::size_t n) {
  if constexpr (sizeof(T) % 8 == 0) {
    const std::size_t first = static_cast<std::size_t>(std::min<uint64_t>(n, mask + 1 - (position & mask)));
    std::memcpy(data + (position & mask) * sizeof(T), items, first * sizeof(T));
    std::memcpy(data, items + first, (n - first) * sizeof(T));
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      std::memcpy(data + ((position + i) & mask) * stride, &items[i], sizeof(T));
    }
  }
}

template <typename T>
void CopyOutOfSlots(const std::byte* data, uint64_t mask, uint64_t stride, uint64_t position,
                    T* items, std::size_t n) {
  if constexpr (sizeof(T) % 8 == 0) {
    const std::size_t first = static_cast<std::size_t>(std::min<uint64_t>(n, mask + 1 - (position & mask)));
    std::memcpy(items, data + (position & mask) * sizeof(T), first * sizeof(T));
    std::memcpy(items + first, data, (n - first) * sizeof(T));
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      std::memcpy(&items[i], data + ((position + i) & mask) * stride, sizeof(T));
    }
  }
}

}  // namespace spsc_detail

template <RingPayload T>
class PackedSpscProducer : public spsc_detail::Endpoint<T> {
 public:
  // Attaches to a formatted ring. The starting positions are the only shared
  // values taken on trust, and only if they are mutually consistent.
  static absl::StatusOr<PackedSpscProducer> Attach(std::span<std::byte> span) {
    PackedSpscProducer p;
    if (absl::Status s = p.Init(span, wire::RingKind::kSpscPacked); !s.ok()) return s;
    p.tail_ = shared::LoadAcquire(&p.producer_->position);
    p.head_cache_ = shared::LoadAcquire(&p.consumer_->position);
    if (p.tail_ - p.head_cache_ > p.capacity()) {
      return absl::DataLossError("packed SPSC ring positions are inconsistent at attach");
    }
    return p;
  }

  RingResult try_push(const T& item) {
    return try_push_burst(std::span<const T>(&item, 1)).result;
  }

  // Pushes as many of `items` as fit, publishing once.
  BurstResult try_push_burst(std::span<const T> items) {
    if (items.empty()) return {};
    uint64_t room = this->capacity() - (tail_ - head_cache_);
    if (room < items.size()) [[unlikely]] {
      if (RingResult r = RefreshHead(); r != RingResult::kOk) return {0, r};
      room = this->capacity() - (tail_ - head_cache_);
      if (room == 0) {
        ++this->stats_.would_block;
        return {0, RingResult::kWouldBlock};
      }
    }
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(room, items.size()));
    spsc_detail::CopyIntoSlots(this->data_, this->mask_, this->stride_, tail_, items.data(), n);
    tail_ += n;
    shared::StoreRelease(&this->producer_->position, tail_);  // commits the slots
    this->stats_.ops += n;
    return {n, n == items.size() ? RingResult::kOk : RingResult::kWouldBlock};
  }

  // Slots free as of the last refresh (a lower bound).
  uint64_t free_slots_hint() const { return this->capacity() - (tail_ - head_cache_); }
  uint64_t position() const { return tail_; }
  // Re-reads the consumer's position now (for waiters); kPeerFault if impossible.
  RingResult Refresh() { return RefreshHead(); }

 private:
  PackedSpscProducer() = default;

  RingResult RefreshHead() {
    const uint64_t head = shared::LoadAcquire(&this->consumer_->position);
    // Honest window: head_cache_ <= head <= tail_ (unsigned differences make
    // "went backwards" huge, so one comparison covers both ends).
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
class PackedSpscConsumer : public spsc_detail::Endpoint<T> {
 public:
  // Attaches to a formatted ring, starting at the consumer position found
  // there (taken on trust once; it is this side's own line).
  static absl::StatusOr<PackedSpscConsumer> Attach(std::span<std::byte> span) {
    PackedSpscConsumer c;
    if (absl::Status s = c.Init(span, wire::RingKind::kSpscPacked); !s.ok()) return s;
    c.head_ = c.tail_cache_ = shared::LoadAcquire(&c.consumer_->position);
    return c;
  }

  RingResult try_pop(T& out) { return try_pop_burst(std::span<T>(&out, 1)).result; }

  // Pops up to out.size() items, publishing once.
  BurstResult try_pop_burst(std::span<T> out) {
    if (out.empty()) return {};
    if (tail_cache_ - head_ < out.size()) {
      if (RingResult r = RefreshTail(); r != RingResult::kOk) return {0, r};
      if (tail_cache_ == head_) {
        ++this->stats_.would_block;
        return {0, RingResult::kWouldBlock};
      }
    }
    // The validated position vouches for these slots (its acquire load
    // ordered their payloads); slot addresses stay masked, so a lying
    // producer can only hand us its own bytes.
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(tail_cache_ - head_, out.size()));
    spsc_detail::CopyOutOfSlots(this->data_, this->mask_, this->stride_, head_, out.data(), n);
    head_ += n;
    shared::StoreRelease(&this->consumer_->position, head_);  // frees the slots
    this->stats_.ops += n;
    return {n, n == out.size() ? RingResult::kOk : RingResult::kWouldBlock};
  }

  // True if an item is ready now (for waiters; faults count as ready so the
  // caller's next pop reports them).
  bool ready() {
    if (tail_cache_ != head_) return true;
    return RefreshTail() != RingResult::kOk || tail_cache_ != head_;
  }
  uint64_t position() const { return head_; }

 private:
  PackedSpscConsumer() = default;

  // Re-reads the producer's position: it may not go backwards, nor more
  // than `capacity` ahead of what we have consumed.
  RingResult RefreshTail() {
    const uint64_t tail = shared::LoadAcquire(&this->producer_->position);
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
