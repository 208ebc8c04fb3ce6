// The per-message cycle counter: the TSC on x86-64 (rdtsc, fenced), the
// virtual counter CNTVCT_EL0 on arm64 (isb; mrs). Neither is a core-cycle
// PMU count: the TSC ticks at a fixed nominal rate when constant_tsc is set,
// CNTVCT at CNTFRQ_EL0 (often 24 MHz - 1 GHz), so both are reported with
// their name and measured frequency.
#pragma once

#include <cstdint>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace csm::compare {

inline uint64_t ReadCounter() {
#if defined(__x86_64__) || defined(__i386__)
  // lfence before: earlier work has finished; after: later work waits.
  _mm_lfence();
  const uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
#elif defined(__aarch64__)
  uint64_t t;
  asm volatile("isb; mrs %0, cntvct_el0" : "=r"(t)::"memory");
  return t;
#else
#error "csm-compare needs a cycle counter for this architecture"
#endif
}

struct CounterInfo {
  std::string name;         // "TSC" or "CNTVCT_EL0"
  std::string note;         // constant_tsc / nonstop_tsc, or CNTFRQ
  double hz = 0;            // ticks per second, measured against CLOCK_MONOTONIC
  uint64_t overhead = 0;    // median ticks of an empty ReadCounter() pair
  uint64_t resolution = 0;  // the step the counter advances by (VMs often tick coarsely)
  double ToNs(uint64_t ticks) const { return hz > 0 ? static_cast<double>(ticks) * 1e9 / hz : 0; }
};

// Calibrates over about `ms` milliseconds.
CounterInfo CalibrateCounter(int ms = 50);

}  // namespace csm::compare
