// The shared-memory wire layout of every csm ring (layout version 1).
//
// This header is the single source of truth for the bytes two parties exchange;
// docs/ring-protocol.md describes the same layout for readers in other languages.
// Everything here is little-endian, naturally aligned, and addressed by offsets
// from the start of the span: a span may be mapped at a different address in
// every party, so nothing in shared memory is ever a pointer.
#pragma once

#include <cstddef>
#include <cstdint>

namespace csm::wire {

// "CSMR" in memory order, read as a little-endian u32.
inline constexpr uint32_t kRingMagic = 0x524D5343;
inline constexpr uint16_t kLayoutVersion = 1;

// Which protocol runs in the span. A party attaches only to the kind it speaks.
enum class RingKind : uint16_t {
  kSpsc = 1,     // fixed-size slots, one producer, one consumer
  kMpmc = 2,     // fixed-size slots with per-slot turn words, many of each
  kChannel = 3,  // variable-size records in a byte arena, one of each
  kSpscPacked = 4,  // fixed-size slots with no sequence words, one of each
};

// Cache line size assumed for layout. 64 bytes on x86-64 and on the arm64
// cores CCA targets; a line written by two parties ping-pongs between cores.
inline constexpr std::size_t kCacheLine = 64;

// Distance between the header and the two index lines. Intel's adjacent-line
// prefetcher pulls 128-byte pairs, so 64 bytes apart would still false-share.
inline constexpr std::size_t kLineSpacing = 128;

// Written once by the creator before it publishes `magic`; read once and
// copied by every party that attaches. Never trusted after attach.
struct RingHeader {
  uint32_t magic;           // kRingMagic, stored last with release ordering
  uint16_t layout_version;  // kLayoutVersion
  uint16_t kind;            // RingKind
  uint32_t slot_bytes;      // payload bytes per slot; 0 for kChannel
  uint32_t slot_stride;     // bytes from one slot to the next; 0 for kChannel
  uint64_t capacity;        // slots (kSpsc, kMpmc) or arena bytes (kChannel); power of two
  uint64_t data_offset;     // offset of slot 0 / the arena from the span start
  uint64_t span_bytes;      // bytes the creator laid out (data_offset + data size)
  uint8_t reserved[24];     // zero
};
static_assert(sizeof(RingHeader) == 64);
static_assert(offsetof(RingHeader, capacity) == 16);
static_assert(offsetof(RingHeader, data_offset) == 24);
static_assert(offsetof(RingHeader, span_bytes) == 32);

// One per side. Written only by its owner, so each side owns whole lines
// (the ivshmem-v2 discipline: a section per writer).
//
// SPSC and channel: `position` is the owner's free-running count of slots
// (or arena bytes) produced / consumed. MPMC: the shared ticket counter of all
// producers / all consumers.
//
// `waiting` is set to 1 by an owner about to block on its doorbell and 0 when
// it wakes; the other side rings the doorbell after publishing if it reads 1.
// It sits on its own cache line: the other side reads it after every publish,
// and while the owner is busy that read must hit a line nobody is writing
// (the owner rewrites `position` constantly).
struct IndexLine {
  uint64_t position;
  uint8_t reserved0[kCacheLine - 8];
  uint32_t waiting;
  uint8_t reserved1[kLineSpacing - kCacheLine - 4];
};
static_assert(sizeof(IndexLine) == kLineSpacing);
static_assert(offsetof(IndexLine, waiting) == kCacheLine);

// The fixed prefix of every ring span.
struct RingPrefix {
  RingHeader header;
  uint8_t header_pad[kLineSpacing - sizeof(RingHeader)];
  IndexLine producer;  // at offset 128
  IndexLine consumer;  // at offset 256
};
static_assert(offsetof(RingPrefix, producer) == 128);
static_assert(offsetof(RingPrefix, consumer) == 256);
static_assert(sizeof(RingPrefix) == 384);

// Slots or the arena start right after the prefix.
inline constexpr uint64_t kDataOffset = sizeof(RingPrefix);

// SPSC and MPMC slots begin with an 8-byte sequence word; the payload
// follows at offset 8 (so payload types need alignment <= 8). SPSC slots are
// 8-byte multiples; MPMC slots are rounded up to whole cache lines so
// neighbouring slots, claimed by different parties, never false-share.
// Packed SPSC slots are the payload alone, rounded up to 8 bytes: readiness
// comes from the positions, so bursts move nothing but payload between cores.
inline constexpr std::size_t kSlotSequenceBytes = 8;

// Channel records: a 16-byte header {u64 tag, u32 length, u32 type}, then the
// payload, padded to whole cache lines. `tag` = record position + 1 is the
// commit marker, written last; the tag word at the producer's position is
// always 0. Whole lines per record: the consumer polls the tag of the next
// record while the producer is still writing the current one, and the two
// must not share a line.
inline constexpr std::size_t kRecordAlign = kCacheLine;
inline constexpr std::size_t kRecordHeaderBytes = 16;
// Room the producer keeps free beyond a record: the next record's header,
// whose tag word it zeroes before committing.
inline constexpr std::size_t kRecordTrailerBytes = 16;
// The largest payload the u32 `length` field carries for a message and for
// any padding before it: a padding is shorter than the record that did not
// fit, round_up(16 + 2^32 - 128, 64) - 16 = 2^32 - 80 at most.
inline constexpr uint64_t kMaxRecordPayload = (uint64_t{1} << 32) - 128;
// The largest payload of a channel whose arena holds `capacity` bytes: its
// record plus the trailer must fit, records are whole lines, and lengths
// fit the header's u32 (arenas may be larger than 4 GiB).
inline constexpr uint64_t MaxChannelMessage(uint64_t capacity) {
  const uint64_t fits = capacity - kRecordAlign - kRecordHeaderBytes;
  return fits < kMaxRecordPayload ? fits : kMaxRecordPayload;
}
enum class RecordType : uint32_t {
  kMessage = 1,  // `length` payload bytes follow the header
  kPadding = 2,  // filler to the end of the arena; the next record is at offset 0
};
// Little-endian u64 view of the header's second word: length, then type.
inline constexpr uint64_t PackRecord(uint32_t length, RecordType type) {
  return uint64_t{length} | (uint64_t{static_cast<uint32_t>(type)} << 32);
}

// Geometry limits every party enforces, so a header cannot ask for absurd sizes.
inline constexpr uint64_t kMaxSlots = uint64_t{1} << 30;
inline constexpr uint32_t kMaxSlotBytes = 1u << 20;
inline constexpr uint64_t kMinArenaBytes = 64;
inline constexpr uint64_t kMaxArenaBytes = uint64_t{1} << 40;

}  // namespace csm::wire
