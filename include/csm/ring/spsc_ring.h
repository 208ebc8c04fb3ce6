// Single-producer single-consumer ring of fixed-size slots in shared memory.
//
// Protocol (docs/ring-protocol.md, kind kSpsc): slot i lives at
// data + (i mod capacity) * stride and starts with a sequence word; the
// producer writes the payload, then sets the word to i + 1 (release). The
// consumer polls the word of the slot it expects next, so an item crosses
// between cores in one cache line, with no separate index to fetch. The
// consumer publishes its position (slots read) for the producer, which
// caches it and reloads it only when the ring looks full (the rigtorp trick).
// The producer also publishes its position (release, after the slots): a
// consumer's bursts use it to take many ready slots at once.
//
// Hardening: each side keeps its own position privately. A sequence word
// must be i + 1 (ready), i + 1 - capacity (last lap's item, not yet
// replaced) or 0 (first lap); a reloaded consumer position must lie in
// [last seen, our position]; a reloaded producer position must lie in
// [last seen, our position + capacity]. Anything else is counted, recorded and returned
// as kPeerFault. Slot addresses come from a private position masked by the
// private capacity, so they are always inside the span.
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
concept RingPayload = std::is_trivially_copyable_v<T> && alignof(T) <= wire::kSlotSequenceBytes &&
                      sizeof(T) <= wire::kMaxSlotBytes;

namespace spsc_detail {

// State both endpoints share the shape of: private geometry and line pointers.
// Aligned to a line pair (kLineSpacing): an endpoint's private state is
// written on every operation, so a producer and a consumer object placed side
// by side (two threads of one process) must not share a line, nor the pair
// of lines the adjacent-line prefetcher fetches together.
template <typename T>
class alignas(wire::kLineSpacing) Endpoint {
 public:
  using value_type = T;
  uint64_t capacity() const { return mask_ + 1; }
  const RingStats& stats() const { return stats_; }
  absl::Status last_fault() const { return fault_.ToStatus(); }
  // The waiting flags for the doorbell layer (docs/ring-protocol.md).
  wire::IndexLine* producer_line() const { return producer_; }
  wire::IndexLine* consumer_line() const { return consumer_; }

 protected:
  Endpoint() = default;
  absl::Status Init(std::span<std::byte> span, wire::RingKind kind = wire::RingKind::kSpsc) {
    absl::StatusOr<RingGeometry> g = AttachRing(span, kind, sizeof(T));
    if (!g.ok()) return g.status();
    data_ = span.data() + g->data_offset;
    mask_ = g->capacity - 1;
    stride_ = g->slot_stride;
    producer_ = ProducerLine(span);
    consumer_ = ConsumerLine(span);
    return absl::OkStatus();
  }
  std::byte* slot(uint64_t position) const { return data_ + (position & mask_) * stride_; }
  static uint64_t* sequence(std::byte* slot) { return reinterpret_cast<uint64_t*>(slot); }
  static std::byte* payload(std::byte* slot) { return slot + wire::kSlotSequenceBytes; }

  std::byte* data_ = nullptr;
  uint64_t mask_ = 0;
  uint64_t stride_ = 0;
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

 public:
  // Attaches to a formatted ring. The starting positions are the only shared
  // values taken on trust, and only if they are mutually consistent.
  static absl::StatusOr<SpscProducer> Attach(std::span<std::byte> span) {
    SpscProducer p;
    if (absl::Status s = p.Init(span); !s.ok()) return s;
    p.tail_ = shared::LoadAcquire(&p.producer_->position);
    p.head_cache_ = shared::LoadAcquire(&p.consumer_->position);
    // A producer that died between a slot's word and its position left
    // items committed past the position (the consumer may have taken them):
    // resume after them. At most `capacity` steps.
    const uint64_t published = p.tail_;
    while (p.tail_ - published < p.capacity() &&
           shared::LoadAcquire(p.sequence(p.slot(p.tail_))) == p.tail_ + 1) {
      ++p.tail_;
    }
    if (p.tail_ - p.head_cache_ > p.capacity()) {
      return absl::DataLossError("SPSC ring positions are inconsistent at attach");
    }
    if (p.tail_ != published) shared::StoreRelease(&p.producer_->position, p.tail_);
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
    Write(tail_, item);
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
    for (std::size_t i = 0; i < n; ++i) Write(tail_ + i, items[i]);
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

  void Write(uint64_t position, const T& item) {
    std::byte* s = this->slot(position);
    std::memcpy(this->payload(s), &item, sizeof(T));
    shared::StoreRelease(this->sequence(s), position + 1);  // commits the payload
  }

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

 public:
  // Attaches to a formatted ring, starting at the consumer position found
  // there (taken on trust once; it is this side's own line).
  static absl::StatusOr<SpscConsumer> Attach(std::span<std::byte> span) {
    SpscConsumer c;
    if (absl::Status s = c.Init(span); !s.ok()) return s;
    c.head_ = c.tail_cache_ = c.published_ = shared::LoadAcquire(&c.consumer_->position);
    return c;
  }

  RingResult try_pop(T& out) {
    std::byte* s = this->slot(head_);
    if (RingResult r = Check(s, head_); r != RingResult::kOk) [[unlikely]] {
      if (r == RingResult::kWouldBlock) ++this->stats_.would_block;
      return r;
    }
    std::memcpy(&out, this->payload(s), sizeof(T));
    ++head_;
    if (tail_cache_ < head_) tail_cache_ = head_;  // keep the burst window honest
    shared::StoreRelease(&this->consumer_->position, head_);
    ++this->stats_.ops;
    return RingResult::kOk;
  }

  // Pops up to out.size() items, publishing once. Bursts are for
  // throughput: they take as many items as the producer's published
  // position says are ready (refreshing it only when the cached value runs
  // out), so the consumer reads only lines the producer has finished with
  // instead of polling the one it is writing.
  BurstResult try_pop_burst(std::span<T> out) {
    if (out.empty()) return {};
    if (tail_cache_ - head_ < out.size()) {
      if (RingResult r = RefreshTail(); r != RingResult::kOk) return {0, r};
    }
    const std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(tail_cache_ - head_, out.size()));
    if (n == 0) {
      ++this->stats_.would_block;
      return {0, RingResult::kWouldBlock};
    }
    // The validated position vouches for these slots (its acquire load
    // ordered their payloads); slot addresses stay masked, so a lying
    // producer can only hand us its own bytes.
    for (std::size_t i = 0; i < n; ++i) std::memcpy(&out[i], this->payload(this->slot(head_ + i)), sizeof(T));
    head_ += n;
    shared::StoreRelease(&this->consumer_->position, head_);
    this->stats_.ops += n;
    return {n, n == out.size() ? RingResult::kOk : RingResult::kWouldBlock};
  }

  // True if the next item is ready now (for waiters; faults count as ready
  // so the caller's next pop reports them).
  bool ready() {
    return Check(this->slot(head_), head_) != RingResult::kWouldBlock;
  }
  uint64_t position() const { return head_; }

 private:
  SpscConsumer() = default;

  // Reads the slot's sequence word once: ready, not yet, or impossible.
  RingResult Check(std::byte* s, uint64_t position) {
    const uint64_t seq = shared::LoadAcquire(this->sequence(s));
    if (seq == position + 1) return RingResult::kOk;
    // Not yet written this lap: last lap's item, or never written at all.
    if (seq == position + 1 - this->capacity() || (seq == 0 && position < this->capacity())) {
      return RingResult::kWouldBlock;
    }
    this->fault_.Record(this->stats_, FaultKind::kBadSlotSequence, "slot sequence", seq,
                        position + 1 - this->capacity(), position + 1);
    return RingResult::kPeerFault;
  }

  // Re-reads the producer's position: it may not go backwards from the last
  // value read, nor run more than `capacity` ahead of what we have consumed.
  // It may trail our own position: the producer stores a slot's word before
  // its position, and try_pop takes items on their words.
  RingResult RefreshTail() {
    const uint64_t tail = shared::LoadAcquire(&this->producer_->position);
    const uint64_t limit = head_ + this->capacity();
    if (tail - published_ > limit - published_) [[unlikely]] {
      this->fault_.Record(this->stats_, FaultKind::kIndexOutOfWindow, "producer position", tail,
                          published_, limit);
      return RingResult::kPeerFault;
    }
    published_ = tail;
    tail_cache_ = std::max(tail, head_);
    return RingResult::kOk;
  }

  uint64_t head_ = 0;        // private: slots we have consumed
  uint64_t tail_cache_ = 0;  // ready up to here: max(published_, head_) (bursts only)
  uint64_t published_ = 0;   // last validated producer position
};

}  // namespace csm
