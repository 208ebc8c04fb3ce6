#include "csm/attestation.h"
#include "sim_paths.h"
#include "sim_token.h"

namespace csm {

absl::StatusOr<AttestationClaims> VerifySimToken(std::span<const uint8_t> token,
                                                 const std::string& sim_dir) {
  absl::StatusOr<sim::SimPaths> paths = sim::SimPaths::Resolve(sim_dir);
  if (!paths.ok()) return paths.status();
  return sim::VerifySimTokenWithKey(token, paths->KeyFile());
}

}  // namespace csm
