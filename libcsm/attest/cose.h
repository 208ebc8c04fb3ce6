// COSE_Sign1 (RFC 9052) as CCA tokens use it: tag 18, ES384 (alg -35),
// signature r || s; and the P-384 public keys that check it.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "cbor_util.h"

namespace csm::cca {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

inline constexpr int64_t kCoseAlgEs384 = -35;
inline constexpr uint64_t kCoseSign1Tag = 18;

// A PEM public key file; must be EC P-384.
absl::StatusOr<Pkey> LoadP384PublicKeyPem(const std::string& path);
// An uncompressed P-384 point 0x04 || X || Y (97 bytes), checked on the curve.
absl::StatusOr<Pkey> P384PublicKeyFromPoint(std::span<const uint8_t> point);
// A COSE_Key map {1: 2 (EC2), -1: 2 (P-384), -2: X, -3: Y}.
absl::StatusOr<Pkey> P384PublicKeyFromCoseKey(const cbor_item_t* key);

// A parsed COSE_Sign1; the spans point into `items`.
struct Sign1 {
  CborPtr root;   // the tag (null when it was the one-byte form)
  CborPtr inner;  // the array it tags
  std::span<const uint8_t> protected_header;
  std::span<const uint8_t> payload;
  std::span<const uint8_t> signature;
};

// Parses a tagged COSE_Sign1 whose protected header says ES384.
absl::StatusOr<Sign1> ParseSign1(std::span<const uint8_t> data, absl::string_view what);
// The bytes a COSE_Sign1 signs: ["Signature1", protected, h'', payload].
absl::StatusOr<std::vector<uint8_t>> Sign1ToBeSigned(std::span<const uint8_t> protected_header,
                                                     std::span<const uint8_t> payload);
// Checks the ES384 signature with `key` (Unauthenticated when it fails).
absl::Status VerifySign1(const Sign1& s, EVP_PKEY* key, absl::string_view what);

}  // namespace csm::cca
