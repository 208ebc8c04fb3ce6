// The doorbell handshake on a ring's waiting flags (docs/ring-protocol.md,
// "Blocking"): a waiter arms its own line's flag before sleeping; the other
// side, after publishing, fences and rings only if it sees the flag armed.
// The flag is peer-written memory: any nonzero value just costs a ring.
#pragma once

#include <atomic>
#include <cstdint>

#include "absl/time/time.h"
#include "csm/doorbell/doorbell.h"
#include "csm/doorbell/spin_wait.h"
#include "csm/ring/layout.h"
#include "csm/ring/shared_access.h"

namespace csm {

// How a blocking call waits: spin first, then sleep on the doorbell.
struct WaitOptions {
  // Condition checks before sleeping: 0 sleeps at once (doorbell mode),
  // UINT32_MAX spins until the deadline (spin mode).
  uint32_t spin_budget = 4096;
  absl::Duration timeout = absl::InfiniteDuration();
};

inline void ArmWaiting(wire::IndexLine* own) { shared::StoreSeqCst(&own->waiting, uint32_t{1}); }
inline void DisarmWaiting(wire::IndexLine* own) {
  shared::StoreRelaxed(&own->waiting, uint32_t{0});
}

// After publishing a position: wake the peer if it is (about to be) asleep.
// The fence orders our position store before the flag load, pairing with
// the waiter's fence between arming and re-checking.
inline void WakePeerIfWaiting(const wire::IndexLine* peer, Doorbell& peer_bell) {
  FullFence();
  if (shared::LoadRelaxed(&peer->waiting) != 0) peer_bell.Ring();
}

}  // namespace csm
