// Builds CCA attestation token collections for the verifier's tests, with
// libcbor and OpenSSL and nothing from libcsm: an independent encoder, so
// the tests catch a verifier that only agrees with itself. Every field can
// be bent to build the tampered tokens the verifier must refuse.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace csm::test {

using Bytes = std::vector<uint8_t>;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey NewP384Key();
Bytes RawPoint(EVP_PKEY* key);                          // 0x04 || X || Y
void WritePublicPem(EVP_PKEY* key, const std::string& path);
Bytes Sha512(const Bytes& data);

// COSE_Sign1 over `payload`: tag, alg and signature may be bent.
struct Sign1Options {
  uint64_t tag = 18;
  int64_t alg = -35;
  bool flip_signature = false;
};
Bytes CoseSign1(const Bytes& payload, EVP_PKEY* key, const Sign1Options& o = {});

struct TokenSpec {
  EVP_PKEY* platform_key = nullptr;  // signs the platform token
  EVP_PKEY* rak = nullptr;           // its point goes in 44237
  EVP_PKEY* realm_signer = nullptr;  // signs the realm token (default: rak)
  Bytes challenge = Bytes(64, 0xAB);
  uint64_t realm_tag = 7;
  bool with_realm_tag = true;
  std::string implementation_id = "csm-test-monitor";
  std::optional<uint16_t> lifecycle = 0x3000;  // claim 2395; 0x3000-0x30ff: secured
  Bytes platform_challenge;          // default: SHA-512(RakClaim)
  bool rak_as_cose_key = false;
  uint64_t collection_tag = 399;
  Sign1Options platform_sign1;
  Sign1Options realm_sign1;
};
Bytes RakClaim(const TokenSpec& s);  // claim 44237 as encoded
Bytes RealmClaims(const TokenSpec& s);
Bytes PlatformClaims(const TokenSpec& s);
Bytes BuildToken(const TokenSpec& s);

}  // namespace csm::test
