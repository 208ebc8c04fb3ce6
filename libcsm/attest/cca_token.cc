// The CCA attestation token collection (Arm CCA, RMM 1.0):
//   399([ {44234: bstr platform COSE_Sign1, 44241: bstr realm COSE_Sign1} ])
// parsed with libcbor, signatures checked with OpenSSL. Every claim is
// type- and size-checked before use; anything else is an error, never a
// crash (the token comes from another machine).
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "cbor_util.h"
#include "cose.h"
#include "csm/attestation_cca.h"

namespace csm {
namespace {

using cca::CborBytes;
using cca::CborMapGet;
using cca::CborPtr;
using cca::CborText;
using cca::CborUint;
using cca::Pkey;

constexpr uint64_t kCollectionTag = 399;
constexpr int64_t kPlatformTokenKey = 44234;
constexpr int64_t kRealmTokenKey = 44241;
constexpr char kTestImplementationId[] = "csm-test-monitor";

absl::StatusOr<Pkey> TrustKey(const CcaTrust& trust) {
  std::string path = trust.platform_key_file;
  if (path.empty()) {
    const char* env = std::getenv(kCcaTrustKeyEnv);
    if (env) path = env;
  }
  if (path.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "CCA token: no trust anchor: name the platform's public key (CcaTrust) or set ",
        kCcaTrustKeyEnv, "=<PEM file>"));
  }
  return cca::LoadP384PublicKeyPem(path);
}

bool HashSize(size_t n) { return n == 32 || n == 48 || n == 64; }

// A byte-string claim; `sizes_ok` says which lengths are allowed.
absl::Status Bytes(const cbor_item_t* map, int64_t key, absl::string_view what, bool required,
                   bool (*sizes_ok)(size_t), std::vector<uint8_t>* out) {
  absl::StatusOr<const cbor_item_t*> v = CborMapGet(map, key, what);
  if (!v.ok()) return v.status();
  if (!*v) {
    return required ? absl::InvalidArgumentError(absl::StrCat(what, ": claim ", key, " missing"))
                    : absl::OkStatus();
  }
  std::optional<std::span<const uint8_t>> b = CborBytes(*v);
  if (!b) return absl::InvalidArgumentError(absl::StrCat(what, ": claim ", key, " is not a bstr"));
  if (sizes_ok && !sizes_ok(b->size())) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": claim ", key, " has a bad length (", b->size(), " bytes)"));
  }
  out->assign(b->begin(), b->end());
  return absl::OkStatus();
}

absl::Status Text(const cbor_item_t* map, int64_t key, absl::string_view what, std::string* out) {
  absl::StatusOr<const cbor_item_t*> v = CborMapGet(map, key, what);
  if (!v.ok()) return v.status();
  std::optional<absl::string_view> t = CborText(*v);
  if (!t) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": claim ", key, " missing or not text"));
  }
  out->assign(t->data(), t->size());
  return absl::OkStatus();
}

absl::Status Uint(const cbor_item_t* map, int64_t key, absl::string_view what,
                  std::optional<uint64_t>* out) {
  absl::StatusOr<const cbor_item_t*> v = CborMapGet(map, key, what);
  if (!v.ok()) return v.status();
  if (!*v) return absl::OkStatus();
  std::optional<uint64_t> u = CborUint(*v);
  if (!u) return absl::InvalidArgumentError(absl::StrCat(what, ": claim ", key, " is not a uint"));
  *out = *u;
  return absl::OkStatus();
}

const EVP_MD* HashByName(absl::string_view name) {
  if (name == "sha-256") return EVP_sha256();
  if (name == "sha-384") return EVP_sha384();
  if (name == "sha-512") return EVP_sha512();
  return nullptr;
}

#define CSM_RETURN_IF_ERROR(expr)        \
  do {                                   \
    if (absl::Status _s = (expr); !_s.ok()) return _s; \
  } while (0)

absl::Status ParsePlatform(std::span<const uint8_t> payload, CcaTokenClaims* c) {
  constexpr absl::string_view what = "CCA platform token";
  absl::StatusOr<CborPtr> m = cca::LoadCbor(payload, what);
  if (!m.ok()) return m.status();
  CSM_RETURN_IF_ERROR(Text(m->get(), 265, what, &c->platform_profile));
  CSM_RETURN_IF_ERROR(Bytes(m->get(), 10, what, true, HashSize, &c->platform_challenge));
  CSM_RETURN_IF_ERROR(Bytes(m->get(), 2396, what, true,
                            [](size_t n) { return n >= 16 && n <= 64; }, &c->implementation_id));
  CSM_RETURN_IF_ERROR(Bytes(m->get(), 2394, what, true,
                            [](size_t n) { return n == 33; }, &c->instance_id));
  if (c->instance_id[0] != 0x01) {
    return absl::InvalidArgumentError("CCA platform token: instance ID must start with 0x01");
  }
  CSM_RETURN_IF_ERROR(Uint(m->get(), 2395, what, &c->lifecycle));
  const size_t n = sizeof(kTestImplementationId) - 1;
  c->test_platform = memcmp(c->implementation_id.data(), kTestImplementationId, n) == 0;
  for (size_t i = n; i < c->implementation_id.size(); ++i) {
    c->test_platform = c->test_platform && c->implementation_id[i] == 0;
  }
  return absl::OkStatus();
}

absl::Status ParseRealm(std::span<const uint8_t> payload, CcaTokenClaims* c) {
  constexpr absl::string_view what = "CCA realm token";
  absl::StatusOr<CborPtr> m = cca::LoadCbor(payload, what);
  if (!m.ok()) return m.status();
  const cbor_item_t* map = m->get();
  CSM_RETURN_IF_ERROR(Bytes(map, 10, what, true, [](size_t n) { return n == 64; }, &c->challenge));
  CSM_RETURN_IF_ERROR(Bytes(map, 44235, what, true, [](size_t n) { return n == 64; },
                            &c->personalization));
  CSM_RETURN_IF_ERROR(Text(map, 44236, what, &c->measurement_hash_algo));
  CSM_RETURN_IF_ERROR(Bytes(map, 44237, what, true, [](size_t n) { return n > 0 && n <= 1024; },
                            &c->rak_public_key));
  CSM_RETURN_IF_ERROR(Bytes(map, 44238, what, true, HashSize, &c->initial_measurement));
  CSM_RETURN_IF_ERROR(Text(map, 44240, what, &c->rak_hash_algo));
  CSM_RETURN_IF_ERROR(Uint(map, 65001, what, &c->realm_tag));
  absl::StatusOr<const cbor_item_t*> rems = CborMapGet(map, 44239, what);
  if (!rems.ok()) return rems.status();
  if (!*rems || !cbor_isa_array(*rems) || !cbor_array_is_definite(*rems) ||
      cbor_array_size(*rems) != 4) {
    return absl::InvalidArgumentError("CCA realm token: claim 44239 must be an array of 4 REMs");
  }
  cbor_item_t** items = cbor_array_handle(*rems);
  for (size_t i = 0; i < 4; ++i) {
    std::optional<std::span<const uint8_t>> b = CborBytes(items[i]);
    if (!b || !HashSize(b->size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("CCA realm token: REM ", i, " is not a 32/48/64-byte bstr"));
    }
    c->extensible_measurements.emplace_back(b->begin(), b->end());
  }
  return absl::OkStatus();
}

absl::StatusOr<Pkey> RakKey(std::span<const uint8_t> encoded) {
  if (encoded.size() == 97 && encoded[0] == 0x04) return cca::P384PublicKeyFromPoint(encoded);
  absl::StatusOr<CborPtr> key = cca::LoadCbor(encoded, "RAK COSE_Key");
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        "CCA realm token: claim 44237 is neither a raw P-384 point nor a COSE_Key");
  }
  return cca::P384PublicKeyFromCoseKey(key->get());
}

}  // namespace

absl::StatusOr<CcaTokenClaims> VerifyCcaToken(std::span<const uint8_t> token,
                                              std::span<const uint8_t> expected_challenge,
                                              const CcaTrust& trust) {
  absl::StatusOr<CborPtr> root = cca::LoadCbor(token, "CCA token collection");
  if (!root.ok()) return root.status();
  if (!cbor_isa_tag(root->get()) || cbor_tag_value(root->get()) != kCollectionTag) {
    return absl::InvalidArgumentError("CCA token collection: not CBOR tag 399");
  }
  CborPtr map(cbor_tag_item(root->get()));
  absl::StatusOr<const cbor_item_t*> ptok = CborMapGet(map.get(), kPlatformTokenKey,
                                                       "CCA token collection");
  if (!ptok.ok()) return ptok.status();
  absl::StatusOr<const cbor_item_t*> rtok = CborMapGet(map.get(), kRealmTokenKey,
                                                       "CCA token collection");
  if (!rtok.ok()) return rtok.status();
  std::optional<std::span<const uint8_t>> pbytes = CborBytes(*ptok), rbytes = CborBytes(*rtok);
  if (!pbytes || !rbytes) {
    return absl::InvalidArgumentError(
        "CCA token collection: needs bstr platform (44234) and realm (44241) tokens");
  }
  absl::StatusOr<cca::Sign1> platform = cca::ParseSign1(*pbytes, "CCA platform token");
  if (!platform.ok()) return platform.status();
  absl::StatusOr<cca::Sign1> realm = cca::ParseSign1(*rbytes, "CCA realm token");
  if (!realm.ok()) return realm.status();

  absl::StatusOr<Pkey> anchor = TrustKey(trust);
  if (!anchor.ok()) return anchor.status();
  CSM_RETURN_IF_ERROR(cca::VerifySign1(*platform, anchor->get(),
                                       "CCA platform token (with the trusted platform key)"));
  CcaTokenClaims c;
  CSM_RETURN_IF_ERROR(ParsePlatform(platform->payload, &c));
  CSM_RETURN_IF_ERROR(ParseRealm(realm->payload, &c));

  const EVP_MD* md = HashByName(c.rak_hash_algo);
  if (!md) {
    return absl::InvalidArgumentError(
        absl::StrCat("CCA realm token: unsupported RAK hash algorithm '", c.rak_hash_algo, "'"));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_Digest(c.rak_public_key.data(), c.rak_public_key.size(), digest, &digest_len, md,
                 nullptr) != 1) {
    return absl::InternalError("hashing the RAK failed");
  }
  if (digest_len != c.platform_challenge.size() ||
      CRYPTO_memcmp(digest, c.platform_challenge.data(), digest_len) != 0) {
    return absl::UnauthenticatedError(
        "CCA token: the platform token does not vouch for this realm's RAK "
        "(platform challenge != hash of the RAK public key)");
  }
  absl::StatusOr<Pkey> rak = RakKey(c.rak_public_key);
  if (!rak.ok()) return rak.status();
  CSM_RETURN_IF_ERROR(cca::VerifySign1(*realm, rak->get(), "CCA realm token (with its RAK)"));
  if (!expected_challenge.empty() &&
      (expected_challenge.size() != c.challenge.size() ||
       CRYPTO_memcmp(expected_challenge.data(), c.challenge.data(), c.challenge.size()) != 0)) {
    return absl::UnauthenticatedError(
        "CCA realm token: the challenge is not the expected one (stale or for another request)");
  }
  return c;
}

}  // namespace csm
