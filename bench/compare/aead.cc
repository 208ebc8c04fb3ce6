#include "aead.h"

#include <openssl/err.h>

#include <climits>
#include <cstring>

#include "absl/strings/str_format.h"

namespace csm::compare {
namespace {

using Iv = std::array<uint8_t, 12>;

Iv MakeIv(uint32_t direction, uint64_t seq) {
  Iv iv;
  std::memcpy(iv.data(), &direction, 4);
  std::memcpy(iv.data() + 4, &seq, 8);
  return iv;
}

absl::Status SslError(std::string_view what) {
  const unsigned long e = ERR_get_error();
  char buf[256] = "no detail";
  if (e != 0) ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return absl::InternalError(absl::StrFormat("OpenSSL %s failed: %s", what, buf));
}

absl::StatusOr<CipherCtx> NewContext(AeadKind kind, const AeadKey& key, bool encrypt) {
  const EVP_CIPHER* cipher = CipherFor(kind);
  if (cipher == nullptr) return SslError(absl::StrFormat("fetching %s", AeadName(kind)));
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return SslError("EVP_CIPHER_CTX_new");
  // The key schedule is computed here, once; per message only the IV is set.
  if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), nullptr, encrypt ? 1 : 0) != 1) {
    return SslError("setting the key");
  }
  return ctx;
}

}  // namespace

std::string_view AeadName(AeadKind kind) {
  return kind == AeadKind::kAes256Gcm ? "aes-256-gcm" : "chacha20-poly1305";
}

const EVP_CIPHER* CipherFor(AeadKind kind) {
  static EVP_CIPHER* aes = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  static EVP_CIPHER* chacha = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  return kind == AeadKind::kAes256Gcm ? aes : chacha;
}

absl::StatusOr<Sealer> Sealer::Create(AeadKind kind, const AeadKey& key, uint32_t direction) {
  absl::StatusOr<CipherCtx> ctx = NewContext(kind, key, true);
  if (!ctx.ok()) return ctx.status();
  return Sealer(std::move(*ctx), direction);
}

absl::Status Sealer::Seal(uint32_t type, std::span<const std::byte> plain,
                          std::span<std::byte> out) {
  if (out.size() < SealedBytes(plain.size()) || plain.size() > INT_MAX) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "no room to seal %d bytes into %d", plain.size(), out.size()));
  }
  const SealedHeader header{seq_, static_cast<uint32_t>(plain.size()), type};
  const Iv iv = MakeIv(direction_, seq_);
  EVP_CIPHER_CTX* c = ctx_.get();
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  int n = 0;
  if (EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, iv.data()) != 1 ||
      EVP_EncryptUpdate(c, nullptr, &n, reinterpret_cast<const unsigned char*>(&header),
                        sizeof(header)) != 1 ||
      EVP_EncryptUpdate(c, dst + kSealedHeaderBytes, &n,
                        reinterpret_cast<const unsigned char*>(plain.data()),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(c, dst + kSealedHeaderBytes + n, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, kTagBytes,
                          dst + kSealedHeaderBytes + plain.size()) != 1) {
    return SslError("sealing");
  }
  std::memcpy(dst, &header, sizeof(header));
  ++seq_;
  return absl::OkStatus();
}

absl::StatusOr<Opener> Opener::Create(AeadKind kind, const AeadKey& key, uint32_t direction) {
  absl::StatusOr<CipherCtx> ctx = NewContext(kind, key, false);
  if (!ctx.ok()) return ctx.status();
  return Opener(std::move(*ctx), direction);
}

absl::StatusOr<Opened> Opener::Open(std::span<const std::byte> sealed, std::span<std::byte> plain) {
  if (sealed.size() < SealedBytes(0)) {
    return Reject(absl::DataLossError(absl::StrFormat("sealed message of %d bytes is shorter than "
                                                      "header and tag", sealed.size())));
  }
  // The header is copied once; everything after uses the private copy.
  SealedHeader h;
  std::memcpy(&h, sealed.data(), sizeof(h));
  if (h.length != sealed.size() - SealedBytes(0)) {
    return Reject(absl::DataLossError(absl::StrFormat(
        "sealed header says %d bytes, the record holds %d", h.length, sealed.size() - SealedBytes(0))));
  }
  if (h.length > plain.size() || h.length > INT_MAX) {
    return Reject(absl::DataLossError(
        absl::StrFormat("sealed message of %d bytes exceeds the %d-byte buffer", h.length, plain.size())));
  }
  if (h.seq != seq_) {
    return Reject(absl::DataLossError(absl::StrFormat(
        "sealed message %d rejected: expected %d (%s)", h.seq, seq_,
        h.seq < seq_ ? "replayed" : "reordered or skipped")));
  }
  // The tag is copied out too: the host could change it between check and use.
  unsigned char tag[kTagBytes];
  std::memcpy(tag, sealed.data() + kSealedHeaderBytes + h.length, kTagBytes);
  const Iv iv = MakeIv(direction_, seq_);
  EVP_CIPHER_CTX* c = ctx_.get();
  auto* src = reinterpret_cast<const unsigned char*>(sealed.data());
  int n = 0;
  if (EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, iv.data()) != 1 ||
      EVP_DecryptUpdate(c, nullptr, &n, reinterpret_cast<const unsigned char*>(&h), sizeof(h)) != 1 ||
      EVP_DecryptUpdate(c, reinterpret_cast<unsigned char*>(plain.data()), &n,
                        src + kSealedHeaderBytes, static_cast<int>(h.length)) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, kTagBytes, tag) != 1) {
    return Reject(SslError("opening"));
  }
  if (EVP_DecryptFinal_ex(c, reinterpret_cast<unsigned char*>(plain.data()) + n, &n) != 1) {
    ERR_clear_error();
    return Reject(absl::DataLossError(
        absl::StrFormat("sealed message %d failed authentication (tampered header, data or tag)",
                        h.seq)));
  }
  ++seq_;
  return Opened{h.type, h.length};
}

}  // namespace csm::compare
