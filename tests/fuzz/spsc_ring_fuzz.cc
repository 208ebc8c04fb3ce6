// Fuzzes both SPSC endpoints while the input plays a peer that rewrites any
// word of the span between operations.
#include "csm/ring/spsc_ring.h"
#include "fuzz_input.h"

namespace {
struct Item {
  uint64_t a;
  uint32_t b;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  csm::fuzz::Input in(data, size);
  const uint64_t capacity = uint64_t{2} << (in.Take<uint8_t>() % 8);
  std::span<std::byte> span =
      csm::fuzz::GuardedSpan(64 * 1024).first(*csm::SpscRingBytes<Item>(capacity));
  if (!csm::FormatSpscRing<Item>(span, capacity).ok()) __builtin_trap();
  auto producer = csm::SpscProducer<Item>::Attach(span);
  auto consumer = csm::SpscConsumer<Item>::Attach(span);
  if (!producer.ok() || !consumer.ok()) __builtin_trap();
  Item items[16] = {};
  while (!in.empty()) {
    switch (in.Take<uint8_t>() % 8) {
      case 0: csm::fuzz::Scribble(span, in); break;
      case 1: {  // an honest-looking sequence word at the consumer's next slot
        const uint64_t pos = consumer->position() + in.Take<uint8_t>() % 4;
        const uint64_t stride = (8 + sizeof(Item) + 7) / 8 * 8;
        csm::shared::StoreRelaxed(reinterpret_cast<uint64_t*>(span.data() + csm::wire::kDataOffset +
                                                              (pos % capacity) * stride),
                                  pos + 1);
        break;
      }
      case 2: csm::shared::StoreRelaxed(&csm::ConsumerLine(span)->position, in.Take<uint64_t>()); break;
      case 3: (void)producer->try_push(items[0]); break;
      case 4: (void)producer->try_push_burst(std::span(items, in.Take<uint8_t>() % 17)); break;
      case 5: (void)consumer->try_pop(items[0]); break;
      case 6: (void)consumer->try_pop_burst(std::span(items, in.Take<uint8_t>() % 17)); break;
      default: (void)consumer->last_fault(); (void)producer->last_fault(); break;
    }
  }
  return 0;
}
