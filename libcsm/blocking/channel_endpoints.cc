#include "csm/blocking/channel_endpoints.h"

#include <cstring>

#include "absl/strings/str_format.h"

namespace csm {
namespace {

SpinWaitOptions ToSpinWait(const WaitOptions& w) { return {w.spin_budget, w.timeout}; }

}  // namespace

absl::StatusOr<ChannelLoan> ChannelSender::Loan(std::size_t bytes, const WaitOptions& wait) {
  ChannelLoan loan;
  // A loan that must wrap publishes a padding record first; the receiver may
  // be asleep and must wake to step over it, or we would wait for room
  // forever.
  auto try_loan = [&] {
    const uint64_t before = producer_.position();
    const RingResult r = producer_.try_loan(bytes, loan);
    if (producer_.position() != before) WakePeerIfWaiting(producer_.consumer_line(), peer_bell_);
    return r;
  };
  RingResult result = try_loan();
  if (result == RingResult::kWouldBlock) {
    absl::Status waited = SpinThenWait(
        own_bell_,
        [&] {
          result = try_loan();
          return result != RingResult::kWouldBlock;
        },
        [&] { ArmWaiting(producer_.producer_line()); },
        [&] { DisarmWaiting(producer_.producer_line()); }, ToSpinWait(wait), &wait_stats_);
    if (!waited.ok()) return waited;
  }
  switch (result) {
    case RingResult::kOk: return loan;
    case RingResult::kTooLarge:
      return absl::InvalidArgumentError(absl::StrFormat(
          "message of %d bytes exceeds the channel's maximum of %d", bytes,
          producer_.max_message_bytes()));
    case RingResult::kPeerFault: return producer_.last_fault();
    case RingResult::kWouldBlock: break;
  }
  return absl::InternalError("channel loan ended in an impossible state");
}

absl::Status ChannelSender::Commit(const ChannelLoan& loan, std::size_t bytes) {
  absl::Status s = producer_.commit(loan, bytes);
  if (s.ok()) WakePeerIfWaiting(producer_.consumer_line(), peer_bell_);
  return s;
}

absl::Status ChannelSender::Send(std::span<const std::byte> message, const WaitOptions& wait) {
  absl::StatusOr<ChannelLoan> loan = Loan(message.size(), wait);
  if (!loan.ok()) return loan.status();
  if (!message.empty()) std::memcpy(loan->data.data(), message.data(), message.size());
  return Commit(*loan);
}

absl::StatusOr<ChannelMessage> ChannelReceiver::Receive(const WaitOptions& wait) {
  ChannelMessage message;
  // Stepping over padding releases it; the sender may be asleep waiting for
  // exactly that room.
  auto try_receive = [&] {
    const uint64_t before = consumer_.position();
    const RingResult r = consumer_.try_receive(message);
    if (consumer_.position() != before) WakePeerIfWaiting(consumer_.producer_line(), peer_bell_);
    return r;
  };
  RingResult result = try_receive();
  if (result == RingResult::kWouldBlock) {
    absl::Status waited = SpinThenWait(
        own_bell_,
        [&] {
          result = try_receive();
          return result != RingResult::kWouldBlock;
        },
        [&] { ArmWaiting(consumer_.consumer_line()); },
        [&] { DisarmWaiting(consumer_.consumer_line()); }, ToSpinWait(wait), &wait_stats_);
    if (!waited.ok()) return waited;
  }
  if (result == RingResult::kOk) return message;
  return consumer_.last_fault();
}

absl::Status ChannelReceiver::Release(const ChannelMessage& message) {
  absl::Status s = consumer_.release(message);
  if (s.ok()) WakePeerIfWaiting(consumer_.producer_line(), peer_bell_);
  return s;
}

}  // namespace csm
