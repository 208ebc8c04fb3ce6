// How csm-compare lays out its CSM region and its host-shared memory, and
// the small messages its two sides exchange to run the measurements.
//
// CSM region (the responder provides it, the driver attaches):
//   [0, 4096)      control page: layout, floor words (each on its own line)
//   floor area     the floor's slot ring (as large as the request arena)
//   request        channel driver -> responder (commands, and data for the
//                  zero-copy and copy variants)
//   reply          channel responder -> driver (acks, run summaries)
// Host-shared memory (plain memory the host can read: see host_shared.h):
//   [0, 4096)      magic and a cookie that must match the control page's
//   to responder   channel carrying sealed messages
//   to driver      channel carrying sealed acks
#pragma once

#include <cstddef>
#include <cstdint>

#include "aead.h"
#include "byte_work.h"
#include "csm/ring/channel.h"

namespace csm::compare {

inline constexpr uint64_t kPage = 4096;
inline uint64_t PageRound(uint64_t v) { return (v + kPage - 1) / kPage * kPage; }
inline constexpr uint64_t kControlMagic = 0x31504D4F43435343ull;  // "CSCCOMP1"
inline constexpr uint64_t kHostMagic = 0x3154534F48435343ull;     // "CSCHOST1"
inline constexpr uint64_t kReplyArena = 65536;

enum class Variant : uint32_t { kFloor = 1, kZeroCopy, kCopy, kAesGcm, kChaCha };
enum class Mode : uint32_t { kPingPong = 1, kStream };

// Lines written by one side only, 128 bytes apart (no shared prefetch pair).
struct alignas(128) FloorLine {
  uint64_t value;  // driver: slots published; responder: slots consumed / ack seq
  uint64_t sum;    // responder: checksum of the acknowledged slot
};

struct ControlPage {
  uint64_t magic;
  uint64_t cookie;  // also in the host-shared header: both map the same memory
  uint64_t floor_offset, floor_bytes;
  uint64_t request_offset, request_bytes, request_arena;
  uint64_t reply_offset, reply_bytes;
  uint64_t host_bytes;  // host-shared memory needed
  uint64_t host_request_offset, host_request_bytes;
  uint64_t host_reply_offset, host_reply_bytes;
  FloorLine floor_tail;  // driver
  FloorLine floor_head;  // responder
  FloorLine floor_ack;   // responder
};
static_assert(sizeof(ControlPage) <= kPage);

struct HostHeader {
  uint64_t magic;
  uint64_t cookie;
};

struct Layout {
  uint64_t floor_offset = kPage, floor_bytes = 0;
  uint64_t request_offset = 0, request_bytes = 0, request_arena = 0;
  uint64_t reply_offset = 0, reply_bytes = 0;
  uint64_t region_bytes = 0;
  uint64_t host_request_offset = kPage, host_request_bytes = 0;
  uint64_t host_reply_offset = 0, host_reply_bytes = 0;
  uint64_t host_bytes = 0;

  // Every message of up to `max_message` bytes (sealed, too) fits twice in
  // the request arena, so streaming always has one in flight while one is read.
  static Layout For(uint64_t max_message) {
    Layout l;
    l.request_arena = 65536;
    while (l.request_arena < 2 * (SealedBytes(max_message) + 128)) l.request_arena *= 2;
    const uint64_t channel = PageRound(*ChannelBytes(l.request_arena));
    const uint64_t reply = PageRound(*ChannelBytes(kReplyArena));
    l.floor_bytes = l.request_arena;
    l.request_offset = l.floor_offset + l.floor_bytes;
    l.request_bytes = channel;
    l.reply_offset = l.request_offset + channel;
    l.reply_bytes = reply;
    l.region_bytes = l.reply_offset + reply;
    l.host_request_bytes = channel;
    l.host_reply_offset = l.host_request_offset + channel;
    l.host_reply_bytes = reply;
    l.host_bytes = l.host_reply_offset + reply;
    return l;
  }
};

// ---- run control (over the CSM request/reply channels, never timed) ----

enum class CommandKind : uint32_t { kRun = 1, kStop = 2 };
struct Command {
  uint32_t kind;
  uint32_t variant;
  uint32_t mode;
  uint32_t reserved;
  uint64_t size;
  uint64_t warmup;
  uint64_t count;
  AeadKey key;  // a fresh key for each encrypted run (a key never meets an IV twice)
};

// The responder's summary of a run: what it received and its own cycles.
struct RunSummary {
  uint64_t magic;     // kControlMagic
  uint64_t messages;  // data messages received (warmup + count)
  uint64_t sum;       // checksum over all of them
  uint64_t rx_p50, rx_p99, rx_max;
  double rx_mean;
};

// A per-message acknowledgement (ping-pong): the checksum of what was read.
struct AckMessage {
  uint64_t seq;
  uint64_t sum;
};

// IV direction labels for the sealed baseline.
inline constexpr uint32_t kToResponder = 0x52445243;  // "CRDR"
inline constexpr uint32_t kToDriver = 0x56524443;     // "CDRV"
inline constexpr uint32_t kSealedData = 1, kSealedAck = 2;

// ---- the byte work every variant does ----

// Writes every byte of a message (n is a multiple of 8).
inline void FillPayload(std::byte* p, std::size_t n, uint64_t seq) {
  tools::FillPattern(p, n, seq);
}

// Reads every byte of a message (n is a multiple of 8). Every variant reads
// through this one function; copy and the sealed baselines read shared
// memory through memcpy and OpenSSL, as their authors tuned them.
inline uint64_t Checksum(const std::byte* p, std::size_t n) { return tools::SumWords(p, n); }

// What Checksum returns for FillPayload(n, seq), without reading it.
inline uint64_t ExpectedSum(std::size_t n, uint64_t seq) { return (n / 8) * tools::PatternWord(seq); }

}  // namespace csm::compare
