// Blocking SPSC ends: both sides sleep at every wait and no wakeup is lost.
#include "csm/blocking/spsc_endpoints.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "csm/ring/shared_span.h"
#include "gtest/gtest.h"

namespace csm {
namespace {

constexpr uint64_t kSlots = 16;

// Both layouts: the sequenced ring signals in the slot, the packed one in
// the producer's position; neither may lose a wakeup.
template <typename Producer, typename Consumer>
void SleepingSidesPassEveryItemInOrder(uint64_t ring_bytes,
                                       absl::Status (*format)(std::span<std::byte>, uint64_t)) {
  constexpr uint64_t kCount = 50'000;
  auto file = SharedFile::Create(ring_bytes);
  auto view = file->Map();
  ASSERT_TRUE(view.ok());
  ASSERT_TRUE(format(view->span(), kSlots).ok());
  const int sender_bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  const int receiver_bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  SpscSenderOf<Producer> sender(*Producer::Attach(view->span()), Doorbell(sender_bell),
                                Doorbell(dup(receiver_bell)));
  SpscReceiverOf<Consumer> receiver(*Consumer::Attach(view->span()), Doorbell(receiver_bell),
                                    Doorbell(dup(sender_bell)));
  const WaitOptions wait{0, absl::Seconds(10)};
  std::thread producer([&] {
    for (uint64_t i = 0; i < kCount; ++i) {
      ASSERT_TRUE(sender.Push(i, wait).ok()) << i;
      // Pauses on both sides make each one really wait for the other.
      if (i % 5000 == 2500) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  for (uint64_t i = 0; i < kCount; ++i) {
    absl::StatusOr<uint64_t> v = receiver.Pop(wait);
    ASSERT_TRUE(v.ok()) << v.status() << " at " << i;
    ASSERT_EQ(*v, i);
    if (i % 5000 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  producer.join();
  EXPECT_GT(sender.wait_stats().blocks, 0u);
  EXPECT_GT(receiver.wait_stats().blocks, 0u);
  EXPECT_EQ(receiver.Pop({0, absl::Milliseconds(10)}).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST(BlockingSpscTest, SleepingSidesPassEveryItemInOrder) {
  SleepingSidesPassEveryItemInOrder<SpscProducer<uint64_t>, SpscConsumer<uint64_t>>(
      *SpscRingBytes<uint64_t>(kSlots), &FormatSpscRing<uint64_t>);
}

TEST(BlockingSpscTest, PackedSleepingSidesPassEveryItemInOrder) {
  SleepingSidesPassEveryItemInOrder<PackedSpscProducer<uint64_t>, PackedSpscConsumer<uint64_t>>(
      *PackedSpscRingBytes<uint64_t>(kSlots), &FormatPackedSpscRing<uint64_t>);
}

}  // namespace
}  // namespace csm
