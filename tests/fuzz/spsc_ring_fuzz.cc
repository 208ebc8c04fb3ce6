// Fuzzes both SPSC layouts (sequenced and packed), both endpoints each,
// while the input plays a peer that rewrites any word of the span between
// operations.
#include "csm/ring/spsc_packed_ring.h"
#include "csm/ring/spsc_ring.h"
#include "fuzz_input.h"

namespace {

struct Item {  // 12 bytes: packed slots of 16, copied item by item
  uint64_t a;
  uint32_t b;
};
struct Pair {  // 16 bytes: packed slots copied as whole runs, split at the wrap
  uint64_t a, b;
};

template <typename T, typename Producer, typename Consumer>
void Run(csm::fuzz::Input& in, std::span<std::byte> span, uint64_t capacity, bool packed) {
  auto producer = Producer::Attach(span);
  auto consumer = Consumer::Attach(span);
  if (!producer.ok() || !consumer.ok()) __builtin_trap();
  T items[16] = {};
  while (!in.empty()) {
    switch (in.Take<uint8_t>() % 8) {
      case 0: csm::fuzz::Scribble(span, in); break;
      case 1: {  // honest-looking: the slot word (sequenced) or position (packed) of what is next
        const uint64_t pos = consumer->position() + in.Take<uint8_t>() % 4;
        if (packed) {
          csm::shared::StoreRelaxed(&csm::ProducerLine(span)->position, pos);
          break;
        }
        const uint64_t stride = (8 + sizeof(T) + 7) / 8 * 8;
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
      default:
        (void)consumer->ready();
        (void)consumer->last_fault();
        (void)producer->last_fault();
        break;
    }
  }
}

template <typename T, typename Producer, typename Consumer>
void FormatAndRun(csm::fuzz::Input& in, std::span<std::byte> guarded, uint64_t capacity,
                  bool packed) {
  const uint64_t bytes = packed ? *csm::PackedSpscRingBytes<T>(capacity)
                                : *csm::SpscRingBytes<T>(capacity);
  std::span<std::byte> span = guarded.first(bytes);
  const absl::Status formatted = packed ? csm::FormatPackedSpscRing<T>(span, capacity)
                                        : csm::FormatSpscRing<T>(span, capacity);
  if (!formatted.ok()) __builtin_trap();
  Run<T, Producer, Consumer>(in, span, capacity, packed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  csm::fuzz::Input in(data, size);
  const uint8_t shape = in.Take<uint8_t>();
  const uint64_t capacity = uint64_t{2} << (shape % 8);
  std::span<std::byte> guarded = csm::fuzz::GuardedSpan(64 * 1024);
  if (!(shape & 0x80)) {
    FormatAndRun<Item, csm::SpscProducer<Item>, csm::SpscConsumer<Item>>(in, guarded, capacity,
                                                                         false);
  } else if (shape & 0x40) {
    FormatAndRun<Pair, csm::PackedSpscProducer<Pair>, csm::PackedSpscConsumer<Pair>>(
        in, guarded, capacity, true);
  } else {
    FormatAndRun<Item, csm::PackedSpscProducer<Item>, csm::PackedSpscConsumer<Item>>(
        in, guarded, capacity, true);
  }
  return 0;
}
