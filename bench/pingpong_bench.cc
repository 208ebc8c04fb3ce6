// Round trip between two cores: csm's SPSC rings (one each way), Boost's
// spsc_queue in shared memory, and the physical floor: a bare atomic
// ping-pong on one cache line. Each iteration is one round trip; p50/p99
// come from per-round-trip timestamps (clock overhead is the same for all).
// Every poll that finds nothing, here and in spsc_throughput_bench.cc, is
// followed by one shared::CpuRelax(), the same in every variant, as csm's
// own waits (SpinThenWait, the tools' SpinUntil) do. Measured (2026-12-06,
// AMD EPYC family 26, PAUSE ~19 ns): without it csm's SPSC round trip p50
// was 601-612 ns, with it 441-451; the one-word floor 451-501 and 441-481
// (BM_PingPong_FloorHotSpin keeps the hot-spin floor in every run). A hot
// loop hammering a line the other core is about to write delays that
// core's ownership of it; a one-line floor barely notices.
// Echo threads capture what they use by value: a reference into the
// benchmark thread's stack frame is re-read on every spin and shares lines
// with that thread's busy locals (this cost csm's SPSC throughput 3x).
#include <atomic>
#include <cstring>
#include <new>
#include <thread>

#include "bench_support.h"
#include "boost/lockfree/spsc_queue.hpp"
#include "csm/ring/channel.h"
#include "csm/ring/shared_access.h"
#include "csm/ring/spsc_packed_ring.h"
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

// The floor, each side pausing after a poll that found nothing (like every
// loop here) or, kHot, spinning flat out: both in every run, so a reader
// sees the pause does not make the baseline slower. The echo side answers
// an odd value v with v + 1 `answer_offset` bytes further on: 0 is the
// one-line floor both sides write; kLineSpacing is the floor for protocols
// in which each side writes only lines it owns, as every csm ring does (a
// read-only share cannot write its peer's line, and a line written by both
// is one the other side can corrupt). Both move as many lines per round
// trip, yet on some hosts two lines cost much more (AMD EPYC family 25
// model 17 guest, 2026-12-07: 370-451 ns against the one-line floor's
// 260-281 in one of the host's vCPU placements, equal in another), which
// tells how much of a ring's distance from the floor is the rings' own
// work and how much the price of one writer per line.
template <bool kHot>
void PingPongFloor(benchmark::State& state, std::size_t answer_offset) {
  SharedPair mem = SharedPair::Make(4096);
  auto* ping = reinterpret_cast<uint64_t*>(mem.a.span().data());
  auto* answer = reinterpret_cast<uint64_t*>(mem.a.span().data() + answer_offset);
  auto* ping_in = reinterpret_cast<uint64_t*>(mem.b.span().data());
  auto* answer_out = reinterpret_cast<uint64_t*>(mem.b.span().data() + answer_offset);
  shared::StoreRelaxed(ping, uint64_t{0});
  shared::StoreRelaxed(answer, uint64_t{0});
  std::thread echo([ping_in, answer_out] {
    PinToCpu(1);
    uint64_t seen = 0;
    for (;;) {
      const uint64_t v = shared::LoadAcquire(ping_in);
      if (v == kStop) return;
      if (v != seen && (v & 1)) {
        seen = v + 1;
        shared::StoreRelease(answer_out, seen);
      } else if (!kHot) {
        shared::CpuRelax();
      }
    }
  });
  PinToCpu(0);
  TimeRoundTrips(state, [&](uint64_t seq) {
    const uint64_t v = 2 * seq - 1;
    shared::StoreRelease(ping, v);
    while (shared::LoadAcquire(answer) != v + 1) {
      if (!kHot) shared::CpuRelax();
    }
  });
  shared::StoreRelease(ping, kStop);
  echo.join();
}

void BM_PingPong_Floor(benchmark::State& state) { PingPongFloor<false>(state, 0); }
void BM_PingPong_FloorHotSpin(benchmark::State& state) { PingPongFloor<true>(state, 0); }
void BM_PingPong_FloorTwoLines(benchmark::State& state) {
  PingPongFloor<false>(state, wire::kLineSpacing);
}

constexpr uint64_t kPingCapacity = 64;

template <typename Producer, typename Consumer>
void SpscPingPong(benchmark::State& state, uint64_t ring_bytes,
                  absl::Status (*format)(std::span<std::byte>, uint64_t)) {
  const std::size_t stride = (ring_bytes + 4095) / 4096 * 4096;
  SharedPair mem = SharedPair::Make(2 * stride);
  auto a_to_b = mem.a.span().first(ring_bytes);
  auto b_to_a = mem.a.span().subspan(stride, ring_bytes);
  if (!format(a_to_b, kPingCapacity).ok() || !format(b_to_a, kPingCapacity).ok()) {
    std::abort();
  }
  auto ping_out = Producer::Attach(a_to_b);
  auto pong_in = Consumer::Attach(b_to_a);
  // The echo side uses its own mapping of the same rings.
  auto ping_in = Consumer::Attach(mem.b.span().first(ring_bytes));
  auto pong_out = Producer::Attach(mem.b.span().subspan(stride, ring_bytes));
  std::thread echo([ping_in = &*ping_in, pong_out = &*pong_out] {
    PinToCpu(1);
    for (Ping p;;) {
      if (ping_in->try_pop(p) != RingResult::kOk) {
        shared::CpuRelax();
        continue;
      }
      if (p.seq == kStop) return;
      while (pong_out->try_push(p) != RingResult::kOk) shared::CpuRelax();
    }
  });
  PinToCpu(0);
  TimeRoundTrips(state, [&](uint64_t seq) {
    while (ping_out->try_push({seq}) != RingResult::kOk) shared::CpuRelax();
    Ping p;
    while (pong_in->try_pop(p) != RingResult::kOk) shared::CpuRelax();
    if (p.seq != seq) state.SkipWithError("wrong echo");
  });
  while (ping_out->try_push({kStop}) != RingResult::kOk) shared::CpuRelax();
  echo.join();
}

void BM_PingPong_CsmSpsc(benchmark::State& state) {
  SpscPingPong<SpscProducer<Ping>, SpscConsumer<Ping>>(
      state, *SpscRingBytes<Ping>(kPingCapacity), &FormatSpscRing<Ping>);
}

// The packed ring trades this latency for burst throughput: an item's
// readiness comes from the producer's position line, a second line to fetch.
void BM_PingPong_CsmSpscPacked(benchmark::State& state) {
  SpscPingPong<PackedSpscProducer<Ping>, PackedSpscConsumer<Ping>>(
      state, *PackedSpscRingBytes<Ping>(kPingCapacity), &FormatPackedSpscRing<Ping>);
}

// The zero-copy channel, one each way: an 8-byte message loaned, written in
// place and committed; received and read in place, then released.
void BM_PingPong_CsmChannel(benchmark::State& state) {
  constexpr uint64_t kArena = 64 * 1024;
  const std::size_t ring_bytes = *ChannelBytes(kArena);
  const std::size_t stride = (ring_bytes + 4095) / 4096 * 4096;
  SharedPair mem = SharedPair::Make(2 * stride);
  if (!FormatChannel(mem.a.span().first(ring_bytes), kArena).ok() ||
      !FormatChannel(mem.a.span().subspan(stride, ring_bytes), kArena).ok()) {
    std::abort();
  }
  auto ping_out = ChannelProducer::Attach(mem.a.span().first(ring_bytes));
  auto pong_in = ChannelConsumer::Attach(mem.a.span().subspan(stride, ring_bytes));
  auto ping_in = ChannelConsumer::Attach(mem.b.span().first(ring_bytes));
  auto pong_out = ChannelProducer::Attach(mem.b.span().subspan(stride, ring_bytes));
  auto send = [](ChannelProducer& p, uint64_t v) {
    ChannelLoan loan;
    while (p.try_loan(sizeof(v), loan) != RingResult::kOk) shared::CpuRelax();
    std::memcpy(loan.data.data(), &v, sizeof(v));
    (void)p.commit(loan);
  };
  auto receive = [](ChannelConsumer& c) {
    ChannelMessage m;
    while (c.try_receive(m) != RingResult::kOk) shared::CpuRelax();
    uint64_t v;
    std::memcpy(&v, m.data.data(), sizeof(v));
    (void)c.release(m);
    return v;
  };
  std::thread echo([receive, send, ping_in = &*ping_in, pong_out = &*pong_out] {
    PinToCpu(1);
    for (;;) {
      const uint64_t v = receive(*ping_in);
      if (v == kStop) return;
      send(*pong_out, v);
    }
  });
  PinToCpu(0);
  TimeRoundTrips(state, [&](uint64_t seq) {
    send(*ping_out, seq);
    if (receive(*pong_in) != seq) state.SkipWithError("wrong echo");
  });
  send(*ping_out, kStop);
  echo.join();
}

using BoostQueue = boost::lockfree::spsc_queue<Ping, boost::lockfree::capacity<64>>;

void BM_PingPong_Boost(benchmark::State& state) {
  SharedPair mem = SharedPair::Make(2 * 4096);
  // Each side uses its own mapping, as csm's rings do (see the throughput
  // benchmark: Boost's fixed-capacity queue holds no pointers).
  auto* ping = new (mem.a.span().data()) BoostQueue();
  auto* pong = new (mem.a.span().data() + 4096) BoostQueue();
  auto* ping_in = reinterpret_cast<BoostQueue*>(mem.b.span().data());
  auto* pong_out = reinterpret_cast<BoostQueue*>(mem.b.span().data() + 4096);
  std::thread echo([ping_in, pong_out] {
    PinToCpu(1);
    for (Ping p;;) {
      if (!ping_in->pop(p)) {
        shared::CpuRelax();
        continue;
      }
      if (p.seq == kStop) return;
      while (!pong_out->push(p)) shared::CpuRelax();
    }
  });
  PinToCpu(0);
  TimeRoundTrips(state, [&](uint64_t seq) {
    while (!ping->push({seq})) shared::CpuRelax();
    Ping p;
    while (!pong->pop(p)) shared::CpuRelax();
    if (p.seq != seq) state.SkipWithError("wrong echo");
  });
  while (!ping->push({kStop})) shared::CpuRelax();
  echo.join();
  ping->~BoostQueue();
  pong->~BoostQueue();
}

BENCHMARK(BM_PingPong_Floor)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_PingPong_FloorHotSpin)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_PingPong_FloorTwoLines)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_PingPong_CsmSpsc)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_PingPong_CsmSpscPacked)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_PingPong_CsmChannel)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_PingPong_Boost)->UseRealTime()->MinTime(0.5);

}  // namespace
}  // namespace csm::bench
