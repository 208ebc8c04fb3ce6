// Blocking SPSC ends: both sides sleep at every wait and no wakeup is lost.
#include "csm/blocking/spsc_endpoints.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <thread>

#include "csm/ring/shared_span.h"
#include "gtest/gtest.h"

namespace csm {
namespace {

TEST(BlockingSpscTest, SleepingSidesPassEveryItemInOrder) {
  constexpr uint64_t kSlots = 16, kCount = 50'000;
  auto file = SharedFile::Create(*SpscRingBytes<uint64_t>(kSlots));
  auto view = file->Map();
  ASSERT_TRUE(view.ok());
  ASSERT_TRUE(FormatSpscRing<uint64_t>(view->span(), kSlots).ok());
  const int sender_bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  const int receiver_bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  SpscSender<uint64_t> sender(*SpscProducer<uint64_t>::Attach(view->span()), Doorbell(sender_bell),
                              Doorbell(dup(receiver_bell)));
  SpscReceiver<uint64_t> receiver(*SpscConsumer<uint64_t>::Attach(view->span()),
                                  Doorbell(receiver_bell), Doorbell(dup(sender_bell)));
  const WaitOptions wait{0, absl::Seconds(10)};
  std::thread producer([&] {
    for (uint64_t i = 0; i < kCount; ++i) ASSERT_TRUE(sender.Push(i, wait).ok()) << i;
  });
  for (uint64_t i = 0; i < kCount; ++i) {
    absl::StatusOr<uint64_t> v = receiver.Pop(wait);
    ASSERT_TRUE(v.ok()) << v.status() << " at " << i;
    ASSERT_EQ(*v, i);
  }
  producer.join();
  EXPECT_EQ(receiver.Pop({0, absl::Milliseconds(10)}).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace csm
