// Spin-then-block waiting on a condition in shared memory, with a doorbell
// for the blocking part.
//
// Spinning costs a core but wakes in tens of nanoseconds; blocking frees the
// core but a wakeup costs microseconds. SpinThenWait polls `ready` for a
// tunable budget, then falls back to the doorbell with the lost-wakeup-free
// order: arm() (publish "I am waiting", then a seq_cst fence), re-check
// ready(), Wait(), disarm(). The ringing side must publish its update, fence,
// and ring when it sees the waiter armed.
#pragma once

#include <atomic>
#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "csm/doorbell/doorbell.h"
#include "csm/ring/shared_access.h"

namespace csm {

struct SpinWaitOptions {
  // Calls of ready() before blocking; 0 blocks at once (pure doorbell mode),
  // UINT32_MAX never blocks before the deadline (pure spin mode).
  uint32_t spin_budget = 4096;
  absl::Duration timeout = absl::InfiniteDuration();
};

struct SpinWaitStats {
  uint64_t spins = 0;   // ready() calls while spinning
  uint64_t blocks = 0;  // times we went to the doorbell
};

// Returns OK once ready() is true, DeadlineExceeded after opts.timeout.
absl::Status SpinThenWait(Doorbell& bell, absl::FunctionRef<bool()> ready,
                          absl::FunctionRef<void()> arm, absl::FunctionRef<void()> disarm,
                          const SpinWaitOptions& opts, SpinWaitStats* stats = nullptr);

// The seq_cst fence of the doorbell protocol (between publishing and reading
// the other side's word). GCC warns that TSan does not model fences; the
// protocol's words are seq_cst atomics too, which TSan does see.
inline void FullFence() {
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#endif
  std::atomic_thread_fence(std::memory_order_seq_cst);
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
}

// One pause of a spin loop (PAUSE on x86, YIELD on Arm).
using shared::CpuRelax;

}  // namespace csm
