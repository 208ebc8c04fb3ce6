// Attestation on the simulator: the token binds the caller, the region with
// every consumer and its permission, and the challenge; tampering is caught.
#include <sys/stat.h>

#include "csm/device.h"
#include "csm/uapi/csm.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/testing/sim_env.h"

namespace csm {
namespace {

using ::testing::HasSubstr;
using testing::SimEnv;

std::vector<uint8_t> Challenge(size_t n, uint8_t seed) {
  std::vector<uint8_t> c(n);
  for (size_t i = 0; i < n; ++i) c[i] = static_cast<uint8_t>(seed + i * 7);
  return c;
}

class AttestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Region> r = provider_.CreateRegion(2 * 4096);
    ASSERT_TRUE(r.ok());
    region_ = std::move(*r);
    absl::StatusOr<ShareId> s1 = region_->Share(ro_.realm_id(), Permission::kReadOnly);
    absl::StatusOr<ShareId> s2 = region_->Share(rw_.realm_id(), Permission::kReadWrite);
    ASSERT_TRUE(s1.ok() && s2.ok());
    ro_share_ = *s1;
    rw_share_ = *s2;
    absl::StatusOr<Region> v = ro_.Attach(ro_share_);
    ASSERT_TRUE(v.ok());
    ro_view_ = std::move(*v);
  }

  SimEnv env_;
  Device provider_ = env_.Open();
  Device ro_ = env_.Open();
  Device rw_ = env_.Open();
  std::optional<Region> region_;
  std::optional<Region> ro_view_;
  ShareId ro_share_, rw_share_;
};

TEST_F(AttestTest, RoundTripBindsCallerRegionConsumersAndChallenge) {
  std::vector<uint8_t> challenge = Challenge(48, 3);
  absl::StatusOr<std::vector<uint8_t>> token = ro_view_->Attest(challenge);
  ASSERT_TRUE(token.ok()) << token.status();

  // Any realm on the host can verify (here: the provider's device).
  absl::StatusOr<AttestationClaims> claims = provider_.Verify(*token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_TRUE(claims->from_simulator);
  EXPECT_EQ(claims->token_format, static_cast<uint32_t>(CSM_TOKEN_SIM));
  EXPECT_THAT(claims->issuer, HasSubstr("NO confidentiality"));
  EXPECT_EQ(claims->caller, ro_.realm_id());
  EXPECT_EQ(claims->region, region_->id());
  EXPECT_EQ(claims->region_size, 2u * 4096);
  EXPECT_EQ(claims->provider, provider_.realm_id());
  EXPECT_EQ(claims->challenge, challenge);
  ASSERT_EQ(claims->consumers.size(), 2u);
  for (const ConsumerClaim& c : claims->consumers) {
    if (c.realm == ro_.realm_id()) {
      EXPECT_EQ(c.share, ro_share_);
      EXPECT_EQ(c.perm, CSM_PERM_RO);
      EXPECT_TRUE(c.attached);
    } else {
      EXPECT_EQ(c.realm, rw_.realm_id());
      EXPECT_EQ(c.share, rw_share_);
      EXPECT_EQ(c.perm, CSM_PERM_RW);
      EXPECT_FALSE(c.attached);
    }
  }
}

TEST_F(AttestTest, EveryTamperedByteIsRejected) {
  absl::StatusOr<std::vector<uint8_t>> token = region_->Attest(Challenge(32, 9));
  ASSERT_TRUE(token.ok()) << token.status();
  ASSERT_TRUE(provider_.Verify(*token).ok());
  for (size_t i = 0; i < token->size(); ++i) {
    std::vector<uint8_t> bad = *token;
    bad[i] ^= 0x01;
    EXPECT_FALSE(provider_.Verify(bad).ok()) << "flipped byte " << i << " was accepted";
  }
  std::vector<uint8_t> truncated(token->begin(), token->end() - 1);
  EXPECT_FALSE(provider_.Verify(truncated).ok());
  std::vector<uint8_t> longer = *token;
  longer.push_back(0);
  EXPECT_FALSE(provider_.Verify(longer).ok());
}

TEST_F(AttestTest, ChallengeLengthAndPartiesAreChecked) {
  absl::StatusOr<std::vector<uint8_t>> t = region_->Attest(Challenge(16, 1));
  EXPECT_TRUE(absl::IsInvalidArgument(t.status()));
  EXPECT_THAT(t.status().message(), HasSubstr("32 to 64 bytes"));
  // The read-write consumer has not attached: it is no party yet.
  csm_attest a = {};
  a.region_id = region_->id().value();
  a.challenge_len = 32;
  std::vector<uint8_t> buf(2048);
  a.token_ptr = reinterpret_cast<uintptr_t>(buf.data());
  a.token_len = static_cast<uint32_t>(buf.size());
  EXPECT_EQ(rw_.backend().Call(CSM_IOC_ATTEST, &a), -EACCES);
  // A buffer too small reports the size needed.
  a.token_len = 8;
  EXPECT_EQ(provider_.backend().Call(CSM_IOC_ATTEST, &a), -ENOSPC);
  EXPECT_GT(a.token_len, 8u);
  // Nonzero reserved words are refused.
  a.token_len = static_cast<uint32_t>(buf.size());
  a.reserved[2] = 1;
  EXPECT_EQ(provider_.backend().Call(CSM_IOC_ATTEST, &a), -EINVAL);
}

TEST_F(AttestTest, SimKeyIsPrivateToTheUser) {
  ASSERT_TRUE(region_->Attest(Challenge(32, 5)).ok());
  struct stat st;
  ASSERT_EQ(stat((env_.dir() + "/attest-key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(Uapi, ReservedFieldsMustBeZero) {
  SimEnv env;
  Device dev = env.Open();
  csm_create c = {};
  c.size = 4096;
  c.reserved[3] = 1;
  EXPECT_EQ(dev.backend().Call(CSM_IOC_CREATE, &c), -EINVAL);
  c.reserved[3] = 0;
  c.flags = 0x80;
  EXPECT_EQ(dev.backend().Call(CSM_IOC_CREATE, &c), -EINVAL);
  csm_share s = {};
  s.perm = CSM_PERM_WRITE;  // write without read is no permission we grant
  EXPECT_EQ(dev.backend().Call(CSM_IOC_SHARE, &s), -EINVAL);
  EXPECT_EQ(dev.backend().Call(_IOR(CSM_IOC_MAGIC, 0x3f, csm_realm), &s), -ENOTTY);
  csm_list l = {};
  l.entry_size = 12;
  EXPECT_EQ(dev.backend().Call(CSM_IOC_LIST_REGIONS, &l), -EINVAL);
}

}  // namespace
}  // namespace csm
