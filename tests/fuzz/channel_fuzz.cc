// Fuzzes both channel endpoints while the input plays a peer that forges
// positions and record headers. Every received view is read in full.
#include <vector>

#include "csm/ring/channel.h"
#include "csm/ring/shared_access.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  csm::fuzz::Input in(data, size);
  const uint64_t arena = uint64_t{64} << (in.Take<uint8_t>() % 6);
  std::span<std::byte> span = csm::fuzz::GuardedSpan(64 * 1024).first(*csm::ChannelBytes(arena));
  if (!csm::FormatChannel(span, arena).ok()) __builtin_trap();
  auto producer = csm::ChannelProducer::Attach(span);
  auto consumer = csm::ChannelConsumer::Attach(span);
  if (!producer.ok() || !consumer.ok()) __builtin_trap();
  std::byte* records = span.data() + csm::wire::kDataOffset;
  std::vector<csm::ChannelMessage> held;
  std::byte copy[2048];
  csm::ChannelLoan loan;
  volatile uint8_t sink = 0;
  while (!in.empty()) {
    switch (in.Take<uint8_t>() % 10) {
      case 0: csm::fuzz::Scribble(span, in); break;
      case 1: {  // forge a record header at an aligned arena offset
        const uint64_t off = (in.Take<uint16_t>() % arena) & ~7ull;
        const uint64_t header = in.Take<uint64_t>();
        std::memcpy(records + off, &header, 8);
        break;
      }
      case 2: {  // an honest-looking tag where the consumer will look next
        const uint64_t pos = csm::shared::LoadRelaxed(&csm::ConsumerLine(span)->position) +
                             64 * (in.Take<uint8_t>() % 8);
        csm::shared::StoreRelaxed(reinterpret_cast<uint64_t*>(records + (pos & (arena - 1) & ~63ull)),
                                  pos + 1);
        break;
      }
      case 3: csm::shared::StoreRelaxed(&csm::ConsumerLine(span)->position, in.Take<uint64_t>()); break;
      case 4:
        if (producer->try_loan(in.Take<uint16_t>() % (arena + 16), loan) == csm::RingResult::kOk) {
          std::memset(loan.data.data(), 0x5A, loan.data.size());
        }
        break;
      case 5: (void)producer->commit(loan, in.Take<uint16_t>() % (arena + 16)); break;
      case 6: {
        csm::ChannelMessage m;
        if (consumer->try_receive(m) == csm::RingResult::kOk) {
          for (std::byte b : m.data) sink = sink + static_cast<uint8_t>(b);
          held.push_back(m);
        }
        break;
      }
      case 7:
        if (!held.empty()) {
          const std::size_t i = in.Take<uint8_t>() % held.size();
          (void)consumer->release(held[i]);
          held.erase(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        }
        break;
      case 8: {
        std::size_t n = 0;
        (void)consumer->try_receive_copy(std::span(copy, in.Take<uint16_t>() % sizeof(copy)), n);
        break;
      }
      default: (void)producer->try_send(std::span(copy, in.Take<uint16_t>() % sizeof(copy))); break;
    }
  }
  return 0;
}
