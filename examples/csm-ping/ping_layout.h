// How csm-ping lays out its region, and the messages its two sides exchange.
//
//   [0, 4096)        control page: floor words (each on its own 128 bytes)
//   [4096, F)        floor payload area (the largest message, page-rounded)
//   [F, F + A)       channel pinger -> echo (arena: 2x the largest message)
//   [F + A, end)     channel echo -> pinger (acks)
#pragma once

#include <cstddef>
#include <cstdint>

#include "byte_work.h"
#include "csm/ring/channel.h"

namespace csm::ping {

inline constexpr uint64_t kPage = 4096;
inline uint64_t PageRound(uint64_t v) { return (v + kPage - 1) / kPage * kPage; }

inline constexpr uint64_t kControlMagic = 0x31474E4950435343ull;  // "CSCPING1"

// The first page of the region. The echo side (the provider) writes the
// layout once before sharing; the pinger copies and validates it once.
struct ControlPage {
  uint64_t magic;
  uint64_t floor_offset, floor_bytes;
  uint64_t request_offset, request_bytes;
  uint64_t reply_offset, reply_bytes;
  uint8_t pad0[72];
  uint32_t floor_seq;  // pinger -> echo (a futex word in futex mode)
  uint8_t pad1[124];
  uint32_t floor_ack;  // echo -> pinger
  uint32_t pad2;
  uint64_t floor_sum;  // echo's checksum of the floor payload
  uint8_t pad3[112];
};
static_assert(sizeof(ControlPage) == 384);

enum class Kind : uint32_t {
  kPing = 1,   // payload to read; answered by an ack carrying its checksum
  kAck = 2,
  kFloor = 3,  // run `count` floor round trips of `size` bytes (arg: 1 = futex)
  kStop = 4,
};

// Every message starts with this; a ping's remaining bytes are its payload.
struct MessageHeader {
  uint32_t kind;
  uint32_t size;   // whole message bytes (ping) / floor payload bytes
  uint64_t seq;    // round trip number (ping, ack) / count (floor)
  uint64_t value;  // ack: checksum; floor: 1 for futex waits
};
inline constexpr std::size_t kMinMessage = sizeof(MessageHeader);

struct Layout {
  uint64_t floor_offset = kPage;
  uint64_t floor_bytes = 0;
  uint64_t request_offset = 0;  // channel pinger -> echo
  uint64_t request_bytes = 0;
  uint64_t reply_offset = 0;    // channel echo -> pinger
  uint64_t reply_bytes = 0;
  uint64_t request_arena = 0;
  uint64_t reply_arena = 4096;
  uint64_t region_bytes = 0;

  static Layout For(uint64_t max_message) {
    Layout l;
    l.floor_bytes = PageRound(max_message);
    l.request_arena = 65536;
    while (l.request_arena < 2 * (max_message + 8)) l.request_arena *= 2;
    l.request_offset = l.floor_offset + l.floor_bytes;
    l.request_bytes = PageRound(*ChannelBytes(l.request_arena));
    l.reply_offset = l.request_offset + l.request_bytes;
    l.reply_bytes = PageRound(*ChannelBytes(l.reply_arena));
    l.region_bytes = l.reply_offset + l.reply_bytes;
    return l;
  }
};

// The work both sides do on every byte: a sum of 64-bit words (plus the
// tail), so a message is really written and really read (byte_work.h).
inline uint64_t Checksum(const std::byte* p, std::size_t n) {
  const std::size_t words = n & ~std::size_t{7};
  uint64_t sum = tools::SumWords(p, words);
  for (std::size_t i = words; i < n; ++i) sum += static_cast<uint8_t>(p[i]);
  return sum;
}

// Fills a payload: a pattern that differs per round trip.
inline void FillPayload(std::byte* p, std::size_t n, uint64_t seq) { tools::FillPattern(p, n, seq); }

}  // namespace csm::ping
