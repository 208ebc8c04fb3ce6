// Turns a backend's errno into an absl::Status a person can act on. One
// table for every backend, so /dev/csm and the simulator read the same.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "csm/ids.h"

namespace csm {

enum class Op {
  kVersion, kRealm, kCreate, kShare, kRevoke, kDestroy, kAttach, kDetach, kRegionInfo,
  kListRegions, kListShares, kAttest, kDoorbell, kRing, kEvents, kMap,
};

struct OpContext {
  Op op = Op::kVersion;
  RealmId self = RealmId();
  RegionId region = RegionId();
  ShareId share = ShareId();
  RealmId peer = RealmId();
  uint64_t size = 0;
};

// `err` is a positive errno (as returned negated by Backend::Call).
absl::Status CallError(int err, const OpContext& ctx);

}  // namespace csm
