// Doorbells between two processes through the simulator: a ping-pong over
// sequence words in a shared region, blocking on every round, and the
// io_uring loop waiting on a simulator doorbell and the event stream.
#include <atomic>
#include <cstring>

#include "csm/device.h"
#include "csm/doorbell/event_loop.h"
#include "csm/doorbell/spin_wait.h"
#include "gtest/gtest.h"
#include "sim/testing/sim_env.h"

namespace csm {
namespace {

using testing::Child;
using testing::SimEnv;

constexpr absl::Duration kGuard = absl::Seconds(10);  // failure guard, not timing
constexpr int kRounds = 3000;

// Layout of the test's region: each word on its own cache line.
struct Words {
  alignas(64) uint64_t ping;
  alignas(64) uint64_t pong;
  alignas(64) uint32_t provider_waiting;
  alignas(64) uint32_t consumer_waiting;
};

template <typename T>
std::atomic_ref<T> At(T& word) {
  return std::atomic_ref<T>(word);
}

void Publish(uint64_t& word, uint64_t v, uint32_t& peer_waiting, Doorbell& peer) {
  At(word).store(v, std::memory_order_seq_cst);
  FullFence();
  if (At(peer_waiting).load(std::memory_order_seq_cst) != 0) peer.Ring();
}

absl::Status Await(Doorbell& mine, uint64_t& word, uint64_t target, uint32_t& my_waiting) {
  return SpinThenWait(
      mine, [&] { return At(word).load(std::memory_order_seq_cst) >= target; },
      [&] { At(my_waiting).store(1, std::memory_order_seq_cst); },
      [&] { At(my_waiting).store(0, std::memory_order_seq_cst); },
      {.spin_budget = 0, .timeout = kGuard});
}

TEST(DoorbellProcess, PingPongAcrossRealmsLosesNoWakeup) {
  SimEnv env;
  Device provider = env.Open();
  absl::StatusOr<Region> region = provider.CreateRegion(4096);
  ASSERT_TRUE(region.ok());
  auto* words = static_cast<Words*>(region->data());
  Child child([&](Child& self) {
    absl::StatusOr<Device> dev = Device::Open(env.Options());
    if (!dev.ok()) return 10;
    self.Send(dev->realm_id().value());
    absl::StatusOr<Region> view = dev->Attach(ShareId(self.Recv()));
    if (!view.ok()) return 11;
    absl::StatusOr<Doorbell> mine = view->MyDoorbell();
    absl::StatusOr<Doorbell> peer = view->PeerDoorbell(view->provider());
    if (!mine.ok() || !peer.ok()) return 12;
    auto* w = static_cast<Words*>(view->data());
    self.Send(1);
    for (int i = 1; i <= kRounds; ++i) {
      if (!Await(*mine, w->ping, i, w->consumer_waiting).ok()) return 20;
      Publish(w->pong, i, w->provider_waiting, *peer);
    }
    return 0;
  });
  RealmId consumer(child.Recv());
  absl::StatusOr<ShareId> share = region->Share(consumer, Permission::kReadWrite);
  ASSERT_TRUE(share.ok());
  absl::StatusOr<Doorbell> mine = region->MyDoorbell();
  absl::StatusOr<Doorbell> peer = region->PeerDoorbell(consumer);
  ASSERT_TRUE(mine.ok() && peer.ok()) << mine.status() << peer.status();
  child.Send(share->value());
  ASSERT_EQ(child.Recv(), 1u);
  for (int i = 1; i <= kRounds; ++i) {
    Publish(words->ping, i, words->consumer_waiting, *peer);
    absl::Status st = Await(*mine, words->pong, i, words->provider_waiting);
    ASSERT_TRUE(st.ok()) << "round " << i << ": " << st;
  }
  int status = child.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(DoorbellProcess, EventLoopWaitsOnSimDoorbellAndEvents) {
  SimEnv env;
  Device provider = env.Open();
  absl::StatusOr<EventStream> events = provider.Events();
  ASSERT_TRUE(events.ok());
  absl::StatusOr<Region> region = provider.CreateRegion(4096);
  ASSERT_TRUE(region.ok());
  absl::StatusOr<Doorbell> mine = region->MyDoorbell();
  ASSERT_TRUE(mine.ok());
  absl::StatusOr<EventLoop> loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  int rings = 0;
  std::vector<Event> seen;
  ASSERT_TRUE(loop->WatchDoorbell(*mine, [&] { ++rings; }).ok());
  ASSERT_TRUE(loop->Watch(events->fd(), [&](uint32_t) {
                    while (true) {
                      absl::StatusOr<Event> e = events->TryNext();
                      if (!e.ok()) break;
                      seen.push_back(*e);
                    }
                  }).ok());

  Child child([&](Child& self) {
    absl::StatusOr<Device> dev = Device::Open(env.Options());
    if (!dev.ok()) return 10;
    self.Send(dev->realm_id().value());
    absl::StatusOr<Region> view = dev->Attach(ShareId(self.Recv()));
    if (!view.ok()) return 11;
    absl::StatusOr<Doorbell> peer = view->PeerDoorbell(view->provider());
    if (!peer.ok()) return 12;
    peer->Ring();
    self.Recv();  // then detach by exiting normally
    return 0;
  });
  absl::StatusOr<ShareId> share = region->Share(RealmId(child.Recv()), Permission::kReadOnly);
  ASSERT_TRUE(share.ok());
  child.Send(share->value());
  while (rings == 0 || seen.empty()) ASSERT_GT(*loop->RunOnce(kGuard), 0);
  EXPECT_EQ(seen[0].type, EventType::kAttached);
  child.Send(1);
  child.Wait();
  // The child exited without detaching: its realm is gone.
  while (seen.back().type != EventType::kGone) ASSERT_GT(*loop->RunOnce(kGuard), 0);
}

TEST(DoorbellProcess, SaturatedSimDoorbellCountsDrops) {
  SimEnv env;
  Device provider = env.Open();
  Device consumer = env.Open();
  absl::StatusOr<Region> region = provider.CreateRegion(4096);
  ASSERT_TRUE(region.ok());
  absl::StatusOr<ShareId> share = region->Share(consumer.realm_id(), Permission::kReadOnly);
  ASSERT_TRUE(share.ok());
  absl::StatusOr<Doorbell> ring_consumer = region->PeerDoorbell(consumer.realm_id());
  ASSERT_TRUE(ring_consumer.ok());
  for (int i = 0; i < 10000; ++i) ring_consumer->Ring();  // nobody drains
  EXPECT_GT(ring_consumer->dropped_rings(), 0u);
  EXPECT_LT(ring_consumer->dropped_rings(), 10000u);
}

}  // namespace
}  // namespace csm
