// The compared ways of moving one message between the two realms, each as a
// sender (driver side: sends data, awaits acks) and a receiver (responder
// side: reads every byte, acks). Every variant does the same byte work: the
// producer writes every byte, the consumer reads every byte (checksum).
//
// Cycles: each Send/Receive returns the counter ticks of its own work, from
// the attempt that found room (or found the message) to publication (or
// release), so waiting for the peer is not counted but the ring's or the
// cipher's work is.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "absl/status/statusor.h"
#include "aead.h"
#include "csm/ring/channel.h"
#include "layout.h"

namespace csm::compare {

std::string_view VariantName(Variant v);  // floor, zero-copy, copy, aes-gcm, chacha20-poly1305
std::string_view ModeName(Mode m);        // pingpong, stream
bool IsSealed(Variant v);

// Everything one side holds: CSM channel ends, the floor's words and slots,
// and (for the sealed variants) channel ends in host-shared memory.
struct Ends {
  ChannelProducer* csm_out = nullptr;  // driver: request; responder: reply
  ChannelConsumer* csm_in = nullptr;   // driver: reply; responder: request
  ChannelProducer* host_out = nullptr;  // null when there is no host-shared memory
  ChannelConsumer* host_in = nullptr;
  ControlPage* control = nullptr;
  std::span<std::byte> floor;
  // Private buffers of the largest message (copy and sealed variants).
  std::span<std::byte> private_out, private_in;
  uint64_t floor_position = 0;    // floor slots this side has published/consumed
  uint64_t floor_head_cache = 0;  // driver: last consumer count it read
};

class DataSender {
 public:
  virtual ~DataSender() = default;
  // Writes message `seq` (`size` bytes) and publishes it; returns its ticks.
  virtual absl::StatusOr<uint64_t> Send(uint64_t seq, uint64_t size) = 0;
  // Waits for the responder's ack of `seq`; returns the checksum it reports.
  virtual absl::StatusOr<uint64_t> AwaitAck(uint64_t seq) = 0;
};

struct Received {
  uint64_t ticks = 0;
  uint64_t sum = 0;
};

class DataReceiver {
 public:
  virtual ~DataReceiver() = default;
  // Waits for the next message (which must be `size` bytes) and reads it.
  virtual absl::StatusOr<Received> Receive(uint64_t size) = 0;
  virtual absl::Status Ack(uint64_t seq, uint64_t sum) = 0;
};

// `key` is used by the sealed variants only. Errors: missing host-shared
// memory, OpenSSL failures.
absl::StatusOr<std::unique_ptr<DataSender>> MakeSender(Variant v, Ends& ends, const AeadKey& key);
absl::StatusOr<std::unique_ptr<DataReceiver>> MakeReceiver(Variant v, Ends& ends,
                                                           const AeadKey& key);

// Per-variant constructors (one file each).
std::unique_ptr<DataSender> MakeFloorSender(Ends& ends);
std::unique_ptr<DataReceiver> MakeFloorReceiver(Ends& ends);
std::unique_ptr<DataSender> MakeChannelSender(Ends& ends, bool zero_copy);
std::unique_ptr<DataReceiver> MakeChannelReceiver(Ends& ends, bool zero_copy);
absl::StatusOr<std::unique_ptr<DataSender>> MakeSealedSender(Ends& ends, AeadKind kind,
                                                             const AeadKey& key);
absl::StatusOr<std::unique_ptr<DataReceiver>> MakeSealedReceiver(Ends& ends, AeadKind kind,
                                                                 const AeadKey& key);

// Waits for the next message on a channel and returns a view of it.
absl::StatusOr<ChannelMessage> AwaitMessage(ChannelConsumer& in, const char* what,
                                            absl::Duration timeout);
// Waits for room and loans `bytes`.
absl::StatusOr<ChannelLoan> AwaitLoan(ChannelProducer& out, std::size_t bytes, const char* what);

}  // namespace csm::compare
