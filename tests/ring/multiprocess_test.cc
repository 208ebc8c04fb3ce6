// Rings between processes: each process maps the shared file at its own
// address, and tens of millions of messages must arrive exactly once, intact
// and (per producer) in order.
#include <sched.h>

#include <atomic>
#include <cstring>
#include <random>
#include <vector>

#include "csm/ring/channel.h"
#include "csm/ring/mpmc_ring.h"
#include "csm/ring/shared_span.h"
#include "csm/ring/spsc_packed_ring.h"
#include "csm/ring/spsc_ring.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"

namespace csm {
namespace {

using csm::testing::Reap;
using csm::testing::Scaled;
using csm::testing::Spawn;

struct Msg {
  uint64_t seq;
  uint64_t check;
};
uint64_t Check(uint64_t seq) { return (seq + 1) * 0x9E3779B97F4A7C15ull; }

// Spins politely: with more processes than cores a waiting side must yield.
void Backoff(int& spins) {
  if (++spins < 64) {
    shared::CpuRelax();
  } else {
    spins = 0;
    sched_yield();
  }
}

template <typename Endpoint>
Endpoint AttachOrDie(std::span<std::byte> span) {
  auto e = Endpoint::Attach(span);
  if (!e.ok()) {
    std::fprintf(stderr, "attach: %s\n", e.status().ToString().c_str());
    _exit(3);
  }
  return std::move(*e);
}

SharedView MapOrDie(const SharedFile& file) {
  auto v = file.Map(true);
  if (!v.ok()) _exit(4);
  return std::move(*v);
}

// Both SPSC layouts (sequenced and packed) run the same streams.
template <typename Producer, typename Consumer>
void SpscStreams(uint64_t ring_bytes, absl::Status (*format)(std::span<std::byte>, uint64_t)) {
  for (const bool burst : {false, true}) {
    const uint64_t count = Scaled(burst ? 40'000'000 : 20'000'000);
    auto file = SharedFile::Create(ring_bytes);
    ASSERT_TRUE(file.ok());
    {
      auto v = file->Map();
      ASSERT_TRUE(format(v->span(), 4096).ok());
    }
    const pid_t producer = Spawn([&] {
      SharedView view = MapOrDie(*file);
      auto p = AttachOrDie<Producer>(view.span());
      std::vector<Msg> batch(32);
      int spins = 0;
      for (uint64_t next = 0; next < count;) {
        if (burst) {
          const uint64_t n = std::min<uint64_t>(batch.size(), count - next);
          for (uint64_t i = 0; i < n; ++i) batch[i] = {next + i, Check(next + i)};
          const BurstResult r = p.try_push_burst(std::span(batch).first(n));
          CSM_CHILD_CHECK(r.result != RingResult::kPeerFault, "producer fault");
          next += r.count;
          if (r.count == 0) Backoff(spins);
        } else {
          const RingResult r = p.try_push({next, Check(next)});
          CSM_CHILD_CHECK(r != RingResult::kPeerFault, "producer fault");
          if (r == RingResult::kOk) ++next; else Backoff(spins);
        }
      }
      return 0;
    });
    const pid_t consumer = Spawn([&] {
      SharedView view = MapOrDie(*file);
      auto c = AttachOrDie<Consumer>(view.span());
      std::vector<Msg> batch(32);
      int spins = 0;
      for (uint64_t expect = 0; expect < count;) {
        std::size_t n = 0;
        if (burst) {
          const BurstResult r = c.try_pop_burst(batch);
          CSM_CHILD_CHECK(r.result != RingResult::kPeerFault, "consumer fault");
          n = r.count;
        } else {
          const RingResult r = c.try_pop(batch[0]);
          CSM_CHILD_CHECK(r != RingResult::kPeerFault, "consumer fault");
          n = r == RingResult::kOk ? 1 : 0;
        }
        if (n == 0) Backoff(spins);
        for (std::size_t i = 0; i < n; ++i, ++expect) {
          CSM_CHILD_CHECK(batch[i].seq == expect, "got seq %lu, expected %lu",
                          (unsigned long)batch[i].seq, (unsigned long)expect);
          CSM_CHILD_CHECK(batch[i].check == Check(expect), "bad checksum at %lu",
                          (unsigned long)expect);
        }
      }
      CSM_CHILD_CHECK(c.stats().ops == count, "ops %lu", (unsigned long)c.stats().ops);
      return 0;
    });
    EXPECT_EQ(Reap(producer), "") << (burst ? "burst" : "single");
    EXPECT_EQ(Reap(consumer), "") << (burst ? "burst" : "single");
  }
}

TEST(MultiProcessTest, SpscSingleAndBurstStreams) {
  SpscStreams<SpscProducer<Msg>, SpscConsumer<Msg>>(*SpscRingBytes<Msg>(4096),
                                                    &FormatSpscRing<Msg>);
}

TEST(MultiProcessTest, PackedSpscSingleAndBurstStreams) {
  SpscStreams<PackedSpscProducer<Msg>, PackedSpscConsumer<Msg>>(*PackedSpscRingBytes<Msg>(4096),
                                                                &FormatPackedSpscRing<Msg>);
}

// Payload of message `seq`: its size and bytes follow from the sequence
// number alone (a window into a fixed random pattern), so the consumer can
// check every byte with one memcmp.
std::size_t MessageSize(uint64_t seq) { return (seq * 2654435761u) % 700; }
const std::byte* Pattern(uint64_t seq) {
  static const std::vector<std::byte> pattern = [] {
    std::vector<std::byte> p(2048);
    std::mt19937 rng(7);
    for (auto& b : p) b = std::byte(rng());
    return p;
  }();
  return pattern.data() + (seq * 131) % 1024;
}

TEST(MultiProcessTest, ChannelStreamsVariableSizeMessages) {
  const uint64_t count = Scaled(10'000'000);
  auto file = SharedFile::Create(*ChannelBytes(64 * 1024));
  ASSERT_TRUE(file.ok());
  {
    auto v = file->Map();
    ASSERT_TRUE(FormatChannel(v->span(), 64 * 1024).ok());
  }
  const pid_t producer = Spawn([&] {
    SharedView view = MapOrDie(*file);
    auto p = AttachOrDie<ChannelProducer>(view.span());
    int spins = 0;
    for (uint64_t seq = 0; seq < count;) {
      const std::size_t size = MessageSize(seq) + 8;
      ChannelLoan loan;
      const RingResult r = p.try_loan(size, loan);
      CSM_CHILD_CHECK(r == RingResult::kOk || r == RingResult::kWouldBlock, "loan %d", int(r));
      if (r != RingResult::kOk) {
        Backoff(spins);
        continue;
      }
      std::memcpy(loan.data.data(), &seq, 8);
      std::memcpy(loan.data.data() + 8, Pattern(seq), size - 8);
      CSM_CHILD_CHECK(p.commit(loan).ok(), "commit");
      ++seq;
    }
    return 0;
  });
  const pid_t consumer = Spawn([&] {
    SharedView view = MapOrDie(*file);
    auto c = AttachOrDie<ChannelConsumer>(view.span());
    int spins = 0;
    for (uint64_t seq = 0; seq < count;) {
      ChannelMessage m;
      const RingResult r = c.try_receive(m);
      CSM_CHILD_CHECK(r == RingResult::kOk || r == RingResult::kWouldBlock, "receive %d", int(r));
      if (r != RingResult::kOk) {
        Backoff(spins);
        continue;
      }
      const std::size_t size = MessageSize(seq) + 8;
      CSM_CHILD_CHECK(m.data.size() == size, "size %zu, expected %zu at %lu", m.data.size(),
                      size, (unsigned long)seq);
      uint64_t got;
      std::memcpy(&got, m.data.data(), 8);
      CSM_CHILD_CHECK(got == seq, "seq %lu, expected %lu", (unsigned long)got, (unsigned long)seq);
      CSM_CHILD_CHECK(std::memcmp(m.data.data() + 8, Pattern(seq), size - 8) == 0,
                      "payload of %lu differs", (unsigned long)seq);
      CSM_CHILD_CHECK(c.release(m).ok(), "release");
      ++seq;
    }
    return 0;
  });
  EXPECT_EQ(Reap(producer), "");
  EXPECT_EQ(Reap(consumer), "");
}

struct Ticket {
  uint32_t producer;
  uint32_t check;
  uint64_t seq;
};

TEST(MultiProcessTest, MpmcTwoProducersTwoConsumers) {
  constexpr int kProducers = 2, kConsumers = 2;
  const uint64_t per_producer = Scaled(5'000'000);
  auto ring = SharedFile::Create(*MpmcRingBytes<Ticket>(1024));
  // One bit per message per producer, set exactly once by whoever receives it.
  auto seen = SharedFile::Create(kProducers * (per_producer / 8 + 8));
  ASSERT_TRUE(ring.ok() && seen.ok());
  {
    auto v = ring->Map();
    ASSERT_TRUE(FormatMpmcRing<Ticket>(v->span(), 1024).ok());
  }
  std::vector<pid_t> pids;
  for (uint32_t p = 0; p < kProducers; ++p) {
    pids.push_back(Spawn([&, p] {
      SharedView view = MapOrDie(*ring);
      auto e = AttachOrDie<MpmcEndpoint<Ticket>>(view.span());
      int spins = 0;
      for (uint64_t s = 0; s < per_producer;) {
        const RingResult r = e.try_push({p, static_cast<uint32_t>(Check(s) >> 32), s});
        CSM_CHILD_CHECK(r != RingResult::kPeerFault, "push fault");
        if (r == RingResult::kOk) ++s; else Backoff(spins);
      }
      return 0;
    }));
  }
  for (int c = 0; c < kConsumers; ++c) {
    pids.push_back(Spawn([&] {
      SharedView view = MapOrDie(*ring);
      SharedView bits = MapOrDie(*seen);
      auto e = AttachOrDie<MpmcEndpoint<Ticket>>(view.span());
      auto* words = reinterpret_cast<uint64_t*>(bits.span().data());
      // The last word counts messages taken by all consumers together.
      const std::size_t words_per_producer = per_producer / 64 + 1;
      uint64_t* taken = words + kProducers * words_per_producer;
      std::vector<uint64_t> last(kProducers, ~uint64_t{0});
      int spins = 0;
      while (std::atomic_ref<uint64_t>(*taken).load() < kProducers * per_producer) {
        Ticket t;
        const RingResult r = e.try_pop(t);
        CSM_CHILD_CHECK(r != RingResult::kPeerFault, "pop fault");
        if (r != RingResult::kOk) {
          Backoff(spins);
          continue;
        }
        CSM_CHILD_CHECK(t.producer < kProducers && t.seq < per_producer, "bad ticket");
        CSM_CHILD_CHECK(t.check == static_cast<uint32_t>(Check(t.seq) >> 32), "bad check");
        CSM_CHILD_CHECK(last[t.producer] == ~uint64_t{0} || t.seq > last[t.producer],
                        "reordered: %lu after %lu", (unsigned long)t.seq,
                        (unsigned long)last[t.producer]);
        last[t.producer] = t.seq;
        uint64_t& word = words[t.producer * words_per_producer + t.seq / 64];
        const uint64_t bit = uint64_t{1} << (t.seq % 64);
        const uint64_t before = std::atomic_ref<uint64_t>(word).fetch_or(bit);
        CSM_CHILD_CHECK((before & bit) == 0, "duplicate %u/%lu", t.producer, (unsigned long)t.seq);
        std::atomic_ref<uint64_t>(*taken).fetch_add(1);
      }
      return 0;
    }));
  }
  for (pid_t pid : pids) EXPECT_EQ(Reap(pid), "");
  // Nothing lost: every bit of every producer is set.
  auto bits = seen->Map();
  ASSERT_TRUE(bits.ok());
  const auto* words = reinterpret_cast<const uint64_t*>(bits->span().data());
  const std::size_t words_per_producer = per_producer / 64 + 1;
  uint64_t received = 0;
  for (int p = 0; p < kProducers; ++p) {
    for (std::size_t w = 0; w < words_per_producer; ++w) {
      received += __builtin_popcountll(words[p * words_per_producer + w]);
    }
  }
  EXPECT_EQ(received, kProducers * per_producer);
}

}  // namespace
}  // namespace csm
