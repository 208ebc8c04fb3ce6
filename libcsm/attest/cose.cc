#include "cose.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace csm::cca {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

constexpr size_t kP384Coord = 48;

bool IsP384(EVP_PKEY* key) {
  char group[64] = {};
  size_t len = 0;
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
         EVP_PKEY_get_group_name(key, group, sizeof(group), &len) == 1 &&
         absl::string_view(group, len) == "secp384r1";
}

}  // namespace

absl::StatusOr<Pkey> LoadP384PublicKeyPem(const std::string& path) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return absl::NotFoundError(absl::StrCat("trust key ", path, ": cannot open"));
  Pkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return absl::InvalidArgumentError(
        absl::StrCat("trust key ", path, ": not a PEM public key (BEGIN PUBLIC KEY)"));
  }
  if (!IsP384(key.get())) {
    return absl::InvalidArgumentError(
        absl::StrCat("trust key ", path, ": not an EC P-384 key (CCA platform tokens are ES384)"));
  }
  return key;
}

absl::StatusOr<Pkey> P384PublicKeyFromPoint(std::span<const uint8_t> point) {
  if (point.size() != 1 + 2 * kP384Coord || point[0] != 0x04) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RAK public key: expected an uncompressed P-384 point (97 bytes, 0x04...), got ",
        point.size(), " bytes"));
  }
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  char group[] = "secp384r1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                        const_cast<uint8_t*>(point.data()), point.size()),
      OSSL_PARAM_construct_end()};
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1 || !raw) {
    return absl::InvalidArgumentError("RAK public key: not a point on P-384");
  }
  return Pkey(raw);
}

absl::StatusOr<Pkey> P384PublicKeyFromCoseKey(const cbor_item_t* key) {
  absl::StatusOr<const cbor_item_t*> kty = CborMapGet(key, 1, "RAK COSE_Key");
  if (!kty.ok()) return kty.status();
  absl::StatusOr<const cbor_item_t*> crv = CborMapGet(key, -1, "RAK COSE_Key");
  if (!crv.ok()) return crv.status();
  absl::StatusOr<const cbor_item_t*> x = CborMapGet(key, -2, "RAK COSE_Key");
  if (!x.ok()) return x.status();
  absl::StatusOr<const cbor_item_t*> y = CborMapGet(key, -3, "RAK COSE_Key");
  if (!y.ok()) return y.status();
  std::optional<int64_t> kv = CborInt(*kty), cv = CborInt(*crv);
  std::optional<std::span<const uint8_t>> xb = CborBytes(*x), yb = CborBytes(*y);
  if (!kv || *kv != 2 || !cv || *cv != 2 || !xb || !yb || xb->size() != kP384Coord ||
      yb->size() != kP384Coord) {
    return absl::InvalidArgumentError("RAK COSE_Key: expected EC2 on P-384 with 48-byte x and y");
  }
  std::vector<uint8_t> point{0x04};
  point.insert(point.end(), xb->begin(), xb->end());
  point.insert(point.end(), yb->begin(), yb->end());
  return P384PublicKeyFromPoint(point);
}

absl::StatusOr<Sign1> ParseSign1(std::span<const uint8_t> data, absl::string_view what) {
  Sign1 s;
  // Tag 18 is one byte, 0xd2. libcbor 0.8 (Debian 12) refuses the one-byte
  // tags 6..20 as "unassigned", so that byte is taken here and libcbor
  // decodes the array after it; the two-byte form d8 12 goes through libcbor.
  if (!data.empty() && data[0] == 0xd2) {
    absl::StatusOr<CborPtr> inner = LoadCbor(data.subspan(1), what);
    if (!inner.ok()) return inner.status();
    s.inner = std::move(*inner);
  } else {
    absl::StatusOr<CborPtr> root = LoadCbor(data, what);
    if (!root.ok()) return root.status();
    s.root = std::move(*root);
    if (!cbor_isa_tag(s.root.get()) || cbor_tag_value(s.root.get()) != kCoseSign1Tag) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": not a COSE_Sign1 (CBOR tag 18)"));
    }
    s.inner.reset(cbor_tag_item(s.root.get()));
  }
  const cbor_item_t* a = s.inner.get();
  if (!a || !cbor_isa_array(a) || !cbor_array_is_definite(a) || cbor_array_size(a) != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": COSE_Sign1 must be [protected, unprotected, payload, signature]"));
  }
  cbor_item_t** items = cbor_array_handle(a);
  auto prot = CborBytes(items[0]);
  auto payload = CborBytes(items[2]);
  auto sig = CborBytes(items[3]);
  if (!prot || !payload || !sig || !cbor_isa_map(items[1])) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": COSE_Sign1 fields have the wrong CBOR types"));
  }
  s.protected_header = *prot;
  s.payload = *payload;
  s.signature = *sig;
  absl::StatusOr<CborPtr> hdr = LoadCbor(s.protected_header, absl::StrCat(what, " protected header"));
  if (!hdr.ok()) return hdr.status();
  absl::StatusOr<const cbor_item_t*> alg = CborMapGet(hdr->get(), 1, what);
  if (!alg.ok()) return alg.status();
  std::optional<int64_t> alg_v = CborInt(*alg);
  if (!alg_v || *alg_v != kCoseAlgEs384) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": protected header does not say ES384 (alg -35)"));
  }
  return s;
}

absl::StatusOr<std::vector<uint8_t>> Sign1ToBeSigned(std::span<const uint8_t> protected_header,
                                                     std::span<const uint8_t> payload) {
  CborPtr arr(cbor_new_definite_array(4));
  if (!arr ||
      !cbor_array_push(arr.get(), cbor_move(cbor_build_string("Signature1"))) ||
      !cbor_array_push(arr.get(), cbor_move(cbor_build_bytestring(protected_header.data(),
                                                                  protected_header.size()))) ||
      !cbor_array_push(arr.get(), cbor_move(cbor_build_bytestring(nullptr, 0))) ||
      !cbor_array_push(arr.get(), cbor_move(cbor_build_bytestring(payload.data(), payload.size())))) {
    return absl::ResourceExhaustedError("COSE Sig_structure: out of memory");
  }
  return CborSerialize(arr.get());
}

absl::Status VerifySign1(const Sign1& s, EVP_PKEY* key, absl::string_view what) {
  if (s.signature.size() != 2 * kP384Coord) {
    return absl::UnauthenticatedError(absl::StrCat(
        what, ": ES384 signature must be 96 bytes (r || s), got ", s.signature.size()));
  }
  absl::StatusOr<std::vector<uint8_t>> tbs = Sign1ToBeSigned(s.protected_header, s.payload);
  if (!tbs.ok()) return tbs.status();
  std::unique_ptr<ECDSA_SIG, SigFree> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(s.signature.data(), kP384Coord, nullptr);
  BIGNUM* sv = BN_bin2bn(s.signature.data() + kP384Coord, kP384Coord, nullptr);
  if (!sig || !r || !sv || ECDSA_SIG_set0(sig.get(), r, sv) != 1) {
    BN_free(r);
    BN_free(sv);
    return absl::ResourceExhaustedError("ECDSA signature: out of memory");
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return absl::ResourceExhaustedError("ECDSA signature: encoding failed");
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  int ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key) == 1 &&
           EVP_DigestVerify(ctx.get(), der, der_len, tbs->data(), tbs->size()) == 1;
  OPENSSL_free(der);
  if (!ok) return absl::UnauthenticatedError(absl::StrCat(what, ": ES384 signature does not verify"));
  return absl::OkStatus();
}

}  // namespace csm::cca
