// Bounded multi-producer multi-consumer ring in shared memory.
//
// Protocol (docs/ring-protocol.md, kind kMpmc): the producer line's
// `position` is the enqueue ticket counter shared by all producers, the
// consumer line's the dequeue ticket counter shared by all consumers. Slot
// i = ticket mod capacity starts with a turn word: a producer may fill it for
// ticket t when turn == t (then sets turn = t + 1); a consumer may empty it
// for ticket t when turn == t + 1 (then sets turn = t + capacity, the next
// lap's producer turn). Tickets are claimed by compare-and-swap only once the
// slot is ready, so a claimed ticket is always completed promptly.
//
// Hardening: every party writes the shared counters, so there is no private
// index to keep; instead each turn read is checked against the values honest
// parties can produce for that slot, slot addresses are always masked by our
// private capacity, and every loop has a retry budget so a peer rewriting the
// counters cannot keep us spinning. A peer can stall the ring (for example by
// claiming a ticket and never completing it), never push us outside the span.
//
// An endpoint is a single-threaded object; give each thread its own.
#pragma once

#include <cstring>
#include <span>

#include "absl/status/statusor.h"
#include "csm/ring/ring_header.h"
#include "csm/ring/ring_result.h"
#include "csm/ring/shared_access.h"
#include "csm/ring/spsc_ring.h"  // RingPayload

namespace csm {

template <RingPayload T>
absl::Status FormatMpmcRing(std::span<std::byte> span, uint64_t capacity) {
  absl::StatusOr<RingGeometry> g = PlanRing(wire::RingKind::kMpmc, sizeof(T), capacity);
  if (!g.ok()) return g.status();
  return FormatRing(span, *g);
}

template <RingPayload T>
absl::StatusOr<uint64_t> MpmcRingBytes(uint64_t capacity) {
  absl::StatusOr<RingGeometry> g = PlanRing(wire::RingKind::kMpmc, sizeof(T), capacity);
  if (!g.ok()) return g.status();
  return SpanBytes(*g);
}

// Line-pair aligned (see spsc_ring.h), so endpoints of several threads never
// share a line or an adjacent-line prefetch pair.
template <RingPayload T>
class alignas(wire::kLineSpacing) MpmcEndpoint {
 public:
  // How many times one operation re-reads a counter that others keep moving
  // before reporting kWouldBlock: generous for honest contention, finite
  // against a peer that rewrites the counters forever.
  static constexpr int kRetryBudget = 4096;

  static absl::StatusOr<MpmcEndpoint> Attach(std::span<std::byte> span) {
    absl::StatusOr<RingGeometry> g = AttachRing(span, wire::RingKind::kMpmc, sizeof(T));
    if (!g.ok()) return g.status();
    MpmcEndpoint e;
    e.data_ = span.data() + g->data_offset;
    e.mask_ = g->capacity - 1;
    e.stride_ = g->slot_stride;
    e.enqueue_ = &ProducerLine(span)->position;
    e.dequeue_ = &ConsumerLine(span)->position;
    return e;
  }

  // Tickets are loaded with acquire ordering (and so is a failed CAS's):
  // that orders our turn loads after the turn stores that let earlier
  // tickets be taken, which the lag windows below rely on. Relaxed, the C++
  // model would let us read a turn two laps old and call an honest ring
  // faulty.
  RingResult try_push(const T& item) {
    uint64_t ticket = shared::LoadAcquire(enqueue_);
    for (int attempt = 0; attempt < kRetryBudget; ++attempt) {
      std::byte* s = slot(ticket);
      const uint64_t turn = shared::LoadAcquire(turn_of(s));
      const int64_t lag = static_cast<int64_t>(turn - ticket);
      if (lag == 0) {
        if (shared::CompareExchangeWeak(enqueue_, ticket, ticket + 1)) {
          std::memcpy(s + wire::kSlotSequenceBytes, &item, sizeof(T));
          shared::StoreRelease(turn_of(s), ticket + 1);
          ++stats_.ops;
          return RingResult::kOk;
        }
        continue;  // CAS reloaded `ticket`
      }
      // A lap behind: full (turn = ticket - capacity + 1) or the previous
      // lap's producer still writing (turn = ticket - capacity).
      const int64_t cap = static_cast<int64_t>(capacity());
      if (lag == 1 - cap || lag == -cap) {
        ++stats_.would_block;
        return RingResult::kWouldBlock;
      }
      if (lag < 0 || (lag % cap != 0 && lag % cap != 1)) {
        fault_.Record(stats_, FaultKind::kBadSlotSequence, "slot turn (producer)", turn,
                      ticket - capacity(), ticket);
        return RingResult::kPeerFault;
      }
      ticket = shared::LoadAcquire(enqueue_);  // others got ahead of our ticket
    }
    ++stats_.retry_exhausted;
    ++stats_.would_block;
    return RingResult::kWouldBlock;
  }

  RingResult try_pop(T& out) {
    uint64_t ticket = shared::LoadAcquire(dequeue_);
    for (int attempt = 0; attempt < kRetryBudget; ++attempt) {
      std::byte* s = slot(ticket);
      const uint64_t turn = shared::LoadAcquire(turn_of(s));
      const int64_t lag = static_cast<int64_t>(turn - (ticket + 1));
      if (lag == 0) {
        if (shared::CompareExchangeWeak(dequeue_, ticket, ticket + 1)) {
          std::memcpy(&out, s + wire::kSlotSequenceBytes, sizeof(T));
          shared::StoreRelease(turn_of(s), ticket + capacity());
          ++stats_.ops;
          return RingResult::kOk;
        }
        continue;
      }
      // Empty (turn = ticket: not yet written) or the previous lap's consumer
      // still reading (turn = ticket + 1 - capacity).
      const int64_t cap = static_cast<int64_t>(capacity());
      if (lag == -1 || lag == -cap) {
        ++stats_.would_block;
        return RingResult::kWouldBlock;
      }
      if (lag < 0 || (lag % cap != 0 && lag % cap != cap - 1)) {
        fault_.Record(stats_, FaultKind::kBadSlotSequence, "slot turn (consumer)", turn,
                      ticket + 1 - capacity(), ticket + 1);
        return RingResult::kPeerFault;
      }
      ticket = shared::LoadAcquire(dequeue_);
    }
    ++stats_.retry_exhausted;
    ++stats_.would_block;
    return RingResult::kWouldBlock;
  }

  uint64_t capacity() const { return mask_ + 1; }
  const RingStats& stats() const { return stats_; }
  absl::Status last_fault() const { return fault_.ToStatus(); }

 private:
  MpmcEndpoint() = default;
  std::byte* slot(uint64_t ticket) const { return data_ + (ticket & mask_) * stride_; }
  static uint64_t* turn_of(std::byte* s) { return reinterpret_cast<uint64_t*>(s); }

  std::byte* data_ = nullptr;
  uint64_t mask_ = 0;
  uint64_t stride_ = 0;
  uint64_t* enqueue_ = nullptr;  // shared ticket counters
  uint64_t* dequeue_ = nullptr;
  RingStats stats_;
  FaultRecord fault_;
};

}  // namespace csm
