// csm::Device behaviour that needs only one realm, on whichever backend the
// environment selects: the simulator by default, /dev/csm with
// CSM_BACKEND=kernel (tests/vm runs this suite so inside a VM, over the
// emulated RMM). The same assertions hold on both; where the backends
// legitimately differ (which backend, which token format) the test says so.
// Tests that need several realms in one process cannot run over /dev/csm
// (there a realm is the whole VM): docs/kernel-module.md lists them.
#include <stdlib.h>
#include <string.h>

#include <cstring>
#include <optional>
#include <vector>

#include "csm/device.h"
#include "csm/uapi/csm.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/testing/sim_env.h"

namespace csm {
namespace {

using ::testing::HasSubstr;

constexpr absl::Duration kGuard = absl::Seconds(10);  // failure guard, not timing

bool OverKernel() {
  const char* b = getenv("CSM_BACKEND");
  return b != nullptr && strcmp(b, "kernel") == 0;
}

class SingleRealm : public ::testing::Test {
 protected:
  void SetUp() override {
    Device::Options o;
    if (OverKernel()) {
      o.choice = BackendChoice::kKernel;
    } else {
      sim_.emplace();
      o = sim_->Options();
    }
    absl::StatusOr<Device> d = Device::Open(o);
    ASSERT_TRUE(d.ok()) << d.status();
    dev_.emplace(std::move(*d));
  }

  std::optional<testing::SimEnv> sim_;
  std::optional<Device> dev_;
};

TEST_F(SingleRealm, DescribesItsBackendAndSaysThereIsNoConfidentiality) {
  const DeviceInfo& info = dev_->info();
  EXPECT_EQ(info.backend, OverKernel() ? BackendKind::kEmulatedRmm : BackendKind::kSim);
  EXPECT_EQ(info.where, OverKernel() ? "/dev/csm" : sim_->dir());
  EXPECT_FALSE(info.confidential);
  EXPECT_EQ(info.features & CSM_FEAT_CONFIDENTIAL, 0u);
  EXPECT_THAT(info.Describe(), HasSubstr("NO confidentiality"));
  EXPECT_THAT(info.backend_name, HasSubstr("no confidentiality"));
  EXPECT_EQ(info.uapi_version >> 16, CSM_UAPI_VERSION_MAJOR);
  EXPECT_TRUE(dev_->realm_id().valid());
}

TEST_F(SingleRealm, CreateRejectsBadSizes) {
  absl::StatusOr<Region> r = dev_->CreateRegion(3000);
  EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
  EXPECT_EQ(r.status().message(), "region size 3000 is not a multiple of 4096");
  r = dev_->CreateRegion(0);
  EXPECT_THAT(r.status().message(), HasSubstr("nonzero"));
  r = dev_->CreateRegion(uint64_t{1} << 40);
  EXPECT_TRUE(absl::IsOutOfRange(r.status())) << r.status();
}

TEST_F(SingleRealm, ProviderRegionLifecycle) {
  absl::StatusOr<Region> created = dev_->CreateRegion(3 * 4096);
  ASSERT_TRUE(created.ok()) << created.status();
  Region region = std::move(*created);
  EXPECT_EQ(region.role(), Role::kProvider);
  EXPECT_EQ(region.provider(), dev_->realm_id());
  ASSERT_EQ(region.bytes().size(), 3u * 4096);
  // Starts zeroed, and is ours to write.
  std::vector<std::byte> zero(region.size());
  EXPECT_EQ(std::memcmp(region.data(), zero.data(), zero.size()), 0);
  std::memcpy(static_cast<char*>(region.data()) + 8192, "hello", 6);
  EXPECT_STREQ(static_cast<const char*>(region.data()) + 8192, "hello");

  absl::StatusOr<RegionInfo> info = region.Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->id, region.id());
  EXPECT_EQ(info->size, 3u * 4096);
  EXPECT_EQ(info->role, Role::kProvider);
  EXPECT_EQ(info->provider, dev_->realm_id());
  EXPECT_EQ(info->state, static_cast<uint32_t>(CSM_REGION_ACTIVE));
  EXPECT_EQ(info->live_shares, 0u);
  absl::StatusOr<std::vector<RegionInfo>> all = dev_->ListRegions();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, region.id());
  absl::StatusOr<std::vector<ShareInfo>> shares = region.Shares();
  ASSERT_TRUE(shares.ok()) << shares.status();
  EXPECT_TRUE(shares->empty());

  absl::StatusOr<ShareId> nobody = region.Share(RealmId(0x77777), Permission::kReadOnly);
  EXPECT_TRUE(absl::IsNotFound(nobody.status())) << nobody.status();
  EXPECT_EQ(nobody.status().message(), "realm 0x77777 does not exist (no live realm has that ID)");
  absl::StatusOr<Region> bad = dev_->Attach(ShareId(0x1122));
  EXPECT_TRUE(absl::IsNotFound(bad.status())) << bad.status();

  const RegionId id = region.id();
  ASSERT_TRUE(region.Destroy().ok());
  EXPECT_TRUE(region.bytes().empty());
  all = dev_->ListRegions();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  absl::StatusOr<RegionInfo> gone = dev_->GetRegionInfo(id);
  EXPECT_FALSE(gone.ok());
}

TEST_F(SingleRealm, OwnDoorbellWakesOnceAndDrains) {
  absl::StatusOr<Region> created = dev_->CreateRegion(4096);
  ASSERT_TRUE(created.ok()) << created.status();
  Region region = std::move(*created);
  absl::StatusOr<Doorbell> mine = region.MyDoorbell();
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_TRUE(absl::IsDeadlineExceeded(mine->Wait(absl::ZeroDuration())));
  mine->Ring();
  EXPECT_TRUE(mine->Wait(kGuard).ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(mine->Wait(absl::ZeroDuration())));
  absl::StatusOr<Doorbell> stranger = region.PeerDoorbell(RealmId(0x77777));
  EXPECT_TRUE(absl::IsNotFound(stranger.status())) << stranger.status();
}

TEST_F(SingleRealm, EventStreamStartsEmpty) {
  absl::StatusOr<EventStream> events = dev_->Events();
  ASSERT_TRUE(events.ok()) << events.status();
  absl::StatusOr<Region> created = dev_->CreateRegion(4096);
  ASSERT_TRUE(created.ok()) << created.status();
  Region region = std::move(*created);
  EXPECT_TRUE(absl::IsDeadlineExceeded(events->Next(absl::Milliseconds(50)).status()));
}

TEST_F(SingleRealm, AttestationBindsRealmRegionAndChallengeWithoutHardwareRoot) {
  absl::StatusOr<Region> created = dev_->CreateRegion(2 * 4096);
  ASSERT_TRUE(created.ok()) << created.status();
  Region region = std::move(*created);
  std::vector<uint8_t> challenge(48);
  for (size_t i = 0; i < challenge.size(); ++i) challenge[i] = static_cast<uint8_t>(0x40 + i);
  absl::StatusOr<std::vector<uint8_t>> token = region.Attest(challenge);
  ASSERT_TRUE(token.ok()) << token.status();
  absl::StatusOr<AttestationClaims> claims = dev_->Verify(*token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->token_format,
            static_cast<uint32_t>(OverKernel() ? CSM_TOKEN_EMULATED : CSM_TOKEN_SIM));
  EXPECT_FALSE(claims->hardware_rooted);
  EXPECT_THAT(claims->issuer, HasSubstr("NO"));
  EXPECT_EQ(claims->caller, dev_->realm_id());
  EXPECT_EQ(claims->region, region.id());
  EXPECT_EQ(claims->region_size, 2u * 4096);
  EXPECT_EQ(claims->provider, dev_->realm_id());
  EXPECT_TRUE(claims->consumers.empty());
  EXPECT_EQ(claims->challenge, challenge);

  // A token altered after the fact: the sim's signature catches any byte;
  // the unsigned emulated token can only be checked for form, so alter a
  // field the form check covers (the challenge length).
  std::vector<uint8_t> bad = *token;
  bad[OverKernel() ? offsetof(csm_emu_token, challenge_len) : bad.size() - 1] ^= 0x80;
  EXPECT_FALSE(dev_->Verify(bad).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(region.Attest(std::vector<uint8_t>(16)).status()));
}

// A buffer length with no buffer is a bad user pointer, as the UAPI header
// says of EFAULT, for every command that writes through one.
TEST_F(SingleRealm, ALengthWithoutABufferIsEfault) {
  absl::StatusOr<Region> created = dev_->CreateRegion(4096);
  ASSERT_TRUE(created.ok()) << created.status();
  csm_list l = {};
  l.capacity = 1;
  l.entry_size = sizeof(csm_region_info);
  EXPECT_EQ(dev_->backend().Call(CSM_IOC_LIST_REGIONS, &l), -EFAULT);
  l.entry_size = sizeof(csm_share_info);
  l.region_id = created->id().value();
  EXPECT_EQ(dev_->backend().Call(CSM_IOC_LIST_SHARES, &l), -EFAULT);
  csm_attest a = {};
  a.region_id = created->id().value();
  a.challenge_len = 32;
  a.token_len = 4096;
  EXPECT_EQ(dev_->backend().Call(CSM_IOC_ATTEST, &a), -EFAULT);
  a.token_len = 0;  // the size query needs no buffer
  EXPECT_EQ(dev_->backend().Call(CSM_IOC_ATTEST, &a), -ENOSPC);
  EXPECT_GT(a.token_len, 0u);
}

}  // namespace
}  // namespace csm
