// libcsm's CCA token verifier against tokens built here (libcbor + OpenSSL),
// good and tampered, and the CSM_TOKEN_CCA evidence around them.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <random>
#include <string>

#include "cca_token_builder.h"
#include "csm/attestation_cca.h"
#include "csm/device.h"
#include "csm/uapi/attestation_cca.h"
#include "csm/uapi/csm.h"
#include "sim/testing/sim_env.h"

namespace csm {
namespace {

using test::Bytes;

// The evidence layout is UAPI: fixed sizes and offsets, shared with kmod/.
static_assert(sizeof(csm_cca_evidence) == 128 && sizeof(csm_cca_region_desc) == 256);
static_assert(offsetof(csm_cca_evidence, token_len) == 28 &&
              offsetof(csm_cca_evidence, challenge_len) == 32 &&
              offsetof(csm_cca_evidence, challenge) == 48 &&
              offsetof(csm_cca_evidence, reserved) == 112);
static_assert(offsetof(csm_cca_region_desc, caller_realm_id) == 8 &&
              offsetof(csm_cca_region_desc, share_id) == 40 &&
              offsetof(csm_cca_region_desc, nr_consumers) == 56 &&
              offsetof(csm_cca_region_desc, consumers) == 64 && sizeof(csm_cca_consumer) == 24);

class CcaTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/csm-cca-test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    platform_ = test::NewP384Key();
    rak_ = test::NewP384Key();
    other_ = test::NewP384Key();
    trust_.platform_key_file = dir_ + "/platform-pub.pem";
    test::WritePublicPem(platform_.get(), trust_.platform_key_file);
    other_pem_ = dir_ + "/other-pub.pem";
    test::WritePublicPem(other_.get(), other_pem_);
    unsetenv(kCcaTrustKeyEnv);
  }
  void TearDown() override {
    unlink(trust_.platform_key_file.c_str());
    unlink(other_pem_.c_str());
    rmdir(dir_.c_str());
  }
  test::TokenSpec Spec() {
    test::TokenSpec s;
    s.platform_key = platform_.get();
    s.rak = rak_.get();
    return s;
  }
  absl::StatusOr<CcaTokenClaims> Verify(const Bytes& token, const Bytes& challenge) {
    return VerifyCcaToken(token, challenge, trust_);
  }

  std::string dir_, other_pem_;
  test::Pkey platform_, rak_, other_;
  CcaTrust trust_;
};

TEST_F(CcaTokenTest, GoodTokenVerifies) {
  test::TokenSpec s = Spec();
  absl::StatusOr<CcaTokenClaims> c = Verify(test::BuildToken(s), s.challenge);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->challenge, s.challenge);
  ASSERT_TRUE(c->realm_tag.has_value());
  EXPECT_EQ(*c->realm_tag, 7u);
  EXPECT_TRUE(c->test_platform);
  EXPECT_EQ(c->platform_profile, "tag:arm.com,2023:cca_platform#1.0.0");
  EXPECT_EQ(c->rak_public_key, test::RawPoint(rak_.get()));
  EXPECT_EQ(c->extensible_measurements.size(), 4u);
  EXPECT_EQ(c->rak_hash_algo, "sha-512");
  EXPECT_EQ(c->lifecycle, 0x3000u);
}

TEST_F(CcaTokenTest, RakAsCoseKeyAndRealPlatformVerify) {
  test::TokenSpec s = Spec();
  s.rak_as_cose_key = true;
  s.implementation_id = "some-real-platform-id";
  absl::StatusOr<CcaTokenClaims> c = Verify(test::BuildToken(s), s.challenge);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->test_platform);
}

TEST_F(CcaTokenTest, TrustAnchorFromEnvironmentOrNone) {
  test::TokenSpec s = Spec();
  Bytes token = test::BuildToken(s);
  absl::StatusOr<CcaTokenClaims> none = VerifyCcaToken(token, s.challenge, {});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition) << none.status();
  EXPECT_NE(none.status().message().find(kCcaTrustKeyEnv), std::string::npos);
  setenv(kCcaTrustKeyEnv, trust_.platform_key_file.c_str(), 1);
  EXPECT_TRUE(VerifyCcaToken(token, s.challenge, {}).ok());
  setenv(kCcaTrustKeyEnv, (dir_ + "/missing.pem").c_str(), 1);
  EXPECT_EQ(VerifyCcaToken(token, s.challenge, {}).status().code(), absl::StatusCode::kNotFound);
  unsetenv(kCcaTrustKeyEnv);
}

TEST_F(CcaTokenTest, WrongChallengeRefused) {
  test::TokenSpec s = Spec();
  Bytes other(64, 0xCD);
  absl::StatusOr<CcaTokenClaims> c = Verify(test::BuildToken(s), other);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated) << c.status();
  EXPECT_NE(c.status().message().find("challenge"), std::string::npos);
}

TEST_F(CcaTokenTest, WrongTrustKeyRefused) {
  test::TokenSpec s = Spec();
  CcaTrust wrong{.platform_key_file = other_pem_};
  absl::StatusOr<CcaTokenClaims> c = VerifyCcaToken(test::BuildToken(s), s.challenge, wrong);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated) << c.status();
  EXPECT_NE(c.status().message().find("platform"), std::string::npos);
}

TEST_F(CcaTokenTest, FlippedSignaturesRefused) {
  test::TokenSpec s = Spec();
  s.platform_sign1.flip_signature = true;
  EXPECT_EQ(Verify(test::BuildToken(s), s.challenge).status().code(),
            absl::StatusCode::kUnauthenticated);
  s = Spec();
  s.realm_sign1.flip_signature = true;
  absl::StatusOr<CcaTokenClaims> c = Verify(test::BuildToken(s), s.challenge);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated) << c.status();
  EXPECT_NE(c.status().message().find("realm"), std::string::npos);
}

TEST_F(CcaTokenTest, RealmSignedByAnotherKeyRefused) {
  test::TokenSpec s = Spec();
  s.realm_signer = other_.get();
  EXPECT_EQ(Verify(test::BuildToken(s), s.challenge).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(CcaTokenTest, BrokenPlatformRealmBindingRefused) {
  test::TokenSpec s = Spec();
  s.platform_challenge = test::Sha512(test::RawPoint(other_.get()));
  absl::StatusOr<CcaTokenClaims> c = Verify(test::BuildToken(s), s.challenge);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated) << c.status();
  EXPECT_NE(c.status().message().find("RAK"), std::string::npos);
}

TEST_F(CcaTokenTest, WrongTagsAndAlgorithmRefused) {
  test::TokenSpec s = Spec();
  s.collection_tag = 400;
  EXPECT_EQ(Verify(test::BuildToken(s), s.challenge).status().code(),
            absl::StatusCode::kInvalidArgument);
  s = Spec();
  s.realm_sign1.tag = 17;
  EXPECT_EQ(Verify(test::BuildToken(s), s.challenge).status().code(),
            absl::StatusCode::kInvalidArgument);
  s = Spec();
  s.platform_sign1.alg = -7;  // ES256
  absl::StatusOr<CcaTokenClaims> c = Verify(test::BuildToken(s), s.challenge);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
  EXPECT_NE(c.status().message().find("ES384"), std::string::npos);
}

TEST_F(CcaTokenTest, EveryTruncationRefused) {
  test::TokenSpec s = Spec();
  Bytes token = test::BuildToken(s);
  for (size_t n = 0; n < token.size(); ++n) {
    Bytes cut(token.begin(), token.begin() + n);
    absl::StatusOr<CcaTokenClaims> c = Verify(cut, s.challenge);
    ASSERT_FALSE(c.ok()) << "prefix of " << n << " bytes verified";
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << n << ": " << c.status();
  }
  Bytes longer = token;
  longer.push_back(0);
  EXPECT_NE(Verify(longer, s.challenge).status().message().find("trailing"), std::string::npos);
}

TEST_F(CcaTokenTest, OversizedLengthsRefusedWithoutAllocating) {
  // tag 399, map of 1: key 44234, array claiming 2^32 entries.
  Bytes huge_array = {0xd9, 0x01, 0x8f, 0xa1, 0x19, 0xac, 0xca, 0x9a, 0xff, 0xff, 0xff, 0xff, 0x00};
  absl::StatusOr<CcaTokenClaims> c = Verify(huge_array, {});
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
  EXPECT_NE(c.status().message().find("more entries"), std::string::npos) << c.status();
  // A map claiming 2^28 pairs, and a bstr claiming 2^40 bytes.
  Bytes huge_map = {0xd9, 0x01, 0x8f, 0xba, 0x10, 0x00, 0x00, 0x00, 0x01};
  EXPECT_EQ(Verify(huge_map, {}).status().code(), absl::StatusCode::kInvalidArgument);
  Bytes huge_bstr = {0xd9, 0x01, 0x8f, 0x5b, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01};
  EXPECT_EQ(Verify(huge_bstr, {}).status().code(), absl::StatusCode::kInvalidArgument);
  // Nesting deeper than any token needs.
  Bytes deep(5000, 0x81);
  deep.push_back(0x00);
  EXPECT_EQ(Verify(deep, {}).status().code(), absl::StatusCode::kInvalidArgument);
  // Indefinite lengths.
  Bytes indef = {0xd9, 0x01, 0x8f, 0xbf, 0xff};
  EXPECT_EQ(Verify(indef, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Verify(Bytes(70 * 1024, 0x40), {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CcaTokenTest, RandomMutationsNeverVerifyNorCrash) {
  test::TokenSpec s = Spec();
  Bytes token = test::BuildToken(s);
  std::mt19937 rng(12345);
  int verified = 0;
  for (int i = 0; i < 3000; ++i) {
    Bytes m = token;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) m[rng() % m.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    if (rng() % 4 == 0) m.resize(rng() % m.size());
    if (m == token) continue;
    verified += Verify(m, s.challenge).ok();
  }
  EXPECT_EQ(verified, 0);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 2000; ++i) {
    Bytes junk(rng() % 300);
    for (uint8_t& b : junk) b = static_cast<uint8_t>(byte(rng));
    EXPECT_FALSE(Verify(junk, s.challenge).ok());
  }
}

// --- CSM_TOKEN_CCA evidence (what CSM_IOC_ATTEST returns) ---------------

Bytes Evidence(const csm_cca_region_desc& d, const Bytes& challenge, const Bytes& token) {
  csm_cca_evidence h{};
  memcpy(h.magic, CSM_CCA_EVIDENCE_MAGIC, sizeof(CSM_CCA_EVIDENCE_MAGIC));
  h.version = CSM_CCA_EVIDENCE_VERSION;
  h.header_size = sizeof(h);
  h.desc_size = sizeof(d);
  h.token_len = static_cast<uint32_t>(token.size());
  h.challenge_len = static_cast<uint32_t>(challenge.size());
  h.binding = CSM_CCA_HASH_SHA512;
  memcpy(h.challenge, challenge.data(), challenge.size());
  Bytes out(sizeof(h) + sizeof(d) + token.size());
  memcpy(out.data(), &h, sizeof(h));
  memcpy(out.data() + sizeof(h), &d, sizeof(d));
  if (!token.empty()) memcpy(out.data() + sizeof(h) + sizeof(d), token.data(), token.size());
  return out;
}

csm_cca_region_desc Desc() {
  csm_cca_region_desc d{};
  d.version = CSM_CCA_DESC_VERSION;
  d.desc_size = sizeof(d);
  d.caller_realm_id = 7;
  d.region_id = 7 << 8 | 3;
  d.region_size = 1 << 20;
  d.provider_realm_id = 7;
  d.caller_role = CSM_ROLE_PROVIDER;
  d.caller_perm = CSM_PERM_RW;
  d.nr_consumers = 1;
  d.consumers_total = 1;
  d.consumers[0] = {.realm_id = 9, .share_id = 3 << 16 | 7 << 8 | 9, .perm = CSM_PERM_RO,
                    .state = CSM_SHARE_ATTACHED};
  return d;
}

Bytes Binding(const csm_cca_region_desc& d, const Bytes& challenge) {
  Bytes in(sizeof(d) + challenge.size());
  memcpy(in.data(), &d, sizeof(d));
  memcpy(in.data() + sizeof(d), challenge.data(), challenge.size());
  return test::Sha512(in);
}

// Only a real platform in the secured lifecycle state (PSA 0x3000-0x30ff)
// makes the claims hardware-rooted; a debug (0x4000), decommissioned
// (0x6000) or unstated lifecycle verifies but is not evidence.
TEST_F(CcaTokenTest, EvidenceIsHardwareRootedOnlyFromASecuredPlatform) {
  csm_cca_region_desc d = Desc();
  Bytes nonce(32, 0x5c);
  for (std::optional<uint16_t> lifecycle :
       {std::optional<uint16_t>(0x3000), std::optional<uint16_t>(0x30ff),
        std::optional<uint16_t>(0x4000), std::optional<uint16_t>(0x6000),
        std::optional<uint16_t>()}) {
    test::TokenSpec s = Spec();
    s.implementation_id = "some-real-platform-id";
    s.lifecycle = lifecycle;
    s.challenge = Binding(d, nonce);
    absl::StatusOr<CcaEvidenceClaims> c =
        VerifyCcaEvidence(Evidence(d, nonce, test::BuildToken(s)), trust_);
    ASSERT_TRUE(c.ok()) << c.status();
    const bool secured = lifecycle && (*lifecycle >> 8) == 0x30;
    EXPECT_EQ(c->claims.hardware_rooted, secured) << (lifecycle ? *lifecycle : -1);
    if (!secured) {
      EXPECT_NE(c->claims.issuer.find("NOT evidence"), std::string::npos);
    }
  }
}

TEST_F(CcaTokenTest, EvidenceVerifiesAndSaysTestMonitor) {
  csm_cca_region_desc d = Desc();
  Bytes nonce(32, 0x5c);
  test::TokenSpec s = Spec();
  s.challenge = Binding(d, nonce);
  Bytes ev = Evidence(d, nonce, test::BuildToken(s));
  ASSERT_TRUE(LooksLikeCcaEvidence(ev));
  absl::StatusOr<CcaEvidenceClaims> c = VerifyCcaEvidence(ev, trust_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->claims.token_format, static_cast<uint32_t>(CSM_TOKEN_CCA));
  EXPECT_NE(c->claims.issuer.find("test monitor"), std::string::npos) << c->claims.issuer;
  EXPECT_FALSE(c->claims.hardware_rooted);
  EXPECT_EQ(c->claims.caller, RealmId(7));
  EXPECT_EQ(c->claims.region, RegionId(7 << 8 | 3));
  EXPECT_EQ(c->claims.region_size, 1u << 20);
  ASSERT_EQ(c->claims.consumers.size(), 1u);
  EXPECT_EQ(c->claims.consumers[0].realm, RealmId(9));
  EXPECT_TRUE(c->claims.consumers[0].attached);
  EXPECT_EQ(c->claims.challenge, nonce);
}

TEST_F(CcaTokenTest, EvidenceTamperingRefused) {
  csm_cca_region_desc d = Desc();
  Bytes nonce(48, 0x33);
  test::TokenSpec s = Spec();
  s.challenge = Binding(d, nonce);
  Bytes token = test::BuildToken(s);
  // The descriptor says something else than what was bound.
  csm_cca_region_desc bigger = d;
  bigger.region_size = 2 << 20;
  EXPECT_EQ(VerifyCcaEvidence(Evidence(bigger, nonce, token), trust_).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Another nonce in the header.
  EXPECT_EQ(VerifyCcaEvidence(Evidence(d, Bytes(48, 0x34), token), trust_).status().code(),
            absl::StatusCode::kUnauthenticated);
  // The descriptor claims another caller than the token's realm.
  csm_cca_region_desc other = d;
  other.caller_realm_id = 8;
  s.challenge = Binding(other, nonce);
  absl::StatusOr<CcaEvidenceClaims> c =
      VerifyCcaEvidence(Evidence(other, nonce, test::BuildToken(s)), trust_);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated) << c.status();
  // Layout errors.
  Bytes ev = Evidence(d, nonce, token);
  Bytes cut(ev.begin(), ev.end() - 1);
  EXPECT_EQ(VerifyCcaEvidence(cut, trust_).status().code(), absl::StatusCode::kInvalidArgument);
  Bytes bad_len = ev;
  bad_len[offsetof(csm_cca_evidence, challenge_len)] = 65;
  EXPECT_EQ(VerifyCcaEvidence(bad_len, trust_).status().code(), absl::StatusCode::kInvalidArgument);
  Bytes many = ev;
  many[CSM_CCA_EVIDENCE_HDR_SIZE + offsetof(csm_cca_region_desc, nr_consumers)] = 9;
  EXPECT_EQ(VerifyCcaEvidence(many, trust_).status().code(), absl::StatusCode::kInvalidArgument);
  for (size_t n = 0; n < ev.size(); n += 7) {
    Bytes p(ev.begin(), ev.begin() + n);
    EXPECT_FALSE(VerifyCcaEvidence(p, trust_).ok()) << n;
  }
}

// The public entry: Device::Verify takes CSM_TOKEN_CCA evidence from any
// backend and trusts the platform key $CSM_CCA_TRUST_KEY names.
TEST_F(CcaTokenTest, DeviceVerifyTakesCcaEvidence) {
  csm::testing::SimEnv env;
  Device dev = env.Open();
  csm_cca_region_desc d = Desc();
  Bytes nonce(64, 0x42);
  test::TokenSpec s = Spec();
  s.challenge = Binding(d, nonce);
  Bytes ev = Evidence(d, nonce, test::BuildToken(s));
  absl::StatusOr<AttestationClaims> none = dev.Verify(ev);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition) << none.status();
  setenv(kCcaTrustKeyEnv, trust_.platform_key_file.c_str(), 1);
  absl::StatusOr<AttestationClaims> c = dev.Verify(ev);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token_format, static_cast<uint32_t>(CSM_TOKEN_CCA));
  EXPECT_NE(c->issuer.find("test monitor"), std::string::npos);
  EXPECT_EQ(c->challenge, nonce);
  ev[ev.size() - 5] ^= 1;
  EXPECT_EQ(dev.Verify(ev).status().code(), absl::StatusCode::kUnauthenticated);
  setenv(kCcaTrustKeyEnv, other_pem_.c_str(), 1);
  ev[ev.size() - 5] ^= 1;
  EXPECT_EQ(dev.Verify(ev).status().code(), absl::StatusCode::kUnauthenticated);
  unsetenv(kCcaTrustKeyEnv);
}

}  // namespace
}  // namespace csm
