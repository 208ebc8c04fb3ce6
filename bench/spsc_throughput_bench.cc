// SPSC throughput: csm's rings (the sequenced ring, built for latency, and
// the packed ring, built for bursts) against boost::lockfree::spsc_queue
// placed in the same kind of shared memory, single items and batches,
// producer and consumer pinned to distinct cores.
#include <atomic>
#include <new>
#include <thread>

#include "bench_support.h"
#include "boost/lockfree/spsc_queue.hpp"
#include "csm/ring/shared_access.h"
#include "csm/ring/spsc_packed_ring.h"
#include "csm/ring/spsc_ring.h"

namespace csm::bench {
namespace {

struct Item {
  uint64_t seq;
  uint64_t payload;
};
constexpr uint64_t kCapacity = 4096;
constexpr int64_t kItemsPerIteration = 1 << 16;

// The producer thread's loop. Its arguments are copies in this frame: the
// closure that carried them lives on the heap beside the consumer's data
// (see PrivateArray), and a reference into the consumer's stack is worse
// (pingpong_bench.cc).
template <typename PushOne, typename PushMany>
void Produce(int64_t total, std::size_t batch, PushOne push_one, PushMany push_many) {
  PinToCpu(1);
  PrivateArray<Item> items(batch);
  for (int64_t next = 0; next < total;) {
    if (batch == 1) {
      if (push_one(Item{static_cast<uint64_t>(next), 0})) {
        ++next;
      } else {
        shared::CpuRelax();
      }
    } else {
      const std::size_t n = static_cast<std::size_t>(std::min<int64_t>(batch, total - next));
      for (std::size_t i = 0; i < n; ++i) items[i].seq = static_cast<uint64_t>(next) + i;
      const std::size_t pushed = push_many(items.data(), n);
      if (pushed == 0) shared::CpuRelax();
      next += static_cast<int64_t>(pushed);
    }
  }
}

template <typename Producer, typename Consumer>
void CsmThroughput(benchmark::State& state, uint64_t ring_bytes,
                   absl::Status (*format)(std::span<std::byte>, uint64_t)) {
  const std::size_t batch = static_cast<std::size_t>(state.range(0));
  SharedPair mem = SharedPair::Make(ring_bytes);
  if (!format(mem.a.span(), kCapacity).ok()) std::abort();
  auto consumer = Consumer::Attach(mem.b.span());
  const int64_t total = kItemsPerIteration * static_cast<int64_t>(state.max_iterations);
  // The producer's endpoint lives on its own thread's stack, as it would in
  // its own realm: its private position is written on every push and should
  // not sit among the lines the consumer's core touches all the time.
  std::thread thread([span = mem.a.span(), total, batch] {
    auto producer = Producer::Attach(span);
    if (!producer.ok()) std::abort();
    Producer* p = &*producer;
    Produce(
        total, batch, [p](const Item& item) { return p->try_push(item) == RingResult::kOk; },
        [p](const Item* items, std::size_t n) {
          return p->try_push_burst(std::span<const Item>(items, n)).count;
        });
  });
  PinToCpu(0);
  PrivateArray<Item> out(batch);
  uint64_t expect = 0;
  for (auto _ : state) {
    for (int64_t got = 0; got < kItemsPerIteration;) {
      std::size_t n;
      if (batch == 1) {
        n = consumer->try_pop(out[0]) == RingResult::kOk ? 1 : 0;
      } else {
        n = consumer->try_pop_burst(out.span().first(
                static_cast<std::size_t>(std::min<int64_t>(batch, kItemsPerIteration - got))))
                .count;
      }
      for (std::size_t i = 0; i < n; ++i) {
        if (out[i].seq != expect++) state.SkipWithError("out of order");
      }
      if (n == 0) shared::CpuRelax();
      got += static_cast<int64_t>(n);
    }
  }
  thread.join();
  state.SetItemsProcessed(state.iterations() * kItemsPerIteration);
}

void BM_SpscThroughput_Csm(benchmark::State& state) {
  CsmThroughput<SpscProducer<Item>, SpscConsumer<Item>>(state, *SpscRingBytes<Item>(kCapacity),
                                                        &FormatSpscRing<Item>);
}

// The packed ring: no sequence word per slot, so a burst carries only payload.
void BM_SpscThroughput_CsmPacked(benchmark::State& state) {
  CsmThroughput<PackedSpscProducer<Item>, PackedSpscConsumer<Item>>(
      state, *PackedSpscRingBytes<Item>(kCapacity), &FormatPackedSpscRing<Item>);
}

// Boost's queue with a compile-time capacity keeps its storage and indices
// inline (no pointers), so it can live in the shared file too. Like csm's
// ring, the producer uses one mapping and the consumer another: two
// processes never share an address space, and a line moving between two
// mappings of one page costs more on some machines than within one.
using BoostQueue = boost::lockfree::spsc_queue<Item, boost::lockfree::capacity<kCapacity>>;

void BM_SpscThroughput_Boost(benchmark::State& state) {
  const std::size_t batch = static_cast<std::size_t>(state.range(0));
  SharedPair mem = SharedPair::Make(sizeof(BoostQueue) + 64);
  auto* queue = new (mem.a.span().data()) BoostQueue();
  auto* producer_view = queue;
  auto* consumer_view = reinterpret_cast<BoostQueue*>(mem.b.span().data());
  const int64_t total = kItemsPerIteration * static_cast<int64_t>(state.max_iterations);
  std::thread thread([q = producer_view, total, batch] {
    Produce(
        total, batch, [q](const Item& item) { return q->push(item); },
        [q](const Item* items, std::size_t n) { return q->push(items, n); });
  });
  PinToCpu(0);
  PrivateArray<Item> out(batch);
  uint64_t expect = 0;
  for (auto _ : state) {
    for (int64_t got = 0; got < kItemsPerIteration;) {
      std::size_t n;
      if (batch == 1) {
        n = consumer_view->pop(out[0]) ? 1 : 0;
      } else {
        n = consumer_view->pop(out.data(),
                       static_cast<std::size_t>(std::min<int64_t>(batch, kItemsPerIteration - got)));
      }
      for (std::size_t i = 0; i < n; ++i) {
        if (out[i].seq != expect++) state.SkipWithError("out of order");
      }
      if (n == 0) shared::CpuRelax();
      got += static_cast<int64_t>(n);
    }
  }
  thread.join();
  queue->~BoostQueue();
  state.SetItemsProcessed(state.iterations() * kItemsPerIteration);
}

BENCHMARK(BM_SpscThroughput_Csm)->Arg(1)->Arg(32)->UseRealTime()->MinTime(0.5);
// Bursts of 1024 show what moving payload lines costs: the packed ring ran
// 650-693 M/s with them and 145-199 M/s with bursts of 32 (2026-12-06), so
// bursts of 32 are bound by the per-burst hand-off of the position (the
// consumer, caught up, re-reads the line the producer writes next), not by
// payload bandwidth (bench/results/README.md).
BENCHMARK(BM_SpscThroughput_CsmPacked)->Arg(1)->Arg(32)->Arg(1024)->UseRealTime()->MinTime(0.5);
BENCHMARK(BM_SpscThroughput_Boost)->Arg(1)->Arg(32)->Arg(1024)->UseRealTime()->MinTime(0.5);

}  // namespace
}  // namespace csm::bench
