// Shared pieces of csm-bench: CPU pinning, shared memory views, latency
// percentiles and a cycle counter.
#pragma once

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
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

// A thread's private array of T on line pairs of its own. A plain
// std::vector of a few items can share a heap line with whatever was
// allocated next to it, such as the std::thread state holding the other
// thread's captures, and each write here would then evict a line the other
// thread reads on every loop. (Hygiene: on 2026-12-07 it moved no rate
// measurably; bench/results/README.md.)
template <typename T>
class PrivateArray {
 public:
  explicit PrivateArray(std::size_t n)
      : n_(n), data_(static_cast<T*>(::operator new(Bytes(n), std::align_val_t{kAlign}))) {
    std::uninitialized_value_construct_n(data_, n);
  }
  ~PrivateArray() {
    std::destroy_n(data_, n_);
    ::operator delete(data_, Bytes(n_), std::align_val_t{kAlign});
  }
  PrivateArray(const PrivateArray&) = delete;
  PrivateArray& operator=(const PrivateArray&) = delete;
  T& operator[](std::size_t i) { return data_[i]; }
  T* data() { return data_; }
  std::span<T> span() { return {data_, n_}; }

 private:
  static constexpr std::size_t kAlign = 128;
  static std::size_t Bytes(std::size_t n) { return (n * sizeof(T) + kAlign - 1) / kAlign * kAlign + kAlign; }
  std::size_t n_;
  T* data_;
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
