// Verifying Arm CCA attestation: the token collection an RMM returns (CBOR
// tag 399: a platform token and a realm token, each COSE_Sign1 signed
// ES384), and the evidence the RSI backend's CSM_IOC_ATTEST returns around
// it (include/csm/uapi/attestation_cca.h). Csm::Device::Verify() uses
// these for CSM_TOKEN_CCA tokens with the trust anchor from the environment.
//
// Trust: a token is accepted only against a platform public key the caller
// names (CcaTrust::platform_key_file, else $CSM_CCA_TRUST_KEY, a PEM file).
// Tokens from csm's test monitor (platform implementation ID
// "csm-test-monitor") verify like real ones but say so: they are NOT
// hardware-backed and give NO confidentiality.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "csm/attestation.h"

namespace csm {

inline constexpr char kCcaTrustKeyEnv[] = "CSM_CCA_TRUST_KEY";

struct CcaTrust {
  // PEM file with the platform attestation public key (EC P-384). Empty:
  // the file named by $CSM_CCA_TRUST_KEY.
  std::string platform_key_file;
};

// Claims of a verified CCA token collection.
struct CcaTokenClaims {
  // Platform token.
  std::string platform_profile;              // 265
  std::vector<uint8_t> platform_challenge;   // 10: hash of the RAK
  std::vector<uint8_t> implementation_id;    // 2396
  std::vector<uint8_t> instance_id;          // 2394
  std::optional<uint64_t> lifecycle;         // 2395
  // Realm token.
  std::vector<uint8_t> challenge;            // 10 (64 bytes)
  std::vector<uint8_t> personalization;      // 44235 RPV
  std::string measurement_hash_algo;         // 44236
  std::vector<uint8_t> rak_public_key;       // 44237, as encoded
  std::vector<uint8_t> initial_measurement;  // 44238 RIM
  std::vector<std::vector<uint8_t>> extensible_measurements;  // 44239 REMs
  std::string rak_hash_algo;                 // 44240
  std::optional<uint64_t> realm_tag;         // 65001 (CAEC's realm ID claim)
  // The platform is csm's test monitor (implementation ID
  // "csm-test-monitor"): no hardware root, no confidentiality.
  bool test_platform = false;
};

// Verifies a CCA token collection: the platform token's signature with the
// trust anchor, that the platform challenge is the hash of the realm's RAK,
// the realm token's signature with that RAK, and that the realm challenge
// equals `expected_challenge` (skipped when it is empty). Errors:
// InvalidArgument (malformed), Unauthenticated (a signature, binding or
// challenge does not match), FailedPrecondition/NotFound (no usable trust
// anchor).
absl::StatusOr<CcaTokenClaims> VerifyCcaToken(std::span<const uint8_t> token,
                                              std::span<const uint8_t> expected_challenge,
                                              const CcaTrust& trust = {});

struct CcaEvidenceClaims {
  AttestationClaims claims;  // region, realms, consumers, caller's challenge
  CcaTokenClaims token;
};

// True when `evidence` starts with the CSM_TOKEN_CCA evidence magic.
bool LooksLikeCcaEvidence(std::span<const uint8_t> evidence);

// Verifies what CSM_IOC_ATTEST returned with CSM_TOKEN_CCA: the header, the
// region descriptor, the token (as VerifyCcaToken) with the realm challenge
// SHA-512(descriptor || caller's challenge), and that the descriptor's
// caller is the realm the token names (claim 65001, when present). The
// caller still compares claims.challenge with the nonce it sent.
absl::StatusOr<CcaEvidenceClaims> VerifyCcaEvidence(std::span<const uint8_t> evidence,
                                                    const CcaTrust& trust = {});

}  // namespace csm
