// Spin-then-block waiting (see csm/doorbell/spin_wait.h).
#include "csm/doorbell/spin_wait.h"

#include <atomic>

namespace csm {

absl::Status SpinThenWait(Doorbell& bell, absl::FunctionRef<bool()> ready,
                          absl::FunctionRef<void()> arm, absl::FunctionRef<void()> disarm,
                          const SpinWaitOptions& opts, SpinWaitStats* stats) {
  SpinWaitStats local;
  SpinWaitStats& s = stats ? *stats : local;
  const bool bounded = opts.timeout != absl::InfiniteDuration();
  // The clock is read only once the condition has failed a while: a prompt
  // peer then costs no clock read at all (one is a large part of a
  // sub-microsecond round trip). The deadline counts from that first read.
  absl::Time deadline = absl::InfiniteFuture();
  auto start_clock = [&] {
    if (bounded && deadline == absl::InfiniteFuture()) deadline = absl::Now() + opts.timeout;
  };

  // UINT32_MAX is pure spin mode: spin until the deadline, never block
  // (i wraps harmlessly; 2^32 is a multiple of the 1024-spin clock period).
  const bool spin_only = opts.spin_budget == UINT32_MAX;
  for (uint32_t i = 0; spin_only || i < opts.spin_budget; ++i) {
    ++s.spins;
    if (ready()) return absl::OkStatus();
    CpuRelax();
    // Pure spin mode still honours the deadline; checking the clock every
    // 1024 spins keeps its cost out of the fast path.
    if (bounded && (i & 1023) == 1023) {
      start_clock();
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError("condition not met before the deadline (spinning)");
      }
    }
  }
  start_clock();
  for (;;) {
    arm();
    // Pairs with the ringer's fence between publishing and reading our flag:
    // either it sees us armed and rings, or we see its update here.
    FullFence();
    if (ready()) {
      disarm();
      return absl::OkStatus();
    }
    ++s.blocks;
    absl::Duration left = bounded ? deadline - absl::Now() : absl::InfiniteDuration();
    absl::Status st = left > absl::ZeroDuration() ? bell.Wait(left)
                                                  : absl::DeadlineExceededError("");
    disarm();
    if (ready()) return absl::OkStatus();
    if (absl::IsDeadlineExceeded(st)) {
      return absl::DeadlineExceededError("condition not met before the deadline (blocked)");
    }
    if (!st.ok()) return st;
  }
}

}  // namespace csm
