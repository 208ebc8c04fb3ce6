// The CSM model through csm::Device on the simulator, with several realms
// in one process (SimRealm::kPerDevice). Multi-process behaviour (faults in
// children, killed parties) is in tests/sim.
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "csm/device.h"
#include "csm/ids.h"
#include "csm/sim.h"
#include "csm/uapi/csm.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/testing/probe.h"
#include "sim/testing/sim_env.h"

namespace csm {
namespace {

using ::testing::HasSubstr;
using testing::CanRead;
using testing::CanWrite;
using testing::SimEnv;

constexpr absl::Duration kGuard = absl::Seconds(10);  // failure guard, not timing

// Waits for the next event of `type`, skipping others.
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

// IDs as typed on a command line: hex with 0x, or decimal; never octal,
// signed, padded or zero.
TEST(Ids, ParseIdTakesHexOrDecimalOnly) {
  uint64_t v = 0;
  EXPECT_TRUE(ParseId("0x2a", &v) && v == 42);
  EXPECT_TRUE(ParseId("0X2A", &v) && v == 42);
  EXPECT_TRUE(ParseId("10203", &v) && v == 10203);
  EXPECT_TRUE(ParseId("0xffffffffffffffff", &v) && v == UINT64_MAX);
  for (const char* bad : {"", "0", "0x", "0x0", "010", "+5", " 5", "5 ", "-1", "0x-1", "12a",
                          "0x1g", "0x10000000000000000", "18446744073709551616"}) {
    EXPECT_FALSE(ParseId(bad, &v)) << "'" << bad << "'";
  }
}

TEST(Device, SaysPlainlyThereIsNoConfidentiality) {
  SimEnv env;
  Device dev = env.Open();
  EXPECT_EQ(dev.info().backend, BackendKind::kSim);
  EXPECT_FALSE(dev.info().confidential);
  EXPECT_THAT(dev.info().Describe(), HasSubstr("NO confidentiality"));
  EXPECT_THAT(dev.info().backend_name, HasSubstr("no confidentiality"));
  EXPECT_TRUE(dev.realm_id().valid());
}

// The simulator directory holds every region's memory: it must be the
// caller's own, closed to other users, and not a symlink to elsewhere.
TEST(Device, SimDirectoryMustBePrivate) {
  SimEnv env;
  Device::Options o = env.Options();
  ASSERT_EQ(chmod(env.dir().c_str(), 0775), 0);
  absl::StatusOr<Device> open = Device::Open(o);
  EXPECT_TRUE(absl::IsPermissionDenied(open.status())) << open.status();
  EXPECT_THAT(open.status().message(), HasSubstr("writable by other users"));
  // Only readable by others (mkdir -p with the usual umask): closed for us.
  ASSERT_EQ(chmod(env.dir().c_str(), 0755), 0);
  EXPECT_TRUE(Device::Open(o).ok());
  struct stat st;
  ASSERT_EQ(stat(env.dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  const std::string link = env.dir() + "-link";
  ASSERT_EQ(symlink(env.dir().c_str(), link.c_str()), 0);
  o.sim_dir = link;
  open = Device::Open(o);
  unlink(link.c_str());
  EXPECT_TRUE(absl::IsFailedPrecondition(open.status())) << open.status();
  o.sim_dir = env.dir();
  EXPECT_TRUE(Device::Open(o).ok());
}

// Each realm's agent socket is a file in the private directory (an abstract
// name could be bound first, or sent to, by any local user), present while
// the realm lives and gone with it.
TEST(Device, RealmSocketsLiveInThePrivateDirectory) {
  SimEnv env;
  {
    Device a = env.Open();
    Device b = env.Open();
    absl::StatusOr<SimSnapshot> snap = InspectSim(env.dir());
    ASSERT_TRUE(snap.ok()) << snap.status();
    ASSERT_EQ(snap->realm_sockets.size(), 2u);
    struct stat st;
    ASSERT_EQ(lstat((env.dir() + "/" + snap->realm_sockets[0]).c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
  }
  absl::StatusOr<SimSnapshot> snap = InspectSim(env.dir());
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_TRUE(snap->realm_sockets.empty()) << snap->realm_sockets.size() << " sockets left";
}

TEST(Device, SimDirectoryTooLongForSocketsIsRefused) {
  SimEnv env;
  Device::Options o = env.Options();
  o.sim_dir = env.dir() + "/" + std::string(100, 'd');
  absl::StatusOr<Device> open = Device::Open(o);
  EXPECT_TRUE(absl::IsInvalidArgument(open.status())) << open.status();
  EXPECT_THAT(open.status().message(), HasSubstr("unix socket address"));
}

TEST(Device, RealmsAreDistinct) {
  SimEnv env;
  Device a = env.Open();
  Device b = env.Open();
  EXPECT_NE(a.realm_id(), b.realm_id());
}

TEST(Device, CreateRejectsBadSizes) {
  SimEnv env;
  Device dev = env.Open();
  absl::StatusOr<Region> r = dev.CreateRegion(3000);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
  EXPECT_EQ(r.status().message(), "region size 3000 is not a multiple of 4096");
  r = dev.CreateRegion(0);
  EXPECT_THAT(r.status().message(), HasSubstr("nonzero"));
  r = dev.CreateRegion(uint64_t{1} << 40);
  EXPECT_TRUE(absl::IsOutOfRange(r.status())) << r.status();
}

TEST(Device, ReadWriteShareCarriesDataBothWays) {
  SimEnv env;
  Device provider = env.Open();
  Device consumer = env.Open();
  absl::StatusOr<Region> region = provider.CreateRegion(8192);
  ASSERT_TRUE(region.ok()) << region.status();
  EXPECT_EQ(region->role(), Role::kProvider);
  std::memcpy(region->data(), "hello", 6);

  absl::StatusOr<ShareId> share = region->Share(consumer.realm_id(), Permission::kReadWrite);
  ASSERT_TRUE(share.ok()) << share.status();
  absl::StatusOr<Region> view = consumer.Attach(*share, 8192);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->role(), Role::kConsumer);
  EXPECT_EQ(view->provider(), provider.realm_id());
  EXPECT_EQ(view->size(), 8192u);
  EXPECT_STREQ(static_cast<const char*>(view->data()), "hello");
  std::memcpy(static_cast<char*>(view->data()) + 4096, "back", 5);
  EXPECT_STREQ(static_cast<const char*>(region->data()) + 4096, "back");
}

TEST(Device, ReadOnlyShareMapsReadOnly) {
  SimEnv env;
  Device provider = env.Open();
  Device consumer = env.Open();
  absl::StatusOr<Region> region = provider.CreateRegion(4096);
  ASSERT_TRUE(region.ok());
  static_cast<char*>(region->data())[0] = 'x';
  absl::StatusOr<ShareId> share = region->Share(consumer.realm_id(), Permission::kReadOnly);
  ASSERT_TRUE(share.ok());
  absl::StatusOr<Region> view = consumer.Attach(*share);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->permission(), Permission::kReadOnly);
  EXPECT_TRUE(CanRead(view->data()));
  EXPECT_FALSE(CanWrite(view->data()));
  // Nor can the mapping be made writable afterwards.
  EXPECT_NE(mprotect(view->data(), 4096, PROT_READ | PROT_WRITE), 0);
  EXPECT_EQ(static_cast<const char*>(view->data())[0], 'x');
}

TEST(Device, AttachChecksExpectedSize) {
  SimEnv env;
  Device provider = env.Open();
  Device consumer = env.Open();
  absl::StatusOr<Region> region = provider.CreateRegion(8192);
  ASSERT_TRUE(region.ok());
  absl::StatusOr<ShareId> share = region->Share(consumer.realm_id(), Permission::kReadOnly);
  ASSERT_TRUE(share.ok());
  absl::StatusOr<Region> view = consumer.Attach(*share, 4096);
  EXPECT_TRUE(absl::IsInvalidArgument(view.status()));
  EXPECT_THAT(view.status().message(), HasSubstr("does not match the region's size"));
}

TEST(Device, WrongAndStaleIdsGiveClearErrors) {
  SimEnv env;
  Device provider = env.Open();
  Device consumer = env.Open();
  Device stranger = env.Open();
  absl::StatusOr<Region> region = provider.CreateRegion(4096);
  ASSERT_TRUE(region.ok());

  absl::StatusOr<Region> bad = consumer.Attach(ShareId(0x1122));
  EXPECT_TRUE(absl::IsNotFound(bad.status()));
  EXPECT_EQ(bad.status().message(), "share 0x1122 does not exist");

  absl::StatusOr<ShareId> nobody = region->Share(RealmId(0x77777), Permission::kReadOnly);
  EXPECT_TRUE(absl::IsNotFound(nobody.status()));
  EXPECT_EQ(nobody.status().message(), "realm 0x77777 does not exist (no live realm has that ID)");

  absl::StatusOr<ShareId> share = region->Share(consumer.realm_id(), Permission::kReadOnly);
  ASSERT_TRUE(share.ok());
  EXPECT_TRUE(absl::IsAlreadyExists(
      region->Share(consumer.realm_id(), Permission::kReadWrite).status()));

  // Granted to `consumer`, not to `stranger`; the provider cannot attach it.
  bad = stranger.Attach(*share);
  EXPECT_TRUE(absl::IsPermissionDenied(bad.status()));
  EXPECT_THAT(bad.status().message(), HasSubstr("granted to another realm"));
  bad = provider.Attach(*share);
  EXPECT_THAT(bad.status().message(), HasSubstr("cannot attach its own region"));

  // A consumer may not re-share or destroy.
  absl::StatusOr<Region> view = consumer.Attach(*share);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(absl::IsAlreadyExists(consumer.Attach(*share).status()));
  absl::StatusOr<ShareId> reshare = view->Share(stranger.realm_id(), Permission::kReadOnly);
  EXPECT_TRUE(absl::IsPermissionDenied(reshare.status()));
  EXPECT_THAT(reshare.status().message(), HasSubstr("only its provider"));

  // Revoked: the ID is stale and says why.
  ASSERT_TRUE(region->Revoke(*share).ok());
  bad = consumer.Attach(*share);
  EXPECT_EQ(bad.status().message(), "share " + share->ToString() + " was revoked");
  absl::Status again = region->Revoke(*share);
  EXPECT_THAT(again.message(), HasSubstr("already revoked"));

  // Destroyed: the region ID is stale too.
  RegionId id = region->id();
  ASSERT_TRUE(region->Destroy().ok());
  absl::StatusOr<RegionInfo> info = provider.GetRegionInfo(id);
  EXPECT_EQ(info.status().message(), "region " + id.ToString() + " was destroyed");
}

TEST(Device, RevokeRemovesTheMappingAndRaisesTheEvent) {
  SimEnv env;
  Device provider = env.Open();
  Device consumer = env.Open();
  absl::StatusOr<EventStream> provider_events = provider.Events();
  absl::StatusOr<EventStream> consumer_events = consumer.Events();
  ASSERT_TRUE(provider_events.ok() && consumer_events.ok());
  absl::StatusOr<Region> region = provider.CreateRegion(4096);
  ASSERT_TRUE(region.ok());
  absl::StatusOr<ShareId> share = region->Share(consumer.realm_id(), Permission::kReadWrite);
  ASSERT_TRUE(share.ok());
  absl::StatusOr<Region> view = consumer.Attach(*share);
  ASSERT_TRUE(view.ok());
  Event attached = NextOfType(*provider_events, EventType::kAttached);
  EXPECT_EQ(attached.share, *share);
  EXPECT_EQ(attached.realm, consumer.realm_id());
  ASSERT_TRUE(CanRead(view->data()));

  ASSERT_TRUE(region->Revoke(*share).ok());
  // On return the consumer's mapping is already gone.
  EXPECT_FALSE(CanRead(view->data()));
  Event revoked = NextOfType(*consumer_events, EventType::kRevoked);
  EXPECT_EQ(revoked.share, *share);
  EXPECT_EQ(revoked.region, region->id());
  absl::StatusOr<RegionInfo> info = view->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->state, static_cast<uint32_t>(CSM_REGION_REVOKED));
  // The provider keeps its own mapping and can share again.
  EXPECT_TRUE(CanWrite(region->data()));
  EXPECT_TRUE(view->Detach().ok());
  EXPECT_TRUE(region->Share(consumer.realm_id(), Permission::kReadOnly).ok());
}

TEST(Device, DestroyIsRefusedWithLiveSharesUnlessForced) {
  SimEnv env;
  Device provider = env.Open();
  Device consumer = env.Open();
  absl::StatusOr<EventStream> consumer_events = consumer.Events();
  ASSERT_TRUE(consumer_events.ok());
  absl::StatusOr<Region> region = provider.CreateRegion(4096);
  ASSERT_TRUE(region.ok());
  absl::StatusOr<ShareId> share = region->Share(consumer.realm_id(), Permission::kReadOnly);
  ASSERT_TRUE(share.ok());
  absl::StatusOr<Region> view = consumer.Attach(*share);
  ASSERT_TRUE(view.ok());

  absl::Status st = region->Destroy();
  EXPECT_TRUE(absl::IsFailedPrecondition(st));
  EXPECT_THAT(st.message(), HasSubstr("still has live shares"));
  EXPECT_TRUE(CanRead(view->data()));

  ASSERT_TRUE(region->Destroy(/*force=*/true).ok());
  EXPECT_TRUE(region->bytes().empty());
  EXPECT_FALSE(CanRead(view->data()));  // file truncated: every mapping faults
  Event destroyed = NextOfType(*consumer_events, EventType::kDestroyed);
  EXPECT_EQ(destroyed.region, region->id());
  absl::StatusOr<Region> again = consumer.Attach(*share);
  EXPECT_THAT(again.status().message(), HasSubstr("its region was destroyed"));
}

TEST(Device, DetachTellsTheProvider) {
  SimEnv env;
  Device provider = env.Open();
  Device consumer = env.Open();
  absl::StatusOr<EventStream> events = provider.Events();
  ASSERT_TRUE(events.ok());
  absl::StatusOr<Region> region = provider.CreateRegion(4096);
  ASSERT_TRUE(region.ok());
  absl::StatusOr<ShareId> share = region->Share(consumer.realm_id(), Permission::kReadOnly);
  ASSERT_TRUE(share.ok());
  {
    absl::StatusOr<Region> view = consumer.Attach(*share);
    ASSERT_TRUE(view.ok());
  }  // dropping the Region detaches
  NextOfType(*events, EventType::kAttached);
  Event detached = NextOfType(*events, EventType::kDetached);
  EXPECT_EQ(detached.realm, consumer.realm_id());
  // The share is still granted: the consumer may attach again.
  EXPECT_TRUE(consumer.Attach(*share).ok());
}

TEST(Device, InfoAndListing) {
  SimEnv env;
  Device provider = env.Open();
  Device c1 = env.Open();
  Device c2 = env.Open();
  absl::StatusOr<Region> a = provider.CreateRegion(4096);
  absl::StatusOr<Region> b = provider.CreateRegion(3 * 4096);
  ASSERT_TRUE(a.ok() && b.ok());
  absl::StatusOr<ShareId> s1 = b->Share(c1.realm_id(), Permission::kReadOnly);
  absl::StatusOr<ShareId> s2 = b->Share(c2.realm_id(), Permission::kReadWrite);
  ASSERT_TRUE(s1.ok() && s2.ok());
  absl::StatusOr<Region> v1 = c1.Attach(*s1);
  ASSERT_TRUE(v1.ok());

  absl::StatusOr<std::vector<RegionInfo>> mine = provider.ListRegions();
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_EQ(mine->size(), 2u);
  absl::StatusOr<RegionInfo> info = b->Info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 3u * 4096);
  EXPECT_EQ(info->live_shares, 2u);
  EXPECT_EQ(info->role, Role::kProvider);

  absl::StatusOr<std::vector<ShareInfo>> shares = b->Shares();
  ASSERT_TRUE(shares.ok());
  ASSERT_EQ(shares->size(), 2u);
  int attached = 0;
  for (const ShareInfo& s : *shares) attached += s.attached;
  EXPECT_EQ(attached, 1);

  absl::StatusOr<std::vector<RegionInfo>> theirs = c1.ListRegions();
  ASSERT_TRUE(theirs.ok());
  ASSERT_EQ(theirs->size(), 1u);
  EXPECT_EQ((*theirs)[0].role, Role::kConsumer);
  EXPECT_EQ((*theirs)[0].share, *s1);
  EXPECT_EQ((*theirs)[0].permission, Permission::kReadOnly);
  // A realm that is no party may not look.
  EXPECT_TRUE(absl::IsPermissionDenied(c2.GetRegionInfo(a->id()).status()));
}

TEST(Device, DoorbellsConnectTheParties) {
  SimEnv env;
  Device provider = env.Open();
  Device consumer = env.Open();
  Device stranger = env.Open();
  absl::StatusOr<Region> region = provider.CreateRegion(4096);
  ASSERT_TRUE(region.ok());
  absl::StatusOr<ShareId> share = region->Share(consumer.realm_id(), Permission::kReadWrite);
  ASSERT_TRUE(share.ok());
  absl::StatusOr<Region> view = consumer.Attach(*share);
  ASSERT_TRUE(view.ok());

  absl::StatusOr<Doorbell> provider_bell = region->MyDoorbell();
  absl::StatusOr<Doorbell> ring_provider = view->PeerDoorbell(provider.realm_id());
  absl::StatusOr<Doorbell> consumer_bell = view->MyDoorbell();
  absl::StatusOr<Doorbell> ring_consumer = region->PeerDoorbell(consumer.realm_id());
  ASSERT_TRUE(provider_bell.ok() && ring_provider.ok() && consumer_bell.ok() && ring_consumer.ok());

  EXPECT_TRUE(absl::IsDeadlineExceeded(provider_bell->Wait(absl::ZeroDuration())));
  ring_provider->Ring();
  EXPECT_TRUE(provider_bell->Wait(kGuard).ok());
  ring_consumer->Ring();
  EXPECT_TRUE(consumer_bell->Wait(kGuard).ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(consumer_bell->Wait(absl::ZeroDuration())));
  EXPECT_EQ(ring_provider->dropped_rings(), 0u);

  absl::StatusOr<Doorbell> nope = region->PeerDoorbell(stranger.realm_id());
  EXPECT_TRUE(absl::IsNotFound(nope.status()));
  EXPECT_THAT(nope.status().message(), HasSubstr("is not a party to region"));
}

TEST(Device, ClosingARealmReleasesEverything) {
  SimEnv env;
  Device consumer = env.Open();
  absl::StatusOr<EventStream> events = consumer.Events();
  ASSERT_TRUE(events.ok());
  std::optional<Region> view;
  RegionId id;
  {
    Device provider = env.Open();
    absl::StatusOr<Region> region = provider.CreateRegion(4096);
    ASSERT_TRUE(region.ok());
    id = region->id();
    absl::StatusOr<ShareId> share = region->Share(consumer.realm_id(), Permission::kReadOnly);
    ASSERT_TRUE(share.ok());
    absl::StatusOr<Region> v = consumer.Attach(*share);
    ASSERT_TRUE(v.ok());
    view = std::move(*v);
  }  // provider's Region and Device dropped
  Event e = NextOfType(*events, EventType::kDestroyed);
  EXPECT_EQ(e.region, id);
  EXPECT_FALSE(CanRead(view->data()));
  view.reset();
  absl::StatusOr<SimSnapshot> snap = InspectSim(env.dir());
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->realms, 1u);  // the consumer
  EXPECT_EQ(snap->regions, 0u);
  EXPECT_EQ(snap->shares, 0u);
  EXPECT_TRUE(snap->region_files.empty());
}

TEST(Device, RealmIsPerProcessByDefault) {
  SimEnv env;
  Device::Options o = env.Options();
  o.sim_realm = SimRealm::kPerProcess;
  absl::StatusOr<Device> a = Device::Open(o);
  absl::StatusOr<Device> b = Device::Open(o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->realm_id(), b->realm_id());
}

}  // namespace
}  // namespace csm
