#include "csm/ring/ring_header.h"

#include <bit>
#include <cstring>

#include "absl/strings/str_format.h"
#include "csm/ring/shared_access.h"

namespace csm {
namespace {

using wire::RingKind;

const char* KindName(RingKind k) {
  switch (k) {
    case RingKind::kSpsc: return "SPSC ring";
    case RingKind::kMpmc: return "MPMC ring";
    case RingKind::kChannel: return "channel";
    case RingKind::kSpscPacked: return "packed SPSC ring";
  }
  return "unknown ring kind";
}

uint64_t RoundUp(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

// One relaxed 8-byte load per word, so each header byte is read exactly once.
void CopyHeaderOnce(const std::byte* src, wire::RingHeader* dst) {
  static_assert(sizeof(wire::RingHeader) % 8 == 0);
  const auto* words = reinterpret_cast<const uint64_t*>(src);
  uint64_t copy[sizeof(wire::RingHeader) / 8];
  for (std::size_t i = 0; i < std::size(copy); ++i) copy[i] = shared::LoadRelaxed(&words[i]);
  std::memcpy(dst, copy, sizeof(copy));
}

absl::Status CheckSpan(std::span<std::byte> span) {
  if (reinterpret_cast<uintptr_t>(span.data()) % wire::kCacheLine != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ring span at %p is not %d-byte aligned", static_cast<void*>(span.data()),
        wire::kCacheLine));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RingGeometry> PlanRing(RingKind kind, uint32_t slot_bytes, uint64_t capacity) {
  RingGeometry g;
  g.kind = kind;
  g.capacity = capacity;
  g.data_offset = wire::kDataOffset;
  switch (kind) {
    case RingKind::kSpsc:
    case RingKind::kMpmc:
    case RingKind::kSpscPacked:
      if (capacity < 2 || capacity > wire::kMaxSlots || !std::has_single_bit(capacity)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s capacity %d is not a power of two in [2, %d]", KindName(kind), capacity,
            wire::kMaxSlots));
      }
      if (slot_bytes == 0 || slot_bytes > wire::kMaxSlotBytes) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s slot size %d is not in [1, %d] bytes", KindName(kind), slot_bytes,
            wire::kMaxSlotBytes));
      }
      g.slot_bytes = slot_bytes;
      g.slot_stride = static_cast<uint32_t>(
          kind == RingKind::kSpsc     ? RoundUp(wire::kSlotSequenceBytes + slot_bytes, 8)
          : kind == RingKind::kMpmc   ? RoundUp(wire::kSlotSequenceBytes + slot_bytes, wire::kCacheLine)
                                      : RoundUp(slot_bytes, 8));
      g.data_bytes = capacity * g.slot_stride;
      return g;
    case RingKind::kChannel:
      if (capacity < wire::kMinArenaBytes || capacity > wire::kMaxArenaBytes ||
          !std::has_single_bit(capacity)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "channel arena of %d bytes is not a power of two in [%d, %d]", capacity,
            wire::kMinArenaBytes, wire::kMaxArenaBytes));
      }
      if (slot_bytes != 0) {
        return absl::InvalidArgumentError("a channel has no fixed slot size (pass 0)");
      }
      g.data_bytes = capacity;
      return g;
  }
  return absl::InvalidArgumentError(
      absl::StrFormat("unknown ring kind %d", static_cast<int>(kind)));
}

absl::Status FormatRing(std::span<std::byte> span, const RingGeometry& g) {
  if (absl::Status s = CheckSpan(span); !s.ok()) return s;
  if (span.size() < SpanBytes(g)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s needs a span of %d bytes, got %d", KindName(g.kind), SpanBytes(g), span.size()));
  }
  auto* header = reinterpret_cast<wire::RingHeader*>(span.data());
  // Retract any previous magic first so nobody attaches to a half-written header.
  shared::StoreRelease(&header->magic, uint32_t{0});
  std::memset(span.data() + sizeof(header->magic), 0, wire::kDataOffset - sizeof(header->magic));
  header->layout_version = wire::kLayoutVersion;
  header->kind = static_cast<uint16_t>(g.kind);
  header->slot_bytes = g.slot_bytes;
  header->slot_stride = g.slot_stride;
  header->capacity = g.capacity;
  header->data_offset = g.data_offset;
  header->span_bytes = SpanBytes(g);
  // Sequence words and record tags start at zero ("nothing here yet").
  std::memset(span.data() + g.data_offset, 0, g.data_bytes);
  if (g.kind == RingKind::kMpmc) {
    // Slot i starts free for ticket i.
    for (uint64_t i = 0; i < g.capacity; ++i) {
      auto* turn = reinterpret_cast<uint64_t*>(span.data() + g.data_offset + i * g.slot_stride);
      shared::StoreRelaxed(turn, i);
    }
  }
  shared::StoreRelease(&header->magic, wire::kRingMagic);
  return absl::OkStatus();
}

absl::StatusOr<RingGeometry> AttachRing(std::span<std::byte> span, RingKind kind,
                                        uint32_t slot_bytes) {
  if (absl::Status s = CheckSpan(span); !s.ok()) return s;
  if (span.size() < wire::kDataOffset) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "span of %d bytes is smaller than a ring prefix (%d)", span.size(), wire::kDataOffset));
  }
  const auto* shared_header = reinterpret_cast<const wire::RingHeader*>(span.data());
  const uint32_t magic = shared::LoadAcquire(&shared_header->magic);
  if (magic == 0) return absl::UnavailableError("ring is not formatted yet (magic is zero)");
  wire::RingHeader h;
  CopyHeaderOnce(span.data(), &h);
  if (h.magic != wire::kRingMagic) {
    return absl::FailedPreconditionError(
        absl::StrFormat("ring magic is 0x%08x, expected 0x%08x", h.magic, wire::kRingMagic));
  }
  if (h.layout_version != wire::kLayoutVersion) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "ring layout version %d is not supported (this build speaks %d)", h.layout_version,
        wire::kLayoutVersion));
  }
  if (h.kind != static_cast<uint16_t>(kind)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "span holds ring kind %d, expected %s", h.kind, KindName(kind)));
  }
  // Recompute the geometry from the two numbers that define it; every other
  // header field must agree exactly, so no peer-chosen offset is ever used.
  absl::StatusOr<RingGeometry> g = PlanRing(kind, h.slot_bytes, h.capacity);
  if (!g.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("ring header: ", g.status().message()));
  }
  if (h.slot_bytes != slot_bytes) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s has %d-byte slots, this endpoint expects %d", KindName(kind), h.slot_bytes,
        slot_bytes));
  }
  if (h.slot_stride != g->slot_stride || h.data_offset != g->data_offset ||
      h.span_bytes != SpanBytes(*g)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s header geometry is inconsistent (stride %d, data offset %d, span %d)",
        KindName(kind), h.slot_stride, h.data_offset, h.span_bytes));
  }
  if (SpanBytes(*g) > span.size()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s needs %d bytes but only %d are mapped", KindName(kind), SpanBytes(*g), span.size()));
  }
  return g;
}

}  // namespace csm
