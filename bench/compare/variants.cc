#include "variants.h"

#include "spin.h"

namespace csm::compare {

std::string_view ModeName(Mode m) { return m == Mode::kPingPong ? "pingpong" : "stream"; }

std::string_view VariantName(Variant v) {
  switch (v) {
    case Variant::kFloor: return "floor";
    case Variant::kZeroCopy: return "zero-copy";
    case Variant::kCopy: return "copy";
    case Variant::kAesGcm: return "aes-gcm";
    case Variant::kChaCha: return "chacha20-poly1305";
  }
  return "?";
}

bool IsSealed(Variant v) { return v == Variant::kAesGcm || v == Variant::kChaCha; }

absl::StatusOr<std::unique_ptr<DataSender>> MakeSender(Variant v, Ends& ends, const AeadKey& key) {
  switch (v) {
    case Variant::kFloor: return MakeFloorSender(ends);
    case Variant::kZeroCopy: return MakeChannelSender(ends, true);
    case Variant::kCopy: return MakeChannelSender(ends, false);
    case Variant::kAesGcm: return MakeSealedSender(ends, AeadKind::kAes256Gcm, key);
    case Variant::kChaCha: return MakeSealedSender(ends, AeadKind::kChaCha20Poly1305, key);
  }
  return absl::InvalidArgumentError("unknown variant");
}

absl::StatusOr<std::unique_ptr<DataReceiver>> MakeReceiver(Variant v, Ends& ends,
                                                           const AeadKey& key) {
  switch (v) {
    case Variant::kFloor: return MakeFloorReceiver(ends);
    case Variant::kZeroCopy: return MakeChannelReceiver(ends, true);
    case Variant::kCopy: return MakeChannelReceiver(ends, false);
    case Variant::kAesGcm: return MakeSealedReceiver(ends, AeadKind::kAes256Gcm, key);
    case Variant::kChaCha: return MakeSealedReceiver(ends, AeadKind::kChaCha20Poly1305, key);
  }
  return absl::InvalidArgumentError("unknown variant");
}

absl::StatusOr<ChannelMessage> AwaitMessage(ChannelConsumer& in, const char* what,
                                            absl::Duration timeout) {
  ChannelMessage m;
  RingResult r = RingResult::kWouldBlock;
  absl::Status s =
      SpinUntil([&] { return (r = in.try_receive(m)) != RingResult::kWouldBlock; }, what, timeout);
  if (!s.ok()) return s;
  if (r != RingResult::kOk) return in.last_fault();
  return m;
}

absl::StatusOr<ChannelLoan> AwaitLoan(ChannelProducer& out, std::size_t bytes, const char* what) {
  ChannelLoan loan;
  RingResult r = RingResult::kWouldBlock;
  absl::Status s =
      SpinUntil([&] { return (r = out.try_loan(bytes, loan)) != RingResult::kWouldBlock; }, what);
  if (!s.ok()) return s;
  if (r == RingResult::kTooLarge) {
    return absl::InvalidArgumentError(absl::StrFormat("%d bytes do not fit the channel", bytes));
  }
  if (r != RingResult::kOk) return out.last_fault();
  return loan;
}

}  // namespace csm::compare
