// Shared pieces of csm-bench: CPU pinning, shared memory views, latency
// percentiles and a cycle counter.
#pragma once

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "csm/ring/shared_span.h"

namespace csm::bench {

// Pins the calling thread to `cpu` modulo the CPUs available, so the two
// sides of a pair land on distinct cores when there are two or more.
inline void PinToCpu(int cpu) {
  const int n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % n, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

// Two views of one shared file at different addresses: one per side, as
// between two realms.
struct SharedPair {
  SharedFile file;
  SharedView a, b;
  static SharedPair Make(std::size_t bytes) {
    auto f = SharedFile::Create(bytes, "csm-bench");
    auto va = f->Map();
    auto vb = f->Map();
    if (!f.ok() || !va.ok() || !vb.ok()) std::abort();
    return SharedPair{std::move(*f), std::move(*va), std::move(*vb)};
  }
};

inline uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Records per-operation latencies and reports p50/p99/p99.9 as counters.
class LatencyRecorder {
 public:
  explicit LatencyRecorder(std::size_t reserve) { samples_.reserve(reserve); }
  void Add(uint64_t ns) { samples_.push_back(ns); }
  void Report(benchmark::State& state) {
    if (samples_.empty()) return;
    std::sort(samples_.begin(), samples_.end());
    auto at = [&](double q) {
      return static_cast<double>(samples_[std::min(samples_.size() - 1,
                                                   static_cast<std::size_t>(q * samples_.size()))]);
    };
    state.counters["p50_ns"] = at(0.50);
    state.counters["p99_ns"] = at(0.99);
    state.counters["p999_ns"] = at(0.999);
  }

 private:
  std::vector<uint64_t> samples_;
};

}  // namespace csm::bench
