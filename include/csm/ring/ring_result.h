// Outcomes, statistics and fault reports shared by every ring endpoint.
#pragma once

#include <cstdint>

#include "absl/status/status.h"

namespace csm {

// Result of one non-blocking ring operation. Cheap to return on hot paths;
// the detail behind kPeerFault is in the endpoint's last_fault().
enum class RingResult : uint8_t {
  kOk = 0,
  kWouldBlock,  // full (producer) or empty (consumer): try again later
  kPeerFault,   // the peer published an impossible value; nothing was touched
  kTooLarge,    // a channel message that can never fit; see max_message_bytes()
};

// What an honest side saw the other side do wrong.
enum class FaultKind : uint8_t {
  kNone = 0,
  kIndexOutOfWindow,  // peer's index went backwards or past what is possible
  kBadRecordTag,      // channel record tag is neither 0 nor the expected position
  kBadRecordType,     // channel record type is neither message nor padding
  kBadRecordLength,   // channel record runs past the published data or the arena
  kBadSlotSequence,   // a slot's sequence word holds a value no honest party writes
};

const char* FaultKindName(FaultKind kind);

// Per-endpoint counters. They live in private memory, so a peer cannot forge
// them. `peer_faults` is the sum of the per-kind counters.
struct RingStats {
  uint64_t ops = 0;          // items / messages moved by this endpoint
  uint64_t would_block = 0;  // operations that found the ring full or empty
  uint64_t peer_faults = 0;
  uint64_t index_faults = 0;   // kIndexOutOfWindow
  uint64_t record_faults = 0;  // kBadRecordTag + kBadRecordType + kBadRecordLength
  uint64_t slot_faults = 0;    // kBadSlotSequence
  uint64_t retry_exhausted = 0;  // MPMC: gave up after the retry budget
};

// The most recent violation, kept as plain values so recording it costs no
// allocation; last_fault() formats it only when asked.
struct FaultRecord {
  FaultKind kind = FaultKind::kNone;
  uint64_t observed = 0;  // the value read from shared memory
  uint64_t low = 0;       // the legal window it had to fall in
  uint64_t high = 0;
  const char* what = "";  // which shared word (static string)

  void Record(RingStats& stats, FaultKind k, const char* word, uint64_t seen,
              uint64_t lo, uint64_t hi);
  // OkStatus() when nothing went wrong, else DataLoss naming the word and values.
  absl::Status ToStatus() const;
};

// The error behind a failed operation, never OK: the endpoint's recorded
// fault for kPeerFault, OutOfRange for kTooLarge, Unavailable for
// kWouldBlock, Internal for kOk (a caller bug). Callers that return a
// StatusOr must not turn kTooLarge into last_fault(), which is OK then.
absl::Status RingFailure(RingResult result, const absl::Status& last_fault);

}  // namespace csm
