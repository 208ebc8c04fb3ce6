// A hostile peer scribbles random and adversarial values over a ring's
// indices, record headers, turn words and header while the honest side keeps
// working. The honest side runs in its own process with inaccessible guard
// pages around its mapping (and under ASan in the sanitizer build): it must
// never crash or touch memory outside the span, every operation must return,
// and its violation counters must move.
#include <atomic>
#include <cstring>
#include <random>

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

// What the honest process reports back through shared memory.
struct Report {
  uint64_t attached;  // set once the honest side has attached: scribbling starts
  uint64_t done;  // set when the honest side has finished its operations
  uint64_t ops;
  uint64_t faults;
  uint64_t touched_bytes;  // message bytes read in place
};

struct Payload {
  uint64_t a, b, c;
};

// Values chosen to sit just outside (and inside) every window the honest
// side checks, plus the classic overflow and alignment traps.
uint64_t Adversarial(std::mt19937_64& rng, uint64_t near, uint64_t capacity) {
  switch (rng() % 12) {
    case 0: return 0;
    case 1: return ~uint64_t{0};
    case 2: return near + capacity;
    case 3: return near + capacity + 1;
    case 4: return near - 1;
    case 5: return near + 1;
    case 6: return near + (rng() % 16);
    case 7: return uint64_t{1} << 63;
    case 8: return near - capacity;
    case 9: return capacity;
    case 10: return near + 3;  // misaligned for the channel
    default: return rng();
  }
}

class HostilePeerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = SharedFile::Create(sizeof(Report));
    ASSERT_TRUE(r.ok());
    report_file_.emplace(std::move(*r));
  }

  // Runs `honest` (returns 0 when it ran to completion) against `hostile`
  // (called in a loop until the honest side is done), each in its own
  // process, and returns the honest side's report.
  template <typename Honest, typename Hostile>
  Report Run(const SharedFile& ring, Honest honest, Hostile hostile) {
    const pid_t honest_pid = Spawn([&] {
      auto view = ring.Map(/*guard_pages=*/true);
      auto rv = report_file_->Map();
      if (!view.ok() || !rv.ok()) return 2;
      auto* report = reinterpret_cast<Report*>(rv->span().data());
      const int rc = honest(view->span(), *report, [report] {
        std::atomic_ref<uint64_t>(report->attached).store(1);
      });
      std::atomic_ref<uint64_t>(report->done).store(1);
      return rc;
    });
    const pid_t hostile_pid = Spawn([&] {
      auto view = ring.Map();
      auto rv = report_file_->Map();
      if (!view.ok() || !rv.ok()) return 2;
      auto* report = reinterpret_cast<Report*>(rv->span().data());
      std::mt19937_64 rng(12345);
      while (!std::atomic_ref<uint64_t>(report->attached).load() &&
             !std::atomic_ref<uint64_t>(report->done).load()) {
        sched_yield();
      }
      // Bounded even if the honest side hangs: ctest's timeout is the backstop.
      for (uint64_t i = 0; i < 2'000'000'000 && !std::atomic_ref<uint64_t>(report->done).load();
           ++i) {
        hostile(view->span(), rng);
      }
      return 0;
    });
    EXPECT_EQ(Reap(honest_pid), "") << "honest side";
    EXPECT_EQ(Reap(hostile_pid), "") << "hostile side";
    auto rv = report_file_->Map();
    const Report report = *reinterpret_cast<const Report*>(rv->span().data());
    std::printf("honest side: %lu ops, %lu peer faults detected\n",
                static_cast<unsigned long>(report.ops), static_cast<unsigned long>(report.faults));
    return report;
  }

  std::optional<SharedFile> report_file_;
};

constexpr uint64_t kSlots = 64;

SharedFile MakeSpsc() {
  auto f = SharedFile::Create(*SpscRingBytes<Payload>(kSlots));
  auto v = f->Map();
  EXPECT_TRUE(FormatSpscRing<Payload>(v->span(), kSlots).ok());
  return std::move(*f);
}

// Scribbles one random 8-byte word anywhere in the span (header included)
// except the consumer's line when `spare_consumer_line`: a hostile producer
// that wants to keep feeding the consumer reads its position from there.
void ScribbleAnywhere(std::span<std::byte> span, std::mt19937_64& rng,
                      bool spare_consumer_line = false) {
  std::size_t offset = (rng() % (span.size() / 8)) * 8;
  if (spare_consumer_line && offset >= 256 && offset < 384) offset -= 128;
  shared::StoreRelaxed(reinterpret_cast<uint64_t*>(span.data() + offset), rng());
}

TEST_F(HostilePeerTest, SpscConsumerAgainstHostileProducer) {
  SharedFile ring = MakeSpsc();
  const uint64_t attempts = Scaled(20'000'000);
  Report r = Run(
      ring,
      [&](std::span<std::byte> span, Report& report, auto attached) {
        auto c = SpscConsumer<Payload>::Attach(span);
        if (!c.ok()) return 5;
        attached();
        Payload p[8];
        for (uint64_t i = 0; i < attempts; ++i) {
          if (i % 2) {
            (void)c->try_pop(p[0]);
          } else {
            (void)c->try_pop_burst(p);
          }
        }
        report.ops = c->stats().ops;
        report.faults = c->stats().peer_faults;
        return 0;
      },
      [&](std::span<std::byte> span, std::mt19937_64& rng) {
        // Mostly honest-looking slot sequences at the consumer's position,
        // often impossible ones, sometimes a scribble anywhere.
        const uint64_t head = shared::LoadRelaxed(&ConsumerLine(span)->position);
        const uint64_t ahead = rng() % kSlots;
        auto* seq = reinterpret_cast<uint64_t*>(span.data() + wire::kDataOffset +
                                                ((head + ahead) % kSlots) * (8 + sizeof(Payload)));
        switch (rng() % 4) {
          case 0: ScribbleAnywhere(span, rng, true); break;
          case 1: shared::StoreRelease(seq, Adversarial(rng, head + ahead + 1, kSlots)); break;
          default: shared::StoreRelease(seq, head + ahead + 1);  // honest-looking
        }
      });
  EXPECT_GT(r.faults, 0u);
  EXPECT_GT(r.ops, 0u);
}

TEST_F(HostilePeerTest, SpscProducerAgainstHostileConsumer) {
  SharedFile ring = MakeSpsc();
  const uint64_t attempts = Scaled(20'000'000);
  Report r = Run(
      ring,
      [&](std::span<std::byte> span, Report& report, auto attached) {
        auto p = SpscProducer<Payload>::Attach(span);
        if (!p.ok()) return 5;
        attached();
        Payload batch[8] = {};
        for (uint64_t i = 0; i < attempts; ++i) {
          if (i % 2) {
            (void)p->try_push(batch[0]);
          } else {
            (void)p->try_push_burst(batch);
          }
        }
        report.ops = p->stats().ops;
        report.faults = p->stats().peer_faults;
        return 0;
      },
      [&](std::span<std::byte> span, std::mt19937_64& rng) {
        const uint64_t tail = shared::LoadRelaxed(&ProducerLine(span)->position);
        uint64_t value = rng() % 2 ? tail - rng() % (kSlots + 1) : Adversarial(rng, tail, kSlots);
        shared::StoreRelease(&ConsumerLine(span)->position, value);
        if (rng() % 8 == 0) ScribbleAnywhere(span, rng);
      });
  EXPECT_GT(r.faults, 0u);
  EXPECT_GT(r.ops, 0u);
}

SharedFile MakePackedSpsc() {
  auto f = SharedFile::Create(*PackedSpscRingBytes<Payload>(kSlots));
  auto v = f->Map();
  EXPECT_TRUE(FormatPackedSpscRing<Payload>(v->span(), kSlots).ok());
  return std::move(*f);
}

// The packed ring has no slot words: all the consumer trusts is the
// producer's position, so that is what the hostile producer lies about.
TEST_F(HostilePeerTest, PackedSpscConsumerAgainstHostileProducer) {
  SharedFile ring = MakePackedSpsc();
  const uint64_t attempts = Scaled(20'000'000);
  Report r = Run(
      ring,
      [&](std::span<std::byte> span, Report& report, auto attached) {
        auto c = PackedSpscConsumer<Payload>::Attach(span);
        if (!c.ok()) return 5;
        attached();
        Payload p[8];
        // On a loaded machine the hostile process may not have run yet when
        // the attempts are spent: go on (bounded) until it has been seen.
        for (uint64_t i = 0; i < attempts || (c->stats().peer_faults == 0 && i < 50 * attempts);
             ++i) {
          (void)(i % 2 ? c->try_pop_burst(std::span(p, 1)) : c->try_pop_burst(p));
        }
        report.ops = c->stats().ops;
        report.faults = c->stats().peer_faults;
        return 0;
      },
      [&](std::span<std::byte> span, std::mt19937_64& rng) {
        const uint64_t head = shared::LoadRelaxed(&ConsumerLine(span)->position);
        switch (rng() % 4) {
          case 0: ScribbleAnywhere(span, rng, true); break;
          case 1:
            shared::StoreRelease(&ProducerLine(span)->position, Adversarial(rng, head, kSlots));
            break;
          default:  // honest-looking: up to a full ring ahead of the consumer
            shared::StoreRelease(&ProducerLine(span)->position, head + rng() % (kSlots + 1));
        }
      });
  EXPECT_GT(r.faults, 0u);
  EXPECT_GT(r.ops, 0u);
}

TEST_F(HostilePeerTest, PackedSpscProducerAgainstHostileConsumer) {
  SharedFile ring = MakePackedSpsc();
  const uint64_t attempts = Scaled(20'000'000);
  Report r = Run(
      ring,
      [&](std::span<std::byte> span, Report& report, auto attached) {
        auto p = PackedSpscProducer<Payload>::Attach(span);
        if (!p.ok()) return 5;
        attached();
        Payload batch[8] = {};
        for (uint64_t i = 0; i < attempts; ++i) {
          if (i % 2) {
            (void)p->try_push(batch[0]);
          } else {
            (void)p->try_push_burst(batch);
          }
        }
        report.ops = p->stats().ops;
        report.faults = p->stats().peer_faults;
        return 0;
      },
      [&](std::span<std::byte> span, std::mt19937_64& rng) {
        const uint64_t tail = shared::LoadRelaxed(&ProducerLine(span)->position);
        uint64_t value = rng() % 2 ? tail - rng() % (kSlots + 1) : Adversarial(rng, tail, kSlots);
        shared::StoreRelease(&ConsumerLine(span)->position, value);
        if (rng() % 8 == 0) ScribbleAnywhere(span, rng);
      });
  EXPECT_GT(r.faults, 0u);
  EXPECT_GT(r.ops, 0u);
}

constexpr uint64_t kArena = 4096;

SharedFile MakeChannel() {
  auto f = SharedFile::Create(*ChannelBytes(kArena));
  auto v = f->Map();
  EXPECT_TRUE(FormatChannel(v->span(), kArena).ok());
  return std::move(*f);
}

TEST_F(HostilePeerTest, ChannelConsumerAgainstHostileProducer) {
  SharedFile ring = MakeChannel();
  const uint64_t attempts = Scaled(20'000'000);
  Report r = Run(
      ring,
      [&](std::span<std::byte> span, Report& report, auto attached) {
        auto c = ChannelConsumer::Attach(span);
        if (!c.ok()) return 5;
        attached();
        std::byte copy[kArena];
        uint64_t sum = 0, touched = 0;
        // Past `attempts`, keep going (up to 10x) until the producer's lies,
        // which start only after honest traffic, have been seen.
        for (uint64_t i = 0; i < attempts || (c->stats().peer_faults == 0 && i < 10 * attempts);
             ++i) {
          ChannelMessage m;
          if (i % 3 == 0) {
            std::size_t n;
            (void)c->try_receive_copy(copy, n);
            continue;
          }
          if (c->try_receive(m) != RingResult::kOk) continue;
          // The view must lie inside our span; read every byte of it.
          CSM_CHILD_CHECK(m.data.data() >= span.data() &&
                              m.data.data() + m.data.size() <= span.data() + span.size(),
                          "message view outside the span");
          for (std::byte b : m.data) sum += static_cast<uint8_t>(b);
          touched += m.data.size();
          if (i % 5 != 0) (void)c->release(m);
        }
        report.ops = c->stats().ops;
        report.faults = c->stats().peer_faults;
        report.touched_bytes = touched + (sum & 1) * 0;
        return 0;
      },
      [&, tail = uint64_t{0}](std::span<std::byte> span, std::mt19937_64& rng) mutable {
        // Mostly a working producer (so the consumer reads real messages in
        // place), interleaved with every kind of lie.
        std::byte* arena = span.data() + wire::kDataOffset;
        auto word_at = [&](uint64_t pos) {
          return reinterpret_cast<uint64_t*>(arena + (pos & (kArena - 1) & ~7ull));
        };
        // Writes a record at our position the way an honest producer does.
        auto commit = [&](uint64_t record, uint32_t length, wire::RecordType type) {
          shared::StoreRelaxed(word_at(tail + record), uint64_t{0});
          shared::StoreRelaxed(word_at(tail + 8), wire::PackRecord(length, type));
          shared::StoreRelease(word_at(tail), tail + 1);
          tail += record;
        };
        const uint64_t head = shared::LoadRelaxed(&ConsumerLine(span)->position);
        if (tail - head > kArena || tail % 64 != 0) tail = head & ~63ull;  // resync after lies
        // Lies start once the consumer has read 16 laps, so many
        // real messages flow before the first lie desynchronises the channel
        // (after which the consumer stalls, as it should, and counts every
        // attempt).
        const bool lie = head > 16 * kArena && rng() % 4096 < 3;
        switch (lie ? rng() % 3 : 3) {
          case 0: ScribbleAnywhere(span, rng, true); break;
          case 1: {  // a record with a hostile length / type / tag somewhere unread
            const uint32_t lengths[] = {0, 1, 7, 8, kArena - 16, kArena - 15, kArena, 0xFFFFFFFFu,
                                        static_cast<uint32_t>(rng())};
            const uint32_t type = rng() % 4 == 0 ? static_cast<uint32_t>(rng()) : 1 + rng() % 2;
            const uint64_t at = head + (rng() % kArena);
            shared::StoreRelaxed(word_at(at + 8), uint64_t{lengths[rng() % 9]} | uint64_t{type} << 32);
            shared::StoreRelease(word_at(at), static_cast<uint64_t>(rng() % 2 ? (at & ~63ull) + 1 : Adversarial(rng, at, kArena)));
            break;
          }
          case 2:
            shared::StoreRelease(word_at(tail), Adversarial(rng, tail + 1, kArena));
            break;
          default: {  // an honest message, with padding when it would wrap
            const uint64_t len = rng() % 512;
            const uint64_t record = (16 + len + 63) & ~63ull;
            const uint64_t offset = tail & (kArena - 1);
            const uint64_t padding = offset + record > kArena ? kArena - offset : 0;
            if (tail + padding + record + 16 - head > kArena) break;  // no room
            if (padding != 0) {
              commit(padding, static_cast<uint32_t>(padding - 16), wire::RecordType::kPadding);
            }
            commit(record, static_cast<uint32_t>(len), wire::RecordType::kMessage);
          }
        }
      });
  EXPECT_GT(r.faults, 0u);
  EXPECT_GT(r.ops, 0u);
  EXPECT_GT(r.touched_bytes, 0u);
}

TEST_F(HostilePeerTest, ChannelProducerAgainstHostileConsumer) {
  SharedFile ring = MakeChannel();
  const uint64_t attempts = Scaled(20'000'000);
  Report r = Run(
      ring,
      [&](std::span<std::byte> span, Report& report, auto attached) {
        auto p = ChannelProducer::Attach(span);
        if (!p.ok()) return 5;
        attached();
        for (uint64_t i = 0; i < attempts; ++i) {
          ChannelLoan loan;
          if (p->try_loan(i % 1000, loan) != RingResult::kOk) continue;
          CSM_CHILD_CHECK(loan.data.data() >= span.data() &&
                              loan.data.data() + loan.data.size() <= span.data() + span.size(),
                          "loan outside the span");
          std::memset(loan.data.data(), 0xAB, loan.data.size());
          CSM_CHILD_CHECK(p->commit(loan).ok(), "commit of a fresh loan failed");
        }
        report.ops = p->stats().ops;
        report.faults = p->stats().peer_faults;
        return 0;
      },
      [&](std::span<std::byte> span, std::mt19937_64& rng) {
        const uint64_t tail = shared::LoadRelaxed(&ProducerLine(span)->position);
        uint64_t value =
            rng() % 2 ? (tail - rng() % (kArena + 1)) & ~63ull : Adversarial(rng, tail, kArena);
        shared::StoreRelease(&ConsumerLine(span)->position, value);
      });
  EXPECT_GT(r.faults, 0u);
  EXPECT_GT(r.ops, 0u);
}

TEST_F(HostilePeerTest, MpmcEndpointAgainstHostileParty) {
  auto f = SharedFile::Create(*MpmcRingBytes<Payload>(kSlots));
  {
    auto v = f->Map();
    ASSERT_TRUE(FormatMpmcRing<Payload>(v->span(), kSlots).ok());
  }
  const uint64_t attempts = Scaled(10'000'000);
  Report r = Run(
      *f,
      [&](std::span<std::byte> span, Report& report, auto attached) {
        auto e = MpmcEndpoint<Payload>::Attach(span);
        if (!e.ok()) return 5;
        attached();
        Payload p{};
        for (uint64_t i = 0; i < attempts; ++i) {
          if (i % 2) (void)e->try_push(p); else (void)e->try_pop(p);
        }
        report.ops = e->stats().ops;
        report.faults = e->stats().peer_faults;
        return 0;
      },
      [&](std::span<std::byte> span, std::mt19937_64& rng) {
        std::byte* data = span.data() + wire::kDataOffset;
        const uint64_t slot = rng() % kSlots;
        auto* turn = reinterpret_cast<uint64_t*>(data + slot * 64);
        const uint64_t enq = shared::LoadRelaxed(&ProducerLine(span)->position);
        switch (rng() % 4) {
          case 0: shared::StoreRelease(turn, Adversarial(rng, enq, kSlots)); break;
          case 1: shared::StoreRelease(&ProducerLine(span)->position, Adversarial(rng, enq, kSlots)); break;
          case 2: shared::StoreRelease(&ConsumerLine(span)->position, Adversarial(rng, enq, kSlots)); break;
          default: ScribbleAnywhere(span, rng);
        }
      });
  EXPECT_GT(r.faults, 0u);
}

}  // namespace
}  // namespace csm
