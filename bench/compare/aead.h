// Sealing and opening messages for the baseline that encrypts across
// hypervisor-visible memory (AES-256-GCM or ChaCha20-Poly1305, OpenSSL EVP).
//
// Wire form of one sealed message: header (16 bytes, authenticated as AAD) |
// ciphertext (length bytes) | tag (16 bytes). The 12-byte IV is a 4-byte
// direction label followed by the 64-bit sequence number, so a key never
// sees an IV twice (one key per run, one label per direction). The opener
// takes the IV from its own expected sequence number, never from the wire,
// and accepts only exactly the next message: a replayed (older) or reordered
// (newer) message is rejected before any decryption, and a header whose
// sequence was rewritten to look current fails the tag.
//
// Speed: the key schedule is set once per context; per message only the IV
// changes (EVP_*Init_ex with a null cipher and key keeps the schedule).
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "absl/status/statusor.h"

namespace csm::compare {

enum class AeadKind { kAes256Gcm, kChaCha20Poly1305 };
std::string_view AeadName(AeadKind kind);  // "aes-256-gcm", "chacha20-poly1305"

inline constexpr std::size_t kKeyBytes = 32;
inline constexpr std::size_t kSealedHeaderBytes = 16;
inline constexpr std::size_t kTagBytes = 16;
inline constexpr std::size_t SealedBytes(std::size_t plain) {
  return kSealedHeaderBytes + plain + kTagBytes;
}
using AeadKey = std::array<uint8_t, kKeyBytes>;

// The header, sent in clear and authenticated.
struct SealedHeader {
  uint64_t seq;
  uint32_t length;  // plaintext bytes
  uint32_t type;    // the application's message type
};
static_assert(sizeof(SealedHeader) == kSealedHeaderBytes);

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

class Sealer {
 public:
  // `direction` labels the IVs of this sender (each direction its own label).
  static absl::StatusOr<Sealer> Create(AeadKind kind, const AeadKey& key, uint32_t direction);

  // Seals `plain` as the next message into `out` (SealedBytes(plain.size())
  // bytes, typically shared memory: only ciphertext lands there).
  absl::Status Seal(uint32_t type, std::span<const std::byte> plain, std::span<std::byte> out);
  uint64_t next_seq() const { return seq_; }

 private:
  Sealer(CipherCtx ctx, uint32_t direction) : ctx_(std::move(ctx)), direction_(direction) {}
  CipherCtx ctx_;
  uint32_t direction_;
  uint64_t seq_ = 0;
};

struct Opened {
  uint32_t type = 0;
  std::size_t length = 0;  // plaintext bytes written
};

class Opener {
 public:
  static absl::StatusOr<Opener> Create(AeadKind kind, const AeadKey& key, uint32_t direction);

  // Verifies `sealed` (possibly in memory the host can write) and decrypts it
  // into `plain`. DataLoss for a malformed, replayed, reordered or forged
  // message; nothing is accepted and the expected sequence does not move.
  // On a tag failure `plain` may hold garbage and must not be used.
  absl::StatusOr<Opened> Open(std::span<const std::byte> sealed, std::span<std::byte> plain);
  uint64_t next_seq() const { return seq_; }
  uint64_t rejected() const { return rejected_; }

 private:
  Opener(CipherCtx ctx, uint32_t direction) : ctx_(std::move(ctx)), direction_(direction) {}
  absl::Status Reject(absl::Status why) {
    ++rejected_;
    return why;
  }
  CipherCtx ctx_;
  uint32_t direction_;
  uint64_t seq_ = 0;
  uint64_t rejected_ = 0;
};

// The cipher, fetched once per process (an implicit fetch per init is slow).
const EVP_CIPHER* CipherFor(AeadKind kind);

}  // namespace csm::compare
