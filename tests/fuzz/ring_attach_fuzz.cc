// Fuzzes attaching: arbitrary bytes in the ring prefix (header and index
// lines) must be accepted only when consistent, never crash or overreach.
#include "csm/ring/channel.h"
#include "csm/ring/mpmc_ring.h"
#include "csm/ring/spsc_packed_ring.h"
#include "csm/ring/spsc_ring.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::span<std::byte> span = csm::fuzz::GuardedSpan(64 * 1024);
  std::memset(span.data(), 0, csm::wire::kDataOffset);
  std::memcpy(span.data(), data, std::min<std::size_t>(size, csm::wire::kDataOffset));
  // Every endpoint kind against the same bytes; a shorter mapping too.
  for (std::size_t len : {span.size(), std::size_t{4096}, std::size_t{384}}) {
    auto s = span.first(len);
    (void)csm::SpscConsumer<uint64_t>::Attach(s);
    (void)csm::SpscProducer<uint64_t>::Attach(s);
    if (auto c = csm::PackedSpscConsumer<uint64_t>::Attach(s); c.ok()) {
      uint64_t item[4];
      (void)c->try_pop_burst(item);
    }
    (void)csm::PackedSpscProducer<uint64_t>::Attach(s);
    (void)csm::MpmcEndpoint<uint32_t>::Attach(s);
    if (auto c = csm::ChannelConsumer::Attach(s); c.ok()) {
      csm::ChannelMessage m;
      if (c->try_receive(m) == csm::RingResult::kOk) {
        volatile uint8_t sink = 0;
        for (std::byte b : m.data) sink = sink + static_cast<uint8_t>(b);
      }
    }
    (void)csm::ChannelProducer::Attach(s);
  }
  return 0;
}
