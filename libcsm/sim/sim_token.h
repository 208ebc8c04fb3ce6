// Simulator attestation tokens (CSM_TOKEN_SIM): the claims in a fixed
// little-endian layout, signed with the per-host simulator key (ECDSA P-384,
// SHA-384). Layout (docs/sim-backend.md):
//   magic "CSM-SIM-TOKEN-v1" | u16 issuer length, issuer text |
//   u64 caller realm, region, region size, provider realm |
//   u8 challenge length, challenge | u16 consumer count,
//   per consumer: u64 realm, u64 share, u32 perm, u8 attached |
//   u16 signature length, DER ECDSA signature over all bytes before it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "csm/attestation.h"

namespace csm::sim {

inline constexpr char kSimTokenMagic[] = "CSM-SIM-TOKEN-v1";  // 16 bytes + NUL
inline constexpr char kSimIssuer[] =
    "csm simulator: NOT hardware-backed, NO confidentiality";

absl::StatusOr<std::vector<uint8_t>> SignSimToken(const AttestationClaims& claims,
                                                  const std::string& key_file);
absl::StatusOr<AttestationClaims> VerifySimTokenWithKey(std::span<const uint8_t> token,
                                                        const std::string& key_file);
bool LooksLikeSimToken(std::span<const uint8_t> token);

}  // namespace csm::sim
