// The emulated-RMM token (CSM_TOKEN_EMULATED) as libcsm reads it: the claims
// come back labelled unsigned and without a hardware root, and every
// malformed record is refused rather than half-read.
#include <endian.h>
#include <string.h>

#include <vector>

#include "csm/attestation.h"
#include "csm/uapi/csm.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace csm {
namespace {

using ::testing::HasSubstr;

// Builds a token the way kmod/rmm/emulated/token.c does.
std::vector<uint8_t> Token(uint32_t challenge_len, const std::vector<csm_emu_token_consumer>& cs) {
  csm_emu_token h;
  memset(&h, 0, sizeof(h));
  memcpy(h.magic, CSM_EMU_TOKEN_MAGIC, sizeof(CSM_EMU_TOKEN_MAGIC));
  h.version = htole32(CSM_EMU_TOKEN_VERSION);
  h.nr_consumers = htole32(static_cast<uint32_t>(cs.size()));
  h.caller_realm_id = htole64(0x101);
  h.region_id = htole64(0x100000007);
  h.size = htole64(3 * 4096);
  h.provider_realm_id = htole64(0x100);
  h.challenge_len = htole32(challenge_len);
  for (uint32_t i = 0; i < challenge_len; ++i) h.challenge[i] = static_cast<uint8_t>(0xa0 + i);
  std::vector<uint8_t> t(sizeof(h) + cs.size() * sizeof(csm_emu_token_consumer));
  memcpy(t.data(), &h, sizeof(h));
  if (!cs.empty()) memcpy(t.data() + sizeof(h), cs.data(), cs.size() * sizeof(cs[0]));
  return t;
}

csm_emu_token_consumer Consumer(uint64_t realm, uint32_t perm, uint32_t state) {
  return {htole64(realm), htole32(perm), htole32(state)};
}

TEST(EmulatedTokenTest, ClaimsComeBackLabelledUnsigned) {
  std::vector<uint8_t> t = Token(32, {Consumer(0x101, CSM_PERM_RO, CSM_SHARE_ATTACHED),
                                      Consumer(0x102, CSM_PERM_RW, CSM_SHARE_GRANTED)});
  absl::StatusOr<AttestationClaims> c = VerifyEmulatedToken(t);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->token_format, static_cast<uint32_t>(CSM_TOKEN_EMULATED));
  EXPECT_FALSE(c->hardware_rooted);
  EXPECT_FALSE(c->from_simulator);
  EXPECT_THAT(c->issuer, HasSubstr("UNSIGNED"));
  EXPECT_THAT(c->issuer, HasSubstr("NO hardware root"));
  EXPECT_EQ(c->caller, RealmId(0x101));
  EXPECT_EQ(c->region, RegionId(0x100000007));
  EXPECT_EQ(c->region_size, 3u * 4096);
  EXPECT_EQ(c->provider, RealmId(0x100));
  ASSERT_EQ(c->challenge.size(), 32u);
  EXPECT_EQ(c->challenge[31], 0xa0 + 31);
  ASSERT_EQ(c->consumers.size(), 2u);
  EXPECT_EQ(c->consumers[0].realm, RealmId(0x101));
  EXPECT_EQ(c->consumers[0].perm, CSM_PERM_RO);
  EXPECT_TRUE(c->consumers[0].attached);
  EXPECT_EQ(c->consumers[1].perm, CSM_PERM_RW);
  EXPECT_FALSE(c->consumers[1].attached);
}

TEST(EmulatedTokenTest, EveryTruncationIsRefused) {
  std::vector<uint8_t> t = Token(64, {Consumer(0x101, CSM_PERM_RO, CSM_SHARE_ATTACHED)});
  for (size_t n = 0; n < t.size(); ++n) {
    EXPECT_FALSE(VerifyEmulatedToken(std::span(t.data(), n)).ok()) << n << " bytes";
  }
  t.push_back(0);
  EXPECT_FALSE(VerifyEmulatedToken(t).ok()) << "trailing byte";
}

TEST(EmulatedTokenTest, MalformedFieldsAreRefused) {
  const std::vector<uint8_t> good = Token(32, {Consumer(0x101, CSM_PERM_RW, CSM_SHARE_ATTACHED)});
  ASSERT_TRUE(VerifyEmulatedToken(good).ok());
  struct Case {
    const char* what;
    size_t offset;
    uint8_t value;
    const char* message;
  } cases[] = {
      {"magic", 0, 'X', "magic"},
      {"magic padding", 15, 1, "magic"},
      {"version", offsetof(csm_emu_token, version), 2, "version"},
      {"consumer count", offsetof(csm_emu_token, nr_consumers), 2, "consumers"},
      {"challenge length", offsetof(csm_emu_token, challenge_len), 31, "challenge length"},
      {"padding", offsetof(csm_emu_token, __pad), 1, "padding"},
      {"challenge tail", offsetof(csm_emu_token, challenge) + 40, 1, "padding"},
      {"size", offsetof(csm_emu_token, size), 1, "region size"},
      {"caller", offsetof(csm_emu_token, caller_realm_id) + 7, 0, "zero ID"},
      {"perm", sizeof(csm_emu_token) + 8, 4, "permission"},
      {"state", sizeof(csm_emu_token) + 12, 3, "share state"},
      {"consumer realm", sizeof(csm_emu_token), 0, "zero realm"},
  };
  for (const Case& k : cases) {
    std::vector<uint8_t> t = good;
    t[k.offset] = k.value;
    if (std::string(k.what) == "caller") memset(t.data() + offsetof(csm_emu_token, caller_realm_id), 0, 8);
    if (std::string(k.what) == "consumer realm") memset(t.data() + sizeof(csm_emu_token), 0, 8);
    absl::StatusOr<AttestationClaims> c = VerifyEmulatedToken(t);
    ASSERT_FALSE(c.ok()) << k.what;
    EXPECT_THAT(c.status().message(), HasSubstr(k.message)) << k.what;
  }
}

}  // namespace
}  // namespace csm
