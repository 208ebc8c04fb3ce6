#include "sim_token.h"

#include <openssl/evp.h>
#include <string.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "csm/uapi/csm.h"
#include "sim_key.h"

namespace csm::sim {
namespace {

constexpr size_t kMagicLen = sizeof(kSimTokenMagic) - 1;
static_assert(kMagicLen == 16);

class Writer {
 public:
  void Bytes(const void* p, size_t n) {
    auto* b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  void U8(uint8_t v) { out_.push_back(v); }
  void U16(uint16_t v) { Le(v, 2); }
  void U32(uint32_t v) { Le(v, 4); }
  void U64(uint64_t v) { Le(v, 8); }
  std::vector<uint8_t>& out() { return out_; }

 private:
  void Le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> out_;
};

// Bounds-checked little-endian reader: any read past the end fails the
// whole parse (ok() turns false) instead of touching memory.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  bool ok() const { return ok_; }
  size_t pos() const { return pos_; }
  bool at_end() const { return pos_ == in_.size(); }
  std::span<const uint8_t> Bytes(size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    auto s = in_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  uint64_t Le(int n) {
    auto b = Bytes(n);
    uint64_t v = 0;
    for (size_t i = 0; i < b.size(); ++i) v |= static_cast<uint64_t>(b[i]) << (8 * i);
    return v;
  }
  uint8_t U8() { return static_cast<uint8_t>(Le(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Le(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Le(4)); }
  uint64_t U64() { return Le(8); }

 private:
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

}  // namespace

bool LooksLikeSimToken(std::span<const uint8_t> token) {
  return token.size() >= kMagicLen && memcmp(token.data(), kSimTokenMagic, kMagicLen) == 0;
}

absl::StatusOr<std::vector<uint8_t>> SignSimToken(const AttestationClaims& c,
                                                  const std::string& key_file) {
  if (c.challenge.size() > CSM_CHALLENGE_MAX || c.consumers.size() > 0xffff) {
    return absl::InvalidArgumentError("claims too large for a simulator token");
  }
  Writer w;
  w.Bytes(kSimTokenMagic, kMagicLen);
  w.U16(sizeof(kSimIssuer) - 1);
  w.Bytes(kSimIssuer, sizeof(kSimIssuer) - 1);
  w.U64(c.caller.value());
  w.U64(c.region.value());
  w.U64(c.region_size);
  w.U64(c.provider.value());
  w.U8(static_cast<uint8_t>(c.challenge.size()));
  w.Bytes(c.challenge.data(), c.challenge.size());
  w.U16(static_cast<uint16_t>(c.consumers.size()));
  for (const ConsumerClaim& k : c.consumers) {
    w.U64(k.realm.value());
    w.U64(k.share.value());
    w.U32(k.perm);
    w.U8(k.attached ? 1 : 0);
  }

  absl::StatusOr<Pkey> key = LoadOrCreateSimKey(key_file);
  if (!key.ok()) return key.status();
  MdCtx ctx(EVP_MD_CTX_new());
  size_t sig_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key->get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len, w.out().data(), w.out().size()) != 1) {
    return absl::InternalError("signing the simulator token failed");
  }
  std::vector<uint8_t> sig(sig_len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &sig_len, w.out().data(), w.out().size()) != 1) {
    return absl::InternalError("signing the simulator token failed");
  }
  w.U16(static_cast<uint16_t>(sig_len));
  w.Bytes(sig.data(), sig_len);
  return std::move(w.out());
}

absl::StatusOr<AttestationClaims> VerifySimTokenWithKey(std::span<const uint8_t> token,
                                                        const std::string& key_file) {
  if (!LooksLikeSimToken(token)) {
    return absl::InvalidArgumentError("not a csm simulator token (bad magic)");
  }
  Reader r(token);
  AttestationClaims c;
  r.Bytes(kMagicLen);
  auto issuer = r.Bytes(r.U16());
  c.issuer.assign(issuer.begin(), issuer.end());
  c.caller = RealmId(r.U64());
  c.region = RegionId(r.U64());
  c.region_size = r.U64();
  c.provider = RealmId(r.U64());
  auto challenge = r.Bytes(r.U8());
  c.challenge.assign(challenge.begin(), challenge.end());
  uint16_t n = r.U16();
  for (uint16_t i = 0; i < n && r.ok(); ++i) {
    ConsumerClaim k;
    k.realm = RealmId(r.U64());
    k.share = ShareId(r.U64());
    k.perm = r.U32();
    k.attached = r.U8() != 0;
    c.consumers.push_back(k);
  }
  const size_t signed_len = r.pos();
  auto sig = r.Bytes(r.U16());
  if (!r.ok() || !r.at_end()) {
    return absl::InvalidArgumentError("malformed simulator token (truncated or trailing bytes)");
  }
  absl::StatusOr<Pkey> key = LoadOrCreateSimKey(key_file);
  if (!key.ok()) return key.status();
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key->get()) != 1 ||
      EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), token.data(), signed_len) != 1) {
    return absl::UnauthenticatedError(
        "simulator token signature does not verify with this host's simulator key "
        "(tampered, or signed on another host)");
  }
  if (c.issuer != kSimIssuer) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected token issuer '", c.issuer, "'"));
  }
  c.token_format = CSM_TOKEN_SIM;
  c.from_simulator = true;
  return c;
}

}  // namespace csm::sim
