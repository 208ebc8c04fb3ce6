// Crash consistency of the simulator's shared state: a party SIGKILLed in
// the middle of an operation, holding the table lock, leaves nothing
// corrupt or leaked behind. $CSM_SIM_CRASH_AT makes the child kill itself
// at a named point inside the locked section (see CrashPoint in sim_state).
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "csm/device.h"
#include "csm/sim.h"
#include "gtest/gtest.h"
#include "sim/testing/probe.h"
#include "sim/testing/sim_env.h"

namespace csm {
namespace {

using testing::CanRead;
using testing::Child;
using testing::SimEnv;

constexpr absl::Duration kGuard = absl::Seconds(10);

// Starts a child realm that will kill itself at crash point `point`.
std::unique_ptr<Child> StartCrashing(const SimEnv& env, const char* point,
                                     std::function<int(Child&, Device&)> body) {
  return std::make_unique<Child>([&env, point, body](Child& self) {
    absl::StatusOr<Device> dev = Device::Open(env.Options());
    if (!dev.ok()) return 10;
    setenv("CSM_SIM_CRASH_AT", point, 1);
    return body(self, *dev);
  });
}

TEST(SimCrash, DeathBetweenCreatingTheFileAndCommittingTheSlot) {
  SimEnv env;
  int status = StartCrashing(env, "create.file_made", [](Child&, Device& dev) {
                 (void)dev.CreateRegion(4096);
                 return 0;  // not reached
               })->Wait();
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  absl::StatusOr<SimSnapshot> snap = InspectSim(env.dir());  // takes the dead lock
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ(snap->repairs, 1u);
  EXPECT_EQ(snap->realms, 0u);
  EXPECT_EQ(snap->regions, 0u);
  EXPECT_TRUE(snap->region_files.empty());
  // And the simulator works on.
  Device dev = env.Open();
  EXPECT_TRUE(dev.CreateRegion(4096).ok());
}

TEST(SimCrash, DeathMidShare) {
  SimEnv env;
  Device peer = env.Open();
  RealmId peer_id = peer.realm_id();
  int status = StartCrashing(env, "share.filled", [peer_id](Child&, Device& dev) {
                 absl::StatusOr<Region> r = dev.CreateRegion(4096);
                 if (!r.ok()) return 11;
                 (void)r->Share(peer_id, Permission::kReadWrite);
                 return 0;
               })->Wait();
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  absl::StatusOr<SimSnapshot> snap = InspectSim(env.dir());
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->repairs, 1u);
  EXPECT_EQ(snap->realms, 1u);
  EXPECT_EQ(snap->regions, 0u);
  EXPECT_EQ(snap->shares, 0u);
  EXPECT_TRUE(snap->region_files.empty());
}

TEST(SimCrash, DeathMidTeardownStillUnmapsTheConsumer) {
  SimEnv env;
  Device consumer = env.Open();
  absl::StatusOr<EventStream> events = consumer.Events();
  ASSERT_TRUE(events.ok());
  std::unique_ptr<Child> child = StartCrashing(
      env, "teardown.share_freed", [](Child& self, Device& dev) {
        absl::StatusOr<Region> r = dev.CreateRegion(4096);
        if (!r.ok()) return 11;
        absl::StatusOr<ShareId> s = r->Share(RealmId(self.Recv()), Permission::kReadOnly);
        if (!s.ok()) return 12;
        self.Send(s->value());
        self.Recv();  // consumer attached
        (void)r->Destroy(/*force=*/true);  // dies after freeing the share
        return 0;
      });
  child->Send(consumer.realm_id().value());
  absl::StatusOr<Region> view = consumer.Attach(ShareId(child->Recv()));
  ASSERT_TRUE(view.ok()) << view.status();
  child->Send(1);
  int status = child->Wait();
  ASSERT_TRUE(WIFSIGNALED(status)) << status;

  // Whoever takes the lock next repairs; the region goes for everyone.
  absl::StatusOr<SimSnapshot> snap = InspectSim(env.dir());
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->repairs, 1u);
  EXPECT_EQ(snap->regions, 0u);
  EXPECT_EQ(snap->shares, 0u);
  EXPECT_TRUE(snap->region_files.empty());
  absl::StatusOr<Event> e = events->Next(kGuard);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->type, EventType::kDestroyed);
  EXPECT_FALSE(CanRead(view->data()));
}

// Repair removes the files the simulator itself names for regions and realms
// that are not live, and nothing else: not a live region's file, not a name
// that merely starts like one of ours.
TEST(SimCrash, RepairRemovesOnlyItsOwnStaleFiles) {
  SimEnv env;
  Device live = env.Open();
  absl::StatusOr<Region> kept = live.CreateRegion(4096);
  ASSERT_TRUE(kept.ok()) << kept.status();
  const std::vector<std::string> stale = {"region-abcdef0123", "db-abcdef0123-5",
                                          "kick-abcdef0123"};
  const std::vector<std::string> foreign = {"region-0xabcdef0123", "region-ABCDEF0123",
                                            "region-00abcdef0123", "region-0",
                                            "db-abcdef0123",       "db-abcdef0123-5-",
                                            "kick-+5",             "kick-",
                                            "notes"};
  for (const std::vector<std::string>* names : {&stale, &foreign}) {
    for (const std::string& n : *names) {
      ASSERT_TRUE(std::ofstream(env.dir() + "/" + n).good()) << n;
    }
  }
  int status = StartCrashing(env, "create.file_made", [](Child&, Device& dev) {
                 (void)dev.CreateRegion(4096);
                 return 0;  // not reached
               })->Wait();
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  absl::StatusOr<SimSnapshot> snap = InspectSim(env.dir());  // repairs
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ(snap->repairs, 1u);
  for (const std::string& n : stale) {
    EXPECT_FALSE(std::filesystem::exists(env.dir() + "/" + n)) << n << " left behind";
  }
  for (const std::string& n : foreign) {
    EXPECT_TRUE(std::filesystem::exists(env.dir() + "/" + n)) << n << " removed";
  }
  // The live region's file stays, and it is the only one listed.
  ASSERT_EQ(snap->region_files.size(), 1u);
  EXPECT_EQ(snap->region_files[0].rfind("region-", 0), 0u) << snap->region_files[0];
  EXPECT_EQ(snap->realm_sockets.size(), 1u);  // the live realm's
  EXPECT_TRUE(CanRead(kept->data()));
}

}  // namespace
}  // namespace csm
