// CSM_TOKEN_CCA evidence (include/csm/uapi/attestation_cca.h): a fixed
// header, the region descriptor the kernel bound into the realm challenge,
// then the CCA token. Fields are read little-endian at their offsets, never
// by casting the caller's buffer.
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstddef>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "csm/attestation_cca.h"
#include "csm/uapi/attestation_cca.h"
#include "csm/uapi/csm.h"

namespace csm {
namespace {

static_assert(sizeof(csm_cca_evidence) == CSM_CCA_EVIDENCE_HDR_SIZE);
static_assert(sizeof(csm_cca_region_desc) == CSM_CCA_REGION_DESC_SIZE);

uint64_t Le(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

#define FIELD(base, type, member) \
  Le((base) + offsetof(type, member), sizeof(static_cast<type*>(nullptr)->member))

absl::Status Bad(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("CCA evidence: ", why));
}

}  // namespace

bool LooksLikeCcaEvidence(std::span<const uint8_t> evidence) {
  return evidence.size() >= 16 &&
         memcmp(evidence.data(), CSM_CCA_EVIDENCE_MAGIC, sizeof(CSM_CCA_EVIDENCE_MAGIC)) == 0;
}

absl::StatusOr<CcaEvidenceClaims> VerifyCcaEvidence(std::span<const uint8_t> evidence,
                                                    const CcaTrust& trust) {
  constexpr size_t kHdr = CSM_CCA_EVIDENCE_HDR_SIZE, kDesc = CSM_CCA_REGION_DESC_SIZE;
  if (evidence.size() < kHdr + kDesc) {
    return Bad(absl::StrCat(evidence.size(), " bytes, shorter than header and descriptor"));
  }
  if (!LooksLikeCcaEvidence(evidence)) return Bad("wrong magic");
  const uint8_t* h = evidence.data();
  const uint8_t* d = h + kHdr;
  if (memchr(h + sizeof(CSM_CCA_EVIDENCE_MAGIC), 0, 16 - sizeof(CSM_CCA_EVIDENCE_MAGIC)) !=
          h + sizeof(CSM_CCA_EVIDENCE_MAGIC) ||
      FIELD(h, csm_cca_evidence, version) != CSM_CCA_EVIDENCE_VERSION ||
      FIELD(h, csm_cca_evidence, header_size) != kHdr ||
      FIELD(h, csm_cca_evidence, desc_size) != kDesc) {
    return Bad("unknown version or layout");
  }
  const uint64_t token_len = FIELD(h, csm_cca_evidence, token_len);
  if (token_len != evidence.size() - kHdr - kDesc) {
    return Bad(absl::StrCat("token_len ", token_len, " does not match the ",
                            evidence.size() - kHdr - kDesc, " bytes present"));
  }
  const uint64_t chal_len = FIELD(h, csm_cca_evidence, challenge_len);
  const uint8_t* chal = h + offsetof(csm_cca_evidence, challenge);
  if (chal_len < CSM_CHALLENGE_MIN || chal_len > CSM_CHALLENGE_MAX) {
    return Bad(absl::StrCat("challenge length ", chal_len, " is not 32..64"));
  }
  for (size_t i = chal_len; i < CSM_CHALLENGE_MAX; ++i) {
    if (chal[i]) return Bad("bytes after the challenge are not zero");
  }
  if (FIELD(h, csm_cca_evidence, binding) != CSM_CCA_HASH_SHA512) {
    return Bad("unknown challenge binding (only SHA-512 of descriptor || challenge)");
  }
  if (FIELD(d, csm_cca_region_desc, version) != CSM_CCA_DESC_VERSION ||
      FIELD(d, csm_cca_region_desc, desc_size) != kDesc) {
    return Bad("unknown region descriptor version");
  }
  const uint64_t nr = FIELD(d, csm_cca_region_desc, nr_consumers);
  if (nr > CSM_CCA_MAX_CONSUMERS || nr > FIELD(d, csm_cca_region_desc, consumers_total)) {
    return Bad(absl::StrCat("descriptor lists ", nr, " consumers"));
  }

  unsigned char expect[64];
  unsigned int expect_len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, d, kDesc) == 1 && EVP_DigestUpdate(ctx, chal, chal_len) == 1 &&
            EVP_DigestFinal_ex(ctx, expect, &expect_len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return absl::InternalError("SHA-512 failed");

  absl::StatusOr<CcaTokenClaims> token =
      VerifyCcaToken(evidence.subspan(kHdr + kDesc), std::span(expect, expect_len), trust);
  if (!token.ok()) {
    return absl::Status(token.status().code(),
                        absl::StrCat("CCA evidence: ", token.status().message()));
  }
  const uint64_t caller = FIELD(d, csm_cca_region_desc, caller_realm_id);
  if (token->realm_tag && *token->realm_tag != caller) {
    return absl::UnauthenticatedError(absl::StrCat(
        "CCA evidence: the descriptor names realm ", caller, " but the token is realm ",
        *token->realm_tag, "'s"));
  }

  CcaEvidenceClaims out;
  AttestationClaims& c = out.claims;
  c.token_format = CSM_TOKEN_CCA;
  // PSA security lifecycle: only "secured" (0x3000-0x30ff) vouches for the
  // platform; debug, decommissioned or unstated states do not.
  const bool secured = token->lifecycle && (*token->lifecycle >> 8) == 0x30;
  c.issuer = token->test_platform
                 ? "Arm CCA token from the csm test monitor (NOT hardware-backed, NO "
                   "confidentiality: it only exercises the RSI driver)"
             : secured ? "Arm CCA realm token (platform key trusted by the caller)"
                       : "Arm CCA realm token from a platform not in the secured lifecycle "
                         "state (debug, decommissioned or unstated: NOT evidence)";
  c.from_simulator = false;
  c.hardware_rooted = !token->test_platform && secured;
  c.caller = RealmId(caller);
  c.region = RegionId(FIELD(d, csm_cca_region_desc, region_id));
  c.region_size = FIELD(d, csm_cca_region_desc, region_size);
  c.provider = RealmId(FIELD(d, csm_cca_region_desc, provider_realm_id));
  for (uint64_t i = 0; i < nr; ++i) {
    const uint8_t* e = d + offsetof(csm_cca_region_desc, consumers) + i * sizeof(csm_cca_consumer);
    c.consumers.push_back(ConsumerClaim{
        .realm = RealmId(FIELD(e, csm_cca_consumer, realm_id)),
        .share = ShareId(FIELD(e, csm_cca_consumer, share_id)),
        .perm = static_cast<uint32_t>(FIELD(e, csm_cca_consumer, perm)),
        .attached = FIELD(e, csm_cca_consumer, state) == CSM_SHARE_ATTACHED});
  }
  c.challenge.assign(chal, chal + chal_len);
  out.token = std::move(*token);
  return out;
}

}  // namespace csm
