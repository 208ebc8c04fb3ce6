// The two sides of csm-ping over one region: the pinger sends messages and
// times round trips; the echo reads every byte and acknowledges with a
// checksum. Either side treats the other as untrusted: every header is
// copied out of shared memory once and checked before use.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "csm/blocking/channel_endpoints.h"
#include "csm/doorbell/doorbell.h"
#include "ping_layout.h"

namespace csm::ping {

enum class Mode { kSpin, kDoorbell, kAdaptive };
enum class FloorKind { kNone, kAtomic, kFutex };

// The doorbells one side holds: two fds of its own bell (one per channel
// end that may sleep) and two of the peer's.
struct Bells {
  Doorbell mine_for_sender, mine_for_receiver;
  Doorbell peer_for_sender, peer_for_receiver;
};

class Pinger {
 public:
  // Reads the layout the echo side published, once, and attaches.
  static absl::StatusOr<Pinger> Attach(std::span<std::byte> region, Bells bells);

  // `count` timed round trips (after `warmup` untimed ones) of `size`-byte
  // messages; returns one latency in nanoseconds per round trip.
  absl::StatusOr<std::vector<uint64_t>> RunChannel(uint64_t size, uint64_t warmup, uint64_t count,
                                                   Mode mode, uint32_t spin_budget);
  // The same work with no channel: `size` bytes written and read, one word
  // each way, spinning (kAtomic) or sleeping in futex waits (kFutex).
  absl::StatusOr<std::vector<uint64_t>> RunFloor(uint64_t size, uint64_t warmup, uint64_t count,
                                                 FloorKind kind);
  absl::Status Stop();
  uint64_t max_message() const { return max_message_; }
  // Futex floor: timed round trips, and those on which this side's wait for
  // the answer really slept (the rest found it already there). Reset by
  // TakeFloorWaits.
  struct FloorWaits {
    uint64_t round_trips = 0, slept = 0;
  };
  FloorWaits TakeFloorWaits() { return std::exchange(floor_waits_, FloorWaits{}); }

 private:
  Pinger(ChannelSender s, ChannelReceiver r) : sender_(std::move(s)), receiver_(std::move(r)) {}
  absl::Status RoundTrip(uint64_t size, uint64_t seq, Mode mode, const WaitOptions& wait);
  absl::Status RoundTripSpin(uint64_t size, uint64_t seq);
  absl::Status Send(const MessageHeader& header, uint64_t size, Mode mode, const WaitOptions& wait);
  absl::StatusOr<MessageHeader> ReceiveAck(Mode mode, const WaitOptions& wait);

  ChannelSender sender_;
  ChannelReceiver receiver_;
  ControlPage* control_ = nullptr;
  std::span<std::byte> floor_;
  uint64_t max_message_ = 0;
  uint64_t seq_ = 0;
  uint64_t floor_seq_ = 0;
  FloorWaits floor_waits_;
};

// Lays out `region` (the provider's fresh mapping) for messages up to
// `max_message` bytes and publishes the layout for the pinger. Fails if the
// region is too small.
absl::Status FormatRegion(std::span<std::byte> region, const Layout& layout);

// Echoes until the pinger says stop (OK), or a peer fault / timeout.
// `layout` is the echo's private copy (the control page is writable by the
// pinger, so it is never read back). `idle_timeout` bounds how long it waits
// for any message.
absl::Status RunEcho(std::span<std::byte> region, const Layout& layout, Bells bells,
                     absl::Duration idle_timeout);

}  // namespace csm::ping
