#include "cca_token_builder.h"

#include <cbor.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <stdexcept>

namespace csm::test {
namespace {

struct CborFree {
  void operator()(cbor_item_t* i) const { cbor_decref(&i); }
};
using Cbor = std::unique_ptr<cbor_item_t, CborFree>;

void Need(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(what);
}

Bytes Serialize(const cbor_item_t* item) {
  unsigned char* buf = nullptr;
  size_t cap = 0;
  size_t len = cbor_serialize_alloc(item, &buf, &cap);
  Need(len > 0, "cbor_serialize_alloc");
  Bytes out(buf, buf + len);
  free(buf);
  return out;
}

cbor_item_t* Bstr(const Bytes& b) { return cbor_build_bytestring(b.data(), b.size()); }
cbor_item_t* Int(int64_t v) {
  return v >= 0 ? cbor_build_uint64(static_cast<uint64_t>(v))
                : cbor_build_negint64(static_cast<uint64_t>(-1 - v));
}
void Put(cbor_item_t* map, int64_t key, cbor_item_t* value) {
  Need(cbor_map_add(map, cbor_pair{.key = cbor_move(Int(key)), .value = cbor_move(value)}),
       "cbor_map_add");
}

Bytes Sign(const Bytes& tbs, EVP_PKEY* key) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  Need(EVP_DigestSignInit(ctx, nullptr, EVP_sha384(), nullptr, key) == 1 &&
           EVP_DigestSign(ctx, nullptr, &len, tbs.data(), tbs.size()) == 1,
       "sign");
  Bytes der(len);
  Need(EVP_DigestSign(ctx, der.data(), &len, tbs.data(), tbs.size()) == 1, "sign");
  EVP_MD_CTX_free(ctx);
  const unsigned char* p = der.data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
  Need(sig != nullptr, "d2i_ECDSA_SIG");
  Bytes rs(96);
  Need(BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs.data(), 48) == 48 &&
           BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs.data() + 48, 48) == 48,
       "r||s");
  ECDSA_SIG_free(sig);
  return rs;
}

}  // namespace

Pkey NewP384Key() {
  Pkey k(EVP_EC_gen("P-384"));
  Need(k != nullptr, "EVP_EC_gen");
  return k;
}

Bytes RawPoint(EVP_PKEY* key) {
  Bytes out(200);
  size_t len = 0;
  Need(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, out.data(), out.size(),
                                       &len) == 1,
       "public point");
  out.resize(len);
  return out;
}

void WritePublicPem(EVP_PKEY* key, const std::string& path) {
  FILE* f = fopen(path.c_str(), "w");
  Need(f && PEM_write_PUBKEY(f, key) == 1, "PEM_write_PUBKEY");
  fclose(f);
}

Bytes Sha512(const Bytes& data) {
  Bytes out(64);
  unsigned int len = 0;
  Need(EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha512(), nullptr) == 1,
       "sha512");
  return out;
}

Bytes CoseSign1(const Bytes& payload, EVP_PKEY* key, const Sign1Options& o) {
  Cbor hdr(cbor_new_definite_map(1));
  Put(hdr.get(), 1, Int(o.alg));
  Bytes prot = Serialize(hdr.get());
  Cbor tbs(cbor_new_definite_array(4));
  Need(cbor_array_push(tbs.get(), cbor_move(cbor_build_string("Signature1"))) &&
           cbor_array_push(tbs.get(), cbor_move(Bstr(prot))) &&
           cbor_array_push(tbs.get(), cbor_move(Bstr({}))) &&
           cbor_array_push(tbs.get(), cbor_move(Bstr(payload))),
       "Sig_structure");
  Bytes sig = Sign(Serialize(tbs.get()), key);
  if (o.flip_signature) sig[10] ^= 0x01;
  Cbor arr(cbor_new_definite_array(4));
  Need(cbor_array_push(arr.get(), cbor_move(Bstr(prot))) &&
           cbor_array_push(arr.get(), cbor_move(cbor_new_definite_map(0))) &&
           cbor_array_push(arr.get(), cbor_move(Bstr(payload))) &&
           cbor_array_push(arr.get(), cbor_move(Bstr(sig))),
       "COSE_Sign1");
  Cbor tag(cbor_new_tag(o.tag));
  cbor_tag_set_item(tag.get(), arr.get());
  return Serialize(tag.get());
}

Bytes RakClaim(const TokenSpec& s) {
  Bytes rak = RawPoint(s.rak);
  if (!s.rak_as_cose_key) return rak;
  Cbor k(cbor_new_definite_map(4));
  Put(k.get(), 1, Int(2));
  Put(k.get(), -1, Int(2));
  Put(k.get(), -2, Bstr(Bytes(rak.begin() + 1, rak.begin() + 49)));
  Put(k.get(), -3, Bstr(Bytes(rak.begin() + 49, rak.end())));
  return Serialize(k.get());
}

Bytes RealmClaims(const TokenSpec& s) {
  Bytes rak_enc = RakClaim(s);
  Bytes rpv(64, 0);
  memcpy(rpv.data(), "csm-test-monitor", 16);
  Cbor m(cbor_new_definite_map(9));
  Put(m.get(), 10, Bstr(s.challenge));
  Put(m.get(), 44235, Bstr(rpv));
  Put(m.get(), 44236, cbor_build_string("sha-512"));
  Put(m.get(), 44237, Bstr(rak_enc));
  Put(m.get(), 44238, Bstr(Bytes(64, 0x11)));
  Cbor rems(cbor_new_definite_array(4));
  for (int i = 0; i < 4; ++i) {
    Need(cbor_array_push(rems.get(), cbor_move(Bstr(Bytes(64, static_cast<uint8_t>(i))))), "rem");
  }
  Put(m.get(), 44239, cbor_incref(rems.get()));
  Put(m.get(), 44240, cbor_build_string("sha-512"));
  if (s.with_realm_tag) Put(m.get(), 65001, cbor_build_uint64(s.realm_tag));
  return Serialize(m.get());
}

Bytes PlatformClaims(const TokenSpec& s) {
  Bytes impl(32, 0);
  memcpy(impl.data(), s.implementation_id.data(), std::min<size_t>(32, s.implementation_id.size()));
  Bytes inst(33, 0x22);
  inst[0] = 0x01;
  Bytes chal = s.platform_challenge.empty() ? Sha512(RakClaim(s)) : s.platform_challenge;
  Cbor m(cbor_new_definite_map(6));
  Put(m.get(), 265, cbor_build_string("tag:arm.com,2023:cca_platform#1.0.0"));
  Put(m.get(), 10, Bstr(chal));
  Put(m.get(), 2396, Bstr(impl));
  Put(m.get(), 2394, Bstr(inst));
  if (s.lifecycle) Put(m.get(), 2395, cbor_build_uint16(*s.lifecycle));
  Put(m.get(), 2402, cbor_build_string("sha-256"));
  return Serialize(m.get());
}

Bytes BuildToken(const TokenSpec& s) {
  Bytes platform = CoseSign1(PlatformClaims(s), s.platform_key, s.platform_sign1);
  Bytes realm = CoseSign1(RealmClaims(s), s.realm_signer ? s.realm_signer : s.rak, s.realm_sign1);
  Cbor m(cbor_new_definite_map(2));
  Put(m.get(), 44234, Bstr(platform));
  Put(m.get(), 44241, Bstr(realm));
  Cbor tag(cbor_new_tag(s.collection_tag));
  cbor_tag_set_item(tag.get(), m.get());
  return Serialize(tag.get());
}

}  // namespace csm::test
