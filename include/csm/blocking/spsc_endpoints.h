// Blocking ends of an SPSC ring, sequenced (SpscProducer / SpscConsumer) or
// packed (PackedSpscProducer / PackedSpscConsumer), paired with doorbells
// (see wake.h for why no wakeup is lost: both layouts publish with a release
// store the waiter's re-check reads, which is all the protocol needs).
#pragma once

#include "absl/status/statusor.h"
#include "csm/blocking/wake.h"
#include "csm/doorbell/spin_wait.h"
#include "csm/ring/spsc_packed_ring.h"
#include "csm/ring/spsc_ring.h"

namespace csm {

template <typename Producer>
class SpscSenderOf {
 public:
  using T = typename Producer::value_type;
  // `own_bell` wakes us when the receiver frees slots; `peer_bell` wakes it.
  SpscSenderOf(Producer&& producer, Doorbell own_bell, Doorbell peer_bell)
      : producer_(std::move(producer)), own_(std::move(own_bell)), peer_(std::move(peer_bell)) {}

  // Waits for a free slot and pushes. DeadlineExceeded, or DataLoss if the
  // receiver misbehaves.
  absl::Status Push(const T& item, const WaitOptions& wait = {}) {
    RingResult r = producer_.try_push(item);
    if (r == RingResult::kWouldBlock) {
      absl::Status waited = SpinThenWait(
          own_, [&] { return (r = producer_.try_push(item)) != RingResult::kWouldBlock; },
          [&] { ArmWaiting(producer_.producer_line()); },
          [&] { DisarmWaiting(producer_.producer_line()); }, {wait.spin_budget, wait.timeout},
          &wait_stats_);
      if (!waited.ok()) return waited;
    }
    if (r != RingResult::kOk) return producer_.last_fault();
    WakePeerIfWaiting(producer_.consumer_line(), peer_);
    return absl::OkStatus();
  }

  Producer& endpoint() { return producer_; }
  const SpinWaitStats& wait_stats() const { return wait_stats_; }

 private:
  Producer producer_;
  Doorbell own_, peer_;
  SpinWaitStats wait_stats_;
};

template <typename Consumer>
class SpscReceiverOf {
 public:
  using T = typename Consumer::value_type;
  SpscReceiverOf(Consumer&& consumer, Doorbell own_bell, Doorbell peer_bell)
      : consumer_(std::move(consumer)), own_(std::move(own_bell)), peer_(std::move(peer_bell)) {}

  // Waits for an item and pops it. DeadlineExceeded, or DataLoss if the
  // sender misbehaves.
  absl::StatusOr<T> Pop(const WaitOptions& wait = {}) {
    T item;
    RingResult r = consumer_.try_pop(item);
    if (r == RingResult::kWouldBlock) {
      absl::Status waited = SpinThenWait(
          own_, [&] { return (r = consumer_.try_pop(item)) != RingResult::kWouldBlock; },
          [&] { ArmWaiting(consumer_.consumer_line()); },
          [&] { DisarmWaiting(consumer_.consumer_line()); }, {wait.spin_budget, wait.timeout},
          &wait_stats_);
      if (!waited.ok()) return waited;
    }
    if (r != RingResult::kOk) return consumer_.last_fault();
    WakePeerIfWaiting(consumer_.producer_line(), peer_);
    return item;
  }

  Consumer& endpoint() { return consumer_; }
  const SpinWaitStats& wait_stats() const { return wait_stats_; }

 private:
  Consumer consumer_;
  Doorbell own_, peer_;
  SpinWaitStats wait_stats_;
};

template <RingPayload T>
using SpscSender = SpscSenderOf<SpscProducer<T>>;
template <RingPayload T>
using SpscReceiver = SpscReceiverOf<SpscConsumer<T>>;
template <RingPayload T>
using PackedSpscSender = SpscSenderOf<PackedSpscProducer<T>>;
template <RingPayload T>
using PackedSpscReceiver = SpscReceiverOf<PackedSpscConsumer<T>>;

}  // namespace csm
