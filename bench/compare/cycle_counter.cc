#include "cycle_counter.h"

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <numeric>
#include <vector>

#include "absl/strings/str_format.h"

namespace csm::compare {
namespace {

uint64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

#if defined(__x86_64__) || defined(__i386__)
bool CpuFlag(const std::string& flag) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    return (line + " ").find(" " + flag + " ") != std::string::npos;
  }
  return false;
}
#endif

}  // namespace

CounterInfo CalibrateCounter(int ms) {
  CounterInfo info;
#if defined(__x86_64__) || defined(__i386__)
  info.name = "TSC";
  info.note = absl::StrFormat("rdtsc with lfence; constant_tsc %s, nonstop_tsc %s",
                              CpuFlag("constant_tsc") ? "yes" : "NO",
                              CpuFlag("nonstop_tsc") ? "yes" : "NO");
#elif defined(__aarch64__)
  uint64_t frq;
  asm volatile("mrs %0, cntfrq_el0" : "=r"(frq));
  info.name = "CNTVCT_EL0";
  info.note = absl::StrFormat("virtual counter, CNTFRQ_EL0 %d Hz (not core cycles)", frq);
#endif
  const uint64_t n0 = MonoNs(), c0 = ReadCounter();
  const uint64_t until = n0 + static_cast<uint64_t>(ms) * 1'000'000u;
  uint64_t n1 = n0;
  while ((n1 = MonoNs()) < until) {
  }
  const uint64_t c1 = ReadCounter();
  info.hz = static_cast<double>(c1 - c0) * 1e9 / static_cast<double>(n1 - n0);
  std::vector<uint64_t> d(1001);  // back-to-back pairs: what a read costs
  for (uint64_t& v : d) {
    const uint64_t a = ReadCounter();
    v = ReadCounter() - a;
  }
  std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
  info.overhead = d[d.size() / 2];
  // The step the counter advances by. Back-to-back reads cannot show it when
  // a read costs more than a step (AMD EPYC family 25 guests: reads 52 ticks
  // apart, every value a multiple of 26), so take the greatest common
  // divisor of differences between reads a varying amount of work apart.
  uint64_t step = 0;
  volatile uint64_t sink = 0;
  for (int i = 1; i <= 1000; ++i) {
    const uint64_t a = ReadCounter();
    for (int k = 0; k < i % 97; ++k) sink = sink + static_cast<uint64_t>(k);
    step = std::gcd(step, ReadCounter() - a);
  }
  info.resolution = step;
  return info;
}

}  // namespace csm::compare
