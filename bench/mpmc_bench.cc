// MPMC throughput with 1 and 2 producers and consumers on one ring (threads,
// each with its own endpoint and its own mapping of the ring).
#include <atomic>
#include <thread>

#include "bench_support.h"
#include "csm/ring/mpmc_ring.h"

namespace csm::bench {
namespace {

constexpr uint64_t kCapacity = 1024;
constexpr int64_t kItemsPerIteration = 1 << 14;

void BM_MpmcThroughput(benchmark::State& state) {
  const int producers = static_cast<int>(state.range(0));
  const int consumers = producers;
  SharedPair mem = SharedPair::Make(*MpmcRingBytes<uint64_t>(kCapacity));
  if (!FormatMpmcRing<uint64_t>(mem.a.span(), kCapacity).ok()) std::abort();
  const int64_t total = kItemsPerIteration * static_cast<int64_t>(state.max_iterations);
  alignas(wire::kLineSpacing) std::atomic<int64_t> consumed{0};  // apart from our locals
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([span = mem.b.span(), p, producers, total] {
      PinToCpu(1 + p);
      auto e = MpmcEndpoint<uint64_t>::Attach(span);
      for (int64_t i = p; i < total; i += producers) {
        while (e->try_push(static_cast<uint64_t>(i)) != RingResult::kOk) std::this_thread::yield();
      }
    });
  }
  // The benchmark thread is one consumer; the others help it drain.
  for (int c = 1; c < consumers; ++c) {
    threads.emplace_back([span = mem.a.span(), &consumed, c, total] {
      PinToCpu(c);
      auto e = MpmcEndpoint<uint64_t>::Attach(span);
      uint64_t v;
      while (consumed.load(std::memory_order_relaxed) < total) {
        if (e->try_pop(v) == RingResult::kOk) {
          consumed.fetch_add(1, std::memory_order_relaxed);
        } else {
          std::this_thread::yield();
        }
      }
    });
  }
  PinToCpu(0);
  auto e = MpmcEndpoint<uint64_t>::Attach(mem.a.span());
  int64_t target = 0;
  for (auto _ : state) {
    target += kItemsPerIteration;
    uint64_t v;
    while (consumed.load(std::memory_order_relaxed) < std::min(target, total)) {
      if (e->try_pop(v) == RingResult::kOk) {
        consumed.fetch_add(1, std::memory_order_relaxed);
      } else if (consumers > 1) {
        std::this_thread::yield();
      }
    }
  }
  // Drain whatever is left so producers finish.
  uint64_t v;
  while (consumed.load() < total) {
    if (e->try_pop(v) == RingResult::kOk) consumed.fetch_add(1);
  }
  for (auto& t : threads) t.join();
  state.SetItemsProcessed(state.iterations() * kItemsPerIteration);
}

BENCHMARK(BM_MpmcThroughput)->Arg(1)->Arg(2)->ArgName("producers_and_consumers")
    ->UseRealTime()->MinTime(0.5);

}  // namespace
}  // namespace csm::bench
