// Parses a CSM_TOKEN_EMULATED token (struct csm_emu_token in the UAPI
// header). The emulated RMM has no key and no hardware root of trust, so
// "verifying" means checking that the record is well formed and returning
// what it claims, labelled as unsigned; it proves nothing to a remote party.
#include <endian.h>
#include <string.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "csm/attestation.h"
#include "csm/uapi/csm.h"

namespace csm {
namespace {

static_assert(sizeof(csm_emu_token) == 128);
static_assert(sizeof(csm_emu_token_consumer) == 16);
static_assert(sizeof(CSM_EMU_TOKEN_MAGIC) <= sizeof(csm_emu_token{}.magic));

// More consumers than any backend's share table holds is malformed.
constexpr uint32_t kMaxConsumers = 4096;

absl::Status Bad(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("emulated-RMM token: ", why));
}

}  // namespace

absl::StatusOr<AttestationClaims> VerifyEmulatedToken(std::span<const uint8_t> token) {
  csm_emu_token h;
  if (token.size() < sizeof(h)) {
    return Bad(absl::StrFormat("%d bytes, shorter than its %d-byte header", token.size(),
                               sizeof(h)));
  }
  memcpy(&h, token.data(), sizeof(h));  // one private copy; token may be unaligned
  char magic[sizeof(h.magic)] = {};
  memcpy(magic, CSM_EMU_TOKEN_MAGIC, sizeof(CSM_EMU_TOKEN_MAGIC));
  if (memcmp(h.magic, magic, sizeof(magic)) != 0) return Bad("wrong magic");
  if (le32toh(h.version) != CSM_EMU_TOKEN_VERSION) {
    return Bad(absl::StrFormat("version %d, this libcsm reads %d", le32toh(h.version),
                               CSM_EMU_TOKEN_VERSION));
  }
  const uint32_t n = le32toh(h.nr_consumers);
  if (n > kMaxConsumers ||
      token.size() != sizeof(h) + static_cast<size_t>(n) * sizeof(csm_emu_token_consumer)) {
    return Bad(absl::StrFormat("%d bytes do not hold a header and %d consumers", token.size(), n));
  }
  const uint32_t clen = le32toh(h.challenge_len);
  if (clen < CSM_CHALLENGE_MIN || clen > CSM_CHALLENGE_MAX) {
    return Bad(absl::StrFormat("challenge length %d out of range", clen));
  }
  if (h.__pad != 0 ||
      std::any_of(h.challenge + clen, h.challenge + CSM_CHALLENGE_MAX, [](uint8_t b) { return b; })) {
    return Bad("nonzero padding");
  }
  AttestationClaims c;
  c.token_format = CSM_TOKEN_EMULATED;
  c.issuer =
      "csm emulated RMM (UNSIGNED claims: NO hardware root of trust, NO confidentiality; "
      "proves nothing to a remote verifier)";
  c.from_simulator = false;
  c.hardware_rooted = false;
  c.caller = RealmId(le64toh(h.caller_realm_id));
  c.region = RegionId(le64toh(h.region_id));
  c.region_size = le64toh(h.size);
  c.provider = RealmId(le64toh(h.provider_realm_id));
  if (!c.caller.valid() || !c.region.valid() || !c.provider.valid()) return Bad("zero ID");
  if (c.region_size == 0 || c.region_size % CSM_GRANULE_SIZE != 0) {
    return Bad(absl::StrFormat("region size %d is not a nonzero multiple of %d", c.region_size,
                               CSM_GRANULE_SIZE));
  }
  c.challenge.assign(h.challenge, h.challenge + clen);
  for (uint32_t i = 0; i < n; ++i) {
    csm_emu_token_consumer e;
    memcpy(&e, token.data() + sizeof(h) + i * sizeof(e), sizeof(e));
    const uint32_t perm = le32toh(e.perm), state = le32toh(e.state);
    if (perm != CSM_PERM_RO && perm != CSM_PERM_RW) {
      return Bad(absl::StrFormat("consumer %d: permission %d", i, perm));
    }
    if (state != CSM_SHARE_GRANTED && state != CSM_SHARE_ATTACHED) {
      return Bad(absl::StrFormat("consumer %d: share state %d", i, state));
    }
    ConsumerClaim cc;
    cc.realm = RealmId(le64toh(e.realm_id));
    if (!cc.realm.valid()) return Bad(absl::StrFormat("consumer %d: zero realm ID", i));
    cc.perm = perm;  // the emulated token carries no share IDs: cc.share stays 0
    cc.attached = state == CSM_SHARE_ATTACHED;
    c.consumers.push_back(cc);
  }
  return c;
}

}  // namespace csm
