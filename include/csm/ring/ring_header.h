// Creating a ring in a span, and attaching to one a peer created.
//
// The creator lays out the prefix and publishes the header's magic last; an
// attaching party copies the header once, checks it against the protocol it
// speaks and against the size of its *own* mapping, and from then on uses only
// that private copy. A peer rewriting the header later changes nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/statusor.h"
#include "csm/ring/layout.h"

namespace csm {

// A validated, private copy of a ring's geometry.
struct RingGeometry {
  wire::RingKind kind = wire::RingKind::kSpsc;
  uint32_t slot_bytes = 0;
  uint32_t slot_stride = 0;
  uint64_t capacity = 0;     // slots, or arena bytes for a channel
  uint64_t data_offset = 0;  // from the span start
  uint64_t data_bytes = 0;   // capacity * stride, or capacity for a channel
};

// The geometry `kind` with this payload size and capacity must have, or
// InvalidArgument naming what is wrong (capacity not a power of two, ...).
absl::StatusOr<RingGeometry> PlanRing(wire::RingKind kind, uint32_t slot_bytes,
                                      uint64_t capacity);

// Bytes of span a ring of this shape needs (prefix + data).
inline uint64_t SpanBytes(const RingGeometry& g) { return g.data_offset + g.data_bytes; }

// Lays out a ring in `span`: zeroes the prefix, writes the header, then
// publishes the magic with release ordering so attachers see a whole header.
// The span must be 64-byte aligned and large enough.
absl::Status FormatRing(std::span<std::byte> span, const RingGeometry& geometry);

// Copies the header out of `span` once and validates it: magic, version, kind,
// that the geometry is exactly what PlanRing(kind, slot_bytes, capacity) gives,
// and that it fits in this party's span. Unavailable if no magic yet.
absl::StatusOr<RingGeometry> AttachRing(std::span<std::byte> span, wire::RingKind kind,
                                        uint32_t slot_bytes);

// The two index lines of a formatted span.
inline wire::IndexLine* ProducerLine(std::span<std::byte> span) {
  return reinterpret_cast<wire::IndexLine*>(span.data() + offsetof(wire::RingPrefix, producer));
}
inline wire::IndexLine* ConsumerLine(std::span<std::byte> span) {
  return reinterpret_cast<wire::IndexLine*>(span.data() + offsetof(wire::RingPrefix, consumer));
}

}  // namespace csm
