// Busy-waiting on the peer, as the benchmark's two sides always do (the
// CAEC measurements poll too): no clock is read until 4096 polls have
// failed, so a prompt peer costs no clock reads at all.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "csm/ring/shared_access.h"

namespace csm::compare {

inline constexpr absl::Duration kPeerTimeout = absl::Seconds(10);

// Polls `done()` until it returns true; DeadlineExceeded after `timeout`.
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

}  // namespace csm::compare
