// Fuzzes an MPMC endpoint while the input plays other parties that rewrite
// tickets and turn words.
#include "csm/ring/mpmc_ring.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  csm::fuzz::Input in(data, size);
  const uint64_t capacity = uint64_t{2} << (in.Take<uint8_t>() % 6);
  std::span<std::byte> span =
      csm::fuzz::GuardedSpan(64 * 1024).first(*csm::MpmcRingBytes<uint64_t>(capacity));
  if (!csm::FormatMpmcRing<uint64_t>(span, capacity).ok()) __builtin_trap();
  auto a = csm::MpmcEndpoint<uint64_t>::Attach(span);
  auto b = csm::MpmcEndpoint<uint64_t>::Attach(span);
  if (!a.ok() || !b.ok()) __builtin_trap();
  uint64_t value = 0;
  while (!in.empty()) {
    switch (in.Take<uint8_t>() % 6) {
      case 0: csm::fuzz::Scribble(span, in); break;
      case 1: {  // a turn word
        const uint64_t slot = in.Take<uint8_t>() % capacity;
        csm::shared::StoreRelaxed(reinterpret_cast<uint64_t*>(span.data() + csm::wire::kDataOffset +
                                                              slot * 64),
                                  in.Take<uint64_t>());
        break;
      }
      case 2: csm::shared::StoreRelaxed(&csm::ProducerLine(span)->position, in.Take<uint64_t>()); break;
      case 3: (void)a->try_push(value++); break;
      case 4: (void)b->try_pop(value); break;
      default: (void)a->try_pop(value); (void)b->try_push(value); break;
    }
  }
  return 0;
}
