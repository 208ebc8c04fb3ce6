// The sealed baseline's seal/open (bench/compare/aead.h): round trips, and
// every way a host that can write the shared memory might cheat is refused.
#include "aead.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace csm::compare {
namespace {

constexpr uint32_t kDir = 0x11223344;

AeadKey TestKey(uint8_t seed) {
  AeadKey k;
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed + i * 13);
  return k;
}

std::vector<std::byte> Plain(std::size_t n, uint8_t seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(static_cast<uint8_t>(seed + i));
  return v;
}

class AeadTest : public ::testing::TestWithParam<AeadKind> {
 protected:
  void SetUp() override {
    auto s = Sealer::Create(GetParam(), TestKey(1), kDir);
    auto o = Opener::Create(GetParam(), TestKey(1), kDir);
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_TRUE(o.ok()) << o.status();
    sealer_.emplace(std::move(*s));
    opener_.emplace(std::move(*o));
  }

  std::vector<std::byte> Seal(const std::vector<std::byte>& plain, uint32_t type = 7) {
    std::vector<std::byte> out(SealedBytes(plain.size()));
    EXPECT_TRUE(sealer_->Seal(type, plain, out).ok());
    return out;
  }

  absl::StatusOr<Opened> Open(const std::vector<std::byte>& sealed, std::vector<std::byte>& plain) {
    return opener_->Open(sealed, plain);
  }

  std::optional<Sealer> sealer_;
  std::optional<Opener> opener_;
};

TEST_P(AeadTest, RoundTripsEverySize) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{16}, std::size_t{64},
                        std::size_t{4096}, std::size_t{65536 + 3}}) {
    const std::vector<std::byte> plain = Plain(n, static_cast<uint8_t>(n));
    const std::vector<std::byte> sealed = Seal(plain);
    // The ciphertext is not the plaintext (beyond trivial sizes).
    if (n >= 16) {
      EXPECT_NE(0, std::memcmp(sealed.data() + kSealedHeaderBytes, plain.data(), n));
    }
    std::vector<std::byte> out(n + 8);
    absl::StatusOr<Opened> o = Open(sealed, out);
    ASSERT_TRUE(o.ok()) << o.status();
    EXPECT_EQ(o->length, n);
    EXPECT_EQ(o->type, 7u);
    if (n > 0) {
      EXPECT_EQ(0, std::memcmp(out.data(), plain.data(), n));
    }
  }
  EXPECT_EQ(opener_->next_seq(), 6u);
  EXPECT_EQ(opener_->rejected(), 0u);
}

TEST_P(AeadTest, TamperedCiphertextTagOrHeaderIsRejected) {
  const std::vector<std::byte> plain = Plain(256, 3);
  const std::vector<std::byte> good = Seal(plain);
  std::vector<std::byte> out(256);
  // One flipped bit anywhere: header (AAD: seq, length, type), data, tag.
  for (std::size_t at : {std::size_t{12}, kSealedHeaderBytes, kSealedHeaderBytes + 200,
                         kSealedHeaderBytes + 256, good.size() - 1}) {
    std::vector<std::byte> bad = good;
    bad[at] ^= std::byte{0x01};
    absl::StatusOr<Opened> o = Open(bad, out);
    EXPECT_FALSE(o.ok()) << "flip at byte " << at;
    EXPECT_EQ(o.status().code(), absl::StatusCode::kDataLoss);
  }
  EXPECT_EQ(opener_->next_seq(), 0u) << "a rejected message must not move the sequence";
  ASSERT_TRUE(Open(good, out).ok());
  EXPECT_EQ(opener_->rejected(), 5u);
}

TEST_P(AeadTest, ReplayedMessageIsRejected) {
  const std::vector<std::byte> first = Seal(Plain(64, 1));
  std::vector<std::byte> out(64);
  ASSERT_TRUE(Open(first, out).ok());
  absl::StatusOr<Opened> again = Open(first, out);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("replayed"), std::string::npos) << again.status();
  // A replay whose header claims the current sequence fails authentication.
  std::vector<std::byte> relabeled = first;
  const uint64_t one = 1;
  std::memcpy(relabeled.data(), &one, sizeof(one));
  EXPECT_FALSE(Open(relabeled, out).ok());
  ASSERT_TRUE(Open(Seal(Plain(64, 2)), out).ok());
}

TEST_P(AeadTest, ReorderedMessagesAreRejected) {
  const std::vector<std::byte> m0 = Seal(Plain(64, 1));
  const std::vector<std::byte> m1 = Seal(Plain(64, 2));
  std::vector<std::byte> out(64);
  absl::StatusOr<Opened> early = Open(m1, out);
  ASSERT_FALSE(early.ok());
  EXPECT_NE(early.status().message().find("reordered"), std::string::npos) << early.status();
  ASSERT_TRUE(Open(m0, out).ok());
  ASSERT_TRUE(Open(m1, out).ok());
}

TEST_P(AeadTest, WrongKeyOrDirectionIsRejected) {
  const std::vector<std::byte> sealed = Seal(Plain(64, 1));
  std::vector<std::byte> out(64);
  auto other_key = Opener::Create(GetParam(), TestKey(2), kDir);
  auto other_dir = Opener::Create(GetParam(), TestKey(1), kDir + 1);
  ASSERT_TRUE(other_key.ok() && other_dir.ok());
  EXPECT_FALSE(other_key->Open(sealed, out).ok());
  EXPECT_FALSE(other_dir->Open(sealed, out).ok());
}

TEST_P(AeadTest, MalformedRecordsAreRejectedBeforeDecryption) {
  std::vector<std::byte> sealed = Seal(Plain(64, 1));
  std::vector<std::byte> small(32), out(64);
  // Shorter than header and tag.
  EXPECT_FALSE(opener_->Open(std::span(sealed).first(20), out).ok());
  // Length field disagrees with the record.
  EXPECT_FALSE(opener_->Open(std::span(sealed).first(sealed.size() - 8), out).ok());
  // Longer than the caller's buffer.
  EXPECT_FALSE(Open(sealed, small).ok());
  ASSERT_TRUE(Open(sealed, out).ok());
}

TEST_P(AeadTest, SealRefusesAnOutputTooSmall) {
  std::vector<std::byte> plain = Plain(64, 1), out(SealedBytes(64) - 1);
  EXPECT_FALSE(sealer_->Seal(1, plain, out).ok());
  EXPECT_EQ(sealer_->next_seq(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Ciphers, AeadTest,
                         ::testing::Values(AeadKind::kAes256Gcm, AeadKind::kChaCha20Poly1305),
                         [](const auto& param_info) {
                           return param_info.param == AeadKind::kAes256Gcm ? std::string("AesGcm")
                                                                     : std::string("ChaCha");
                         });

}  // namespace
}  // namespace csm::compare
