#include "csm/ring/ring_result.h"

#include "absl/strings/str_format.h"

namespace csm {

const char* FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kNone: return "none";
    case FaultKind::kIndexOutOfWindow: return "index out of window";
    case FaultKind::kBadRecordTag: return "bad record tag";
    case FaultKind::kBadRecordType: return "bad record type";
    case FaultKind::kBadRecordLength: return "bad record length";
    case FaultKind::kBadSlotSequence: return "bad slot sequence";
  }
  return "unknown";
}

void FaultRecord::Record(RingStats& stats, FaultKind k, const char* word, uint64_t seen,
                         uint64_t lo, uint64_t hi) {
  kind = k;
  what = word;
  observed = seen;
  low = lo;
  high = hi;
  ++stats.peer_faults;
  switch (k) {
    case FaultKind::kIndexOutOfWindow: ++stats.index_faults; break;
    case FaultKind::kBadRecordTag:
    case FaultKind::kBadRecordType:
    case FaultKind::kBadRecordLength: ++stats.record_faults; break;
    case FaultKind::kBadSlotSequence: ++stats.slot_faults; break;
    case FaultKind::kNone: break;
  }
}

absl::Status FaultRecord::ToStatus() const {
  if (kind == FaultKind::kNone) return absl::OkStatus();
  return absl::DataLossError(absl::StrFormat(
      "peer wrote an impossible %s: %s = %d, legal window [%d, %d]", FaultKindName(kind), what,
      observed, low, high));
}

absl::Status RingFailure(RingResult result, const absl::Status& last_fault) {
  switch (result) {
    case RingResult::kPeerFault:
      return last_fault.ok() ? absl::DataLossError("ring peer fault (not recorded)") : last_fault;
    case RingResult::kTooLarge:
      return absl::OutOfRangeError("message larger than the channel can ever hold");
    case RingResult::kWouldBlock:
      return absl::UnavailableError("ring full or empty");
    case RingResult::kOk:
      break;
  }
  return absl::InternalError("RingFailure called for a successful operation");
}

}  // namespace csm
