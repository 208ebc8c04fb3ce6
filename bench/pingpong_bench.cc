// Round trip between two cores: csm's SPSC rings (one each way), Boost's
// spsc_queue in shared memory, and the physical floor: a bare atomic
// ping-pong on one cache line. Each iteration is one round trip; p50/p99
// come from per-round-trip timestamps (clock overhead is the same for all).
#include <atomic>
#include <new>
#include <thread>

#include "bench_support.h"
#include "boost/lockfree/spsc_queue.hpp"
#include "csm/ring/shared_access.h"
#include "csm/ring/spsc_ring.h"

namespace csm::bench {
namespace {

struct Ping {
  uint64_t seq;
};
constexpr uint64_t kStop = ~uint64_t{0};

// Times each round trip of `ping_once` (which returns after the echo).
template <typename PingOnce>
void TimeRoundTrips(benchmark::State& state, PingOnce ping_once) {
  LatencyRecorder latency(1 << 20);
  uint64_t seq = 0;
  uint64_t last = NowNs();
  for (auto _ : state) {
    ping_once(++seq);
    const uint64_t now = NowNs();
    latency.Add(now - last);
    last = now;
  }
  latency.Report(state);
}

void BM_PingPong_Floor(benchmark::State& state) {
  SharedPair mem = SharedPair::Make(4096);
  auto* a = reinterpret_cast<uint64_t*>(mem.a.span().data());
  auto* b = reinterpret_cast<uint64_t*>(mem.b.span().data());
  shared::StoreRelaxed(a, uint64_t{0});
  // The echo side answers an odd value v with v + 1 on the same line.
  std::thread echo([&] {
    PinToCpu(1);
    uint64_t seen = 0;
    for (;;) {
      const uint64_t v = shared::LoadAcquire(b);
      if (v == kStop) return;
      if (v != seen && (v & 1)) {
        seen = v + 1;
        shared::StoreRelease(b, seen);
      }
    }
  });
  PinToCpu(0);
  TimeRoundTrips(state, [&](uint64_t seq) {
    const uint64_t v = 2 * seq - 1;
    shared::StoreRelease(a, v);
    while (shared::LoadAcquire(a) != v + 1) {
    }
  });
  shared::StoreRelease(a, kStop);
  echo.join();
}

void BM_PingPong_CsmSpsc(benchmark::State& state) {
  const uint64_t cap = 64;
  const std::size_t ring_bytes = *SpscRingBytes<Ping>(cap);
  const std::size_t stride = (ring_bytes + 4095) / 4096 * 4096;
  SharedPair mem = SharedPair::Make(2 * stride);
  auto a_to_b = mem.a.span().first(ring_bytes);
  auto b_to_a = mem.a.span().subspan(stride, ring_bytes);
  if (!FormatSpscRing<Ping>(a_to_b, cap).ok() || !FormatSpscRing<Ping>(b_to_a, cap).ok()) {
    std::abort();
  }
  auto ping_out = SpscProducer<Ping>::Attach(a_to_b);
  auto pong_in = SpscConsumer<Ping>::Attach(b_to_a);
  // The echo side uses its own mapping of the same rings.
  auto ping_in = SpscConsumer<Ping>::Attach(mem.b.span().first(ring_bytes));
  auto pong_out = SpscProducer<Ping>::Attach(mem.b.span().subspan(stride, ring_bytes));
  std::thread echo([&] {
    PinToCpu(1);
    for (Ping p;;) {
      if (ping_in->try_pop(p) != RingResult::kOk) continue;
      if (p.seq == kStop) return;
      while (pong_out->try_push(p) != RingResult::kOk) {
      }
    }
  });
  PinToCpu(0);
  TimeRoundTrips(state, [&](uint64_t seq) {
    while (ping_out->try_push({seq}) != RingResult::kOk) {
    }
    Ping p;
    while (pong_in->try_pop(p) != RingResult::kOk) {
    }
    if (p.seq != seq) state.SkipWithError("wrong echo");
  });
  while (ping_out->try_push({kStop}) != RingResult::kOk) {
  }
  echo.join();
}

using BoostQueue = boost::lockfree::spsc_queue<Ping, boost::lockfree::capacity<64>>;

void BM_PingPong_Boost(benchmark::State& state) {
  SharedPair mem = SharedPair::Make(2 * 4096);
  auto* ping = new (mem.a.span().data()) BoostQueue();
  auto* pong = new (mem.a.span().data() + 4096) BoostQueue();
  std::thread echo([&] {
    PinToCpu(1);
    for (Ping p;;) {
      if (!ping->pop(p)) continue;
      if (p.seq == kStop) return;
      while (!pong->push(p)) {
      }
    }
  });
  PinToCpu(0);
  TimeRoundTrips(state, [&](uint64_t seq) {
    while (!ping->push({seq})) {
    }
    Ping p;
    while (!pong->pop(p)) {
    }
    if (p.seq != seq) state.SkipWithError("wrong echo");
  });
  while (!ping->push({kStop})) {
  }
  echo.join();
  ping->~BoostQueue();
  pong->~BoostQueue();
}

BENCHMARK(BM_PingPong_Floor)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_PingPong_CsmSpsc)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_PingPong_Boost)->UseRealTime()->MinTime(0.5);

}  // namespace
}  // namespace csm::bench
