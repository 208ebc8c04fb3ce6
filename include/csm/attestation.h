// Attestation of a region: who asks (realm), what region (id, size,
// provider, every consumer with its permission) and the verifier's
// challenge, vouched for by the backend. Simulator tokens are signed by a
// per-host simulator key and are no evidence of confidentiality; emulated-RMM
// tokens are not signed at all.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "csm/ids.h"

namespace csm {

struct ConsumerClaim {
  RealmId realm;
  ShareId share;
  uint32_t perm = 0;      // CSM_PERM_RO or CSM_PERM_RW
  bool attached = false;
};

struct AttestationClaims {
  uint32_t token_format = 0;  // enum csm_token_format
  std::string issuer;         // e.g. "csm simulator (NOT hardware-backed, NO confidentiality)"
  bool from_simulator = false;
  bool hardware_rooted = false;  // false for sim and emulated-RMM tokens: no hardware root
  RealmId caller;
  RegionId region;
  uint64_t region_size = 0;
  RealmId provider;
  std::vector<ConsumerClaim> consumers;
  std::vector<uint8_t> challenge;
};

// Verifies a simulator token with the host key kept in `sim_dir` (the key
// is created there on first use).
absl::StatusOr<AttestationClaims> VerifySimToken(std::span<const uint8_t> token,
                                                 const std::string& sim_dir);

// Parses an emulated-RMM token (CSM_TOKEN_EMULATED, struct csm_emu_token).
// It is UNSIGNED: this checks its form and returns its claims (issuer says
// so, hardware_rooted is false); it cannot tell a forged token from a real one.
absl::StatusOr<AttestationClaims> VerifyEmulatedToken(std::span<const uint8_t> token);

}  // namespace csm
