// The model across real processes: each forked child opens its own Device
// and so is its own realm, as two VMs would be.
#include <signal.h>

#include <cstring>
#include <vector>

#include "csm/device.h"
#include "csm/sim.h"
#include "csm/uapi/csm.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/testing/probe.h"
#include "sim/testing/sim_env.h"

namespace csm {
namespace {

using testing::AccessFaults;
using testing::CanRead;
using testing::Child;
using testing::DiedOfFault;
using testing::SimEnv;

constexpr absl::Duration kGuard = absl::Seconds(10);  // failure guard, not timing
constexpr uint64_t kFailed = ~0ull;

Event NextOfType(EventStream& events, EventType type) {
  for (;;) {
    absl::StatusOr<Event> e = events.Next(kGuard);
    if (!e.ok()) {
      ADD_FAILURE() << "waiting for " << EventTypeName(type) << ": " << e.status();
      return {};
    }
    if (e->type == type) return *e;
  }
}

// Drops a held Region now (ending what this realm holds of it).
template <typename T>
void Drop(absl::StatusOr<T>& held) {
  T gone = std::move(*held);
}

void ExpectClean(const SimEnv& env, uint32_t live_realms) {
  absl::StatusOr<SimSnapshot> snap = InspectSim(env.dir());
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ(snap->realms, live_realms);
  EXPECT_EQ(snap->regions, 0u);
  EXPECT_EQ(snap->shares, 0u);
  EXPECT_TRUE(snap->region_files.empty()) << snap->region_files.size() << " files left";
  EXPECT_EQ(snap->realm_sockets.size(), live_realms);
}

// Stops `child` while we hold the state lock, so it cannot be stopped
// inside it (a stopped lock holder would stall the whole simulator).
bool StopUnderStateLock(const SimEnv& env, Child& child) {
  int status = 0;
  const bool locked = WithSimStateLocked(env.dir(), [&] {
                        kill(child.pid(), SIGSTOP);
                        waitpid(child.pid(), &status, WUNTRACED);
                      }).ok();
  return locked && WIFSTOPPED(status);
}

// Child side of a consumer: sends its realm ID, attaches the share it is
// sent, then runs `then` on the mapping.
int ConsumerChild(const SimEnv& env, Child& self, const std::function<int(Device&, Region&)>& then) {
  absl::StatusOr<Device> dev = Device::Open(env.Options());
  if (!dev.ok()) return 10;
  self.Send(dev->realm_id().value());
  absl::StatusOr<Region> view = dev->Attach(ShareId(self.Recv()));
  if (!view.ok()) return 11;
  return then(*dev, *view);
}

TEST(SimProcess, ReadOnlyConsumerWritingFaults) {
  SimEnv env;
  Device provider = env.Open();
  absl::StatusOr<Region> region = provider.CreateRegion(4096);
  ASSERT_TRUE(region.ok());
  std::memcpy(region->data(), "ro-data", 8);
  Child child([&](Child& self) {
    return ConsumerChild(env, self, [&](Device&, Region& view) {
      if (view.permission() != Permission::kReadOnly) return 12;
      if (std::strcmp(static_cast<const char*>(view.data()), "ro-data") != 0) return 13;
      self.Send(1);  // read fine; now write, which must fault
      static_cast<volatile char*>(view.data())[0] = 'X';
      return 0;
    });
  });
  uint64_t realm = child.Recv();
  ASSERT_NE(realm, kFailed);
  absl::StatusOr<ShareId> share = region->Share(RealmId(realm), Permission::kReadOnly);
  ASSERT_TRUE(share.ok()) << share.status();
  child.Send(share->value());
  EXPECT_EQ(child.Recv(), 1u);
  int status = child.Wait();
  EXPECT_TRUE(DiedOfFault(status)) << "child status " << status;
  EXPECT_EQ(static_cast<const char*>(region->data())[0], 'r');
}

TEST(SimProcess, RevokeUnmapsTheConsumerProcess) {
  SimEnv env;
  Device provider = env.Open();
  absl::StatusOr<Region> region = provider.CreateRegion(4096);
  ASSERT_TRUE(region.ok());
  Child child([&](Child& self) {
    return ConsumerChild(env, self, [&](Device& dev, Region& view) {
      absl::StatusOr<EventStream> events = dev.Events();
      if (!events.ok() || !CanRead(view.data())) return 12;
      self.Send(1);  // attached and mapped
      absl::StatusOr<Event> e = events->Next(kGuard);
      if (!e.ok() || e->type != EventType::kRevoked) return 13;
      if (CanRead(view.data())) return 14;  // mapping must be gone already
      self.Send(2);
      [[maybe_unused]] char c = static_cast<volatile char*>(view.data())[0];  // faults
      return 0;
    });
  });
  uint64_t realm = child.Recv();
  absl::StatusOr<ShareId> share = region->Share(RealmId(realm), Permission::kReadWrite);
  ASSERT_TRUE(share.ok());
  child.Send(share->value());
  ASSERT_EQ(child.Recv(), 1u);
  ASSERT_TRUE(region->Revoke(*share).ok());
  EXPECT_EQ(child.Recv(), 2u);
  EXPECT_TRUE(DiedOfFault(child.Wait()));
  Drop(region);
  ExpectClean(env, 1);
}

TEST(SimProcess, KilledConsumerIsCleanedUpAndTheProviderTold) {
  SimEnv env;
  Device provider = env.Open();
  absl::StatusOr<EventStream> events = provider.Events();
  ASSERT_TRUE(events.ok());
  absl::StatusOr<Region> region = provider.CreateRegion(4096);
  ASSERT_TRUE(region.ok());
  Child child([&](Child& self) {
    return ConsumerChild(env, self, [&](Device&, Region&) {
      self.Send(1);
      for (;;) pause();  // until killed
      return 0;
    });
  });
  RealmId realm(child.Recv());
  absl::StatusOr<ShareId> share = region->Share(realm, Permission::kReadWrite);
  ASSERT_TRUE(share.ok());
  child.Send(share->value());
  ASSERT_EQ(child.Recv(), 1u);
  NextOfType(*events, EventType::kAttached);

  child.Kill();
  child.Wait();
  Event gone = NextOfType(*events, EventType::kGone);
  EXPECT_EQ(gone.realm, realm);
  EXPECT_EQ(gone.share, *share);
  absl::StatusOr<std::vector<ShareInfo>> shares = region->Shares();
  ASSERT_TRUE(shares.ok());
  EXPECT_TRUE(shares->empty());
  EXPECT_TRUE(CanRead(region->data()));  // the provider's own region lives on
  EXPECT_THAT(region->Revoke(*share).message(), ::testing::HasSubstr("is gone"));
  Drop(region);
  ExpectClean(env, 1);
}

TEST(SimProcess, KilledProviderTearsItsRegionDownForEveryone) {
  SimEnv env;
  Device consumer = env.Open();
  absl::StatusOr<EventStream> events = consumer.Events();
  ASSERT_TRUE(events.ok());
  Child child([&](Child& self) {
    absl::StatusOr<Device> dev = Device::Open(env.Options());
    if (!dev.ok()) return 10;
    absl::StatusOr<Region> region = dev->CreateRegion(2 * 4096);
    if (!region.ok()) return 11;
    std::memcpy(region->data(), "from-child", 11);
    absl::StatusOr<ShareId> share = region->Share(RealmId(self.Recv()), Permission::kReadOnly);
    if (!share.ok()) return 12;
    self.Send(share->value());
    for (;;) pause();
    return 0;
  });
  child.Send(consumer.realm_id().value());
  uint64_t share = child.Recv();
  ASSERT_NE(share, kFailed);
  absl::StatusOr<Region> view = consumer.Attach(ShareId(share));
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_STREQ(static_cast<const char*>(view->data()), "from-child");

  child.Kill();
  child.Wait();
  Event gone = NextOfType(*events, EventType::kGone);
  EXPECT_EQ(gone.region, view->id());
  EXPECT_FALSE(CanRead(view->data()));
  EXPECT_TRUE(AccessFaults(view->data(), /*write=*/false));
  absl::StatusOr<RegionInfo> info = view->Info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state, static_cast<uint32_t>(CSM_REGION_GONE));
  Drop(view);
  ExpectClean(env, 1);
}

// The simulator's honest limit: a consumer that cannot run cannot confirm.
// Revoke then reports DeadlineExceeded, the share is revoked regardless, and
// the consumer's agent removes the mapping as soon as it runs again.
TEST(SimProcess, RevokeOfAStoppedConsumerTimesOutThenCompletes) {
  SimEnv env;
  Device::Options o = env.Options();
  o.sim_revoke_timeout = absl::Milliseconds(200);
  absl::StatusOr<Device> provider = Device::Open(o);
  ASSERT_TRUE(provider.ok());
  absl::StatusOr<Region> region = provider->CreateRegion(4096);
  ASSERT_TRUE(region.ok());
  Child child([&](Child& self) {
    return ConsumerChild(env, self, [&](Device& dev, Region& view) {
      absl::StatusOr<EventStream> events = dev.Events();
      if (!events.ok()) return 12;
      self.Send(1);
      absl::StatusOr<Event> e = events->Next(kGuard);
      if (!e.ok() || e->type != EventType::kRevoked) return 13;
      self.Send(CanRead(view.data()) ? 3 : 2);
      return 0;
    });
  });
  RealmId consumer(child.Recv());
  absl::StatusOr<ShareId> share = region->Share(consumer, Permission::kReadWrite);
  ASSERT_TRUE(share.ok());
  child.Send(share->value());
  ASSERT_EQ(child.Recv(), 1u);
  ASSERT_TRUE(StopUnderStateLock(env, child));

  absl::Status st = region->Revoke(*share);
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  EXPECT_THAT(st.message(), ::testing::HasSubstr("did not confirm unmapping"));
  absl::StatusOr<std::vector<ShareInfo>> shares = region->Shares();
  ASSERT_TRUE(shares.ok());
  EXPECT_TRUE(shares->empty()) << "the share must be revoked even so";

  ASSERT_EQ(kill(child.pid(), SIGCONT), 0);
  EXPECT_EQ(child.Recv(), 2u) << "the consumer's mapping must go once it runs";
  const int status = child.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// A consumer stopped while more revokes arrive than its event queue holds
// (64) loses the last REVOKED event; its agent must still end that mapping
// once it runs, by comparing what it holds with the table.
TEST(SimProcess, RevokesBeyondAFullEventQueueStillUnmap) {
  constexpr int kRegions = 65;
  SimEnv env;
  Device::Options o = env.Options();
  o.sim_revoke_timeout = absl::Milliseconds(10);
  absl::StatusOr<Device> provider = Device::Open(o);
  ASSERT_TRUE(provider.ok());
  std::vector<Region> regions;
  for (int i = 0; i < kRegions; ++i) {
    absl::StatusOr<Region> r = provider->CreateRegion(4096);
    ASSERT_TRUE(r.ok()) << r.status();
    regions.push_back(std::move(*r));
  }
  Child child([&](Child& self) {
    absl::StatusOr<Device> dev = Device::Open(env.Options());
    if (!dev.ok()) return 10;
    self.Send(dev->realm_id().value());
    std::vector<Region> views;
    for (int i = 0; i < kRegions; ++i) {
      absl::StatusOr<Region> view = dev->Attach(ShareId(self.Recv()));
      if (!view.ok()) return 11;
      views.push_back(std::move(*view));
    }
    self.Send(1);
    (void)self.Recv();  // running again
    const absl::Time give_up = absl::Now() + kGuard;
    int readable = kRegions;
    while (readable > 0 && absl::Now() < give_up) {
      readable = 0;
      for (Region& v : views) readable += CanRead(v.data()) ? 1 : 0;
      if (readable > 0) absl::SleepFor(absl::Milliseconds(5));
    }
    self.Send(static_cast<uint64_t>(readable));
    return 0;
  });
  RealmId consumer(child.Recv());
  std::vector<ShareId> shares;
  for (Region& r : regions) {
    absl::StatusOr<ShareId> share = r.Share(consumer, Permission::kReadWrite);
    ASSERT_TRUE(share.ok()) << share.status();
    shares.push_back(*share);
    child.Send(share->value());
  }
  ASSERT_EQ(child.Recv(), 1u);
  ASSERT_TRUE(StopUnderStateLock(env, child));
  for (int i = 0; i < kRegions; ++i) {
    absl::Status st = regions[i].Revoke(shares[i]);
    EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
  }
  absl::StatusOr<SimSnapshot> snap = InspectSim(env.dir());
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_GE(snap->events_lost, 1u) << "the queue was meant to overflow";
  ASSERT_EQ(kill(child.pid(), SIGCONT), 0);
  child.Send(1);
  EXPECT_EQ(child.Recv(), 0u) << "mappings still readable after their revokes";
  const int status = child.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(SimProcess, ARestartOfEveryPartyStartsClean) {
  SimEnv env;
  for (int round = 0; round < 2; ++round) {
    Child child([&](Child& self) {
      absl::StatusOr<Device> dev = Device::Open(env.Options());
      if (!dev.ok()) return 10;
      absl::StatusOr<Region> region = dev->CreateRegion(4096);
      if (!region.ok()) return 11;
      self.Send(1);
      for (;;) pause();
      return 0;
    });
    ASSERT_EQ(child.Recv(), 1u);
    child.Kill();
    child.Wait();
  }
  ExpectClean(env, 0);
}

}  // namespace
}  // namespace csm
