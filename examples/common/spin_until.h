// Busy-waiting on a peer with a deadline, for the tools' spin modes.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "csm/ring/shared_access.h"

namespace csm::tools {

// How long a tool waits for the other side before giving up on it.
inline constexpr absl::Duration kPeerTimeout = absl::Seconds(10);

// Spins until `done()`; DeadlineExceeded if the peer takes longer than
// `timeout`. The clock is first read after 4096 spins, so a prompt peer costs
// no clock reads at all (they would be a large part of a round trip).
template <typename Done>
absl::Status SpinUntil(Done done, const char* what, absl::Duration timeout = kPeerTimeout) {
  absl::Time deadline = absl::InfiniteFuture();
  for (uint32_t i = 1; !done(); ++i) {
    shared::CpuRelax();
    if ((i & 4095) == 0) {
      const absl::Time now = absl::Now();
      if (deadline == absl::InfiniteFuture()) deadline = now + timeout;
      if (now > deadline) {
        return absl::DeadlineExceededError(absl::StrFormat("peer did not answer (%s)", what));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace csm::tools
