// CSM_IOC_ATTEST in the simulator: gather the claims under the table lock,
// sign outside it.
#include <errno.h>
#include <string.h>

#include <algorithm>

#include "sim_args.h"
#include "sim_backend.h"
#include "sim_token.h"

namespace csm::sim {

int SimBackend::DoAttest(csm_attest* a) {
  if (a->flags != 0 || !AllZero(a->reserved)) return -EINVAL;
  if (a->challenge_len < CSM_CHALLENGE_MIN || a->challenge_len > CSM_CHALLENGE_MAX) return -EINVAL;
  for (uint32_t i = a->challenge_len; i < CSM_CHALLENGE_MAX; ++i) {
    if (a->challenge[i] != 0) return -EINVAL;
  }
  if (a->token_len != 0 && a->token_ptr == 0) return -EFAULT;  // as the kernel, and LIST
  AttestationClaims claims;
  {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = Tx();
    if (!tx.ok()) return -EIO;
    SimTable& t = (*tx)->table();
    t.SweepDeadRealms();
    RegionSlot* r = t.FindRegion(a->region_id);
    if (r == nullptr) return -t.RegionEndedErrno(a->region_id);
    if (!IsParty(t, *r, realm_)) return -EACCES;
    claims.caller = RealmId(realm_);
    claims.region = RegionId(r->id);
    claims.region_size = r->size;
    claims.provider = RealmId(r->provider);
    for (uint32_t i = 0; i < kMaxShares; ++i) {
      const ShareSlot* s = t.share_at(i);
      if (s->state == kShareFree || s->region != r->id) continue;
      claims.consumers.push_back({RealmId(s->consumer), ShareId(s->id), s->perm,
                                  s->state == CSM_SHARE_ATTACHED});
    }
  }
  claims.challenge.assign(a->challenge, a->challenge + a->challenge_len);
  absl::StatusOr<std::vector<uint8_t>> token = SignSimToken(claims, paths_.KeyFile());
  if (!token.ok()) return -EIO;
  if (a->token_len < token->size()) {
    a->token_len = static_cast<uint32_t>(token->size());
    return -ENOSPC;
  }
  memcpy(reinterpret_cast<void*>(static_cast<uintptr_t>(a->token_ptr)), token->data(),
         token->size());
  a->token_len = static_cast<uint32_t>(token->size());
  a->token_format = CSM_TOKEN_SIM;
  return 0;
}

}  // namespace csm::sim
