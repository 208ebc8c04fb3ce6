// Blocking ends of a zero-copy channel: a ChannelProducer or ChannelConsumer
// paired with doorbells, so callers can wait for room or for a message
// instead of polling. Spurious doorbells are absorbed; lost ones cannot
// happen (see wake.h). The non-blocking try_* calls stay available through
// the underlying endpoint.
#pragma once

#include <span>

#include "absl/status/statusor.h"
#include "csm/blocking/wake.h"
#include "csm/doorbell/spin_wait.h"
#include "csm/ring/channel.h"

namespace csm {

class ChannelSender {
 public:
  // `own_bell` is the doorbell this side sleeps on (rung by the receiver
  // when it frees space); `peer_bell` wakes the receiver.
  ChannelSender(ChannelProducer&& producer, Doorbell own_bell, Doorbell peer_bell)
      : producer_(std::move(producer)),
        own_bell_(std::move(own_bell)),
        peer_bell_(std::move(peer_bell)) {}

  // Waits for room for `bytes` and loans it. InvalidArgument if the message
  // can never fit, DeadlineExceeded, or DataLoss if the receiver misbehaves.
  absl::StatusOr<ChannelLoan> Loan(std::size_t bytes, const WaitOptions& wait = {});
  // Publishes the loan's first `bytes` and wakes the receiver if it sleeps.
  absl::Status Commit(const ChannelLoan& loan, std::size_t bytes);
  absl::Status Commit(const ChannelLoan& loan) { return Commit(loan, loan.data.size()); }
  // Copying convenience: Loan, copy, Commit.
  absl::Status Send(std::span<const std::byte> message, const WaitOptions& wait = {});

  ChannelProducer& endpoint() { return producer_; }
  const SpinWaitStats& wait_stats() const { return wait_stats_; }

 private:
  ChannelProducer producer_;
  Doorbell own_bell_;
  Doorbell peer_bell_;
  SpinWaitStats wait_stats_;
};

class ChannelReceiver {
 public:
  ChannelReceiver(ChannelConsumer&& consumer, Doorbell own_bell, Doorbell peer_bell)
      : consumer_(std::move(consumer)),
        own_bell_(std::move(own_bell)),
        peer_bell_(std::move(peer_bell)) {}

  // Waits for the next message and returns a view of it in place.
  // DeadlineExceeded, or DataLoss if the sender misbehaves.
  absl::StatusOr<ChannelMessage> Receive(const WaitOptions& wait = {});
  // Frees `message` (and all received before it) and wakes the sender if it
  // waits for room.
  absl::Status Release(const ChannelMessage& message);

  ChannelConsumer& endpoint() { return consumer_; }
  const SpinWaitStats& wait_stats() const { return wait_stats_; }

 private:
  ChannelConsumer consumer_;
  Doorbell own_bell_;
  Doorbell peer_bell_;
  SpinWaitStats wait_stats_;
};

}  // namespace csm
