#include "openssl_speed.h"

#include <openssl/evp.h>
#include <time.h>

#include <algorithm>
#include <array>

namespace csm::compare {
namespace {

double SecondsNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Runs `op` in batches for about `ms` and returns ticks per byte of the
// median batch: a busy machine's preemptions land in a few batches only.
template <typename Op>
double TicksPerByte(uint64_t size, int ms, Op op) {
  const uint64_t batch = std::max<uint64_t>(1, 65536 / size);
  std::vector<uint64_t> ticks;
  const double t0 = SecondsNow();
  do {
    const uint64_t c0 = ReadCounter();
    for (uint64_t i = 0; i < batch; ++i) op();
    ticks.push_back(ReadCounter() - c0);
  } while (SecondsNow() - t0 < ms * 1e-3);
  std::nth_element(ticks.begin(), ticks.begin() + ticks.size() / 2, ticks.end());
  return static_cast<double>(ticks[ticks.size() / 2]) / static_cast<double>(batch * size);
}

}  // namespace

std::vector<SpeedRow> MeasureOpensslSpeed(const CounterInfo& counter, int ms) {
  std::vector<SpeedRow> rows;
  if (ms <= 0) return rows;
  AeadKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i * 7 + 1);
  const std::array<uint8_t, 12> iv{};
  std::vector<std::byte> in(16384, std::byte{0x5a}), out(SealedBytes(16384));
  for (AeadKind kind : {AeadKind::kAes256Gcm, AeadKind::kChaCha20Poly1305}) {
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    absl::StatusOr<Sealer> sealer = Sealer::Create(kind, key, 1);
    if (!ctx || !sealer.ok() ||
        EVP_EncryptInit_ex(ctx.get(), CipherFor(kind), nullptr, key.data(), iv.data()) != 1) {
      continue;
    }
    for (uint64_t size : {16, 64, 256, 1024, 8192, 16384}) {
      SpeedRow row;
      row.kind = kind;
      row.size = size;
      auto* buf = reinterpret_cast<unsigned char*>(out.data());
      int n = 0;
      row.evp_update_ticks_per_byte = TicksPerByte(size, ms, [&] {
        EVP_EncryptUpdate(ctx.get(), buf, &n, buf, static_cast<int>(size));
      });
      row.seal_ticks_per_byte = TicksPerByte(size, ms, [&] {
        (void)sealer->Seal(1, std::span(in).first(size), out);
      });
      row.evp_update_mbps = counter.hz / row.evp_update_ticks_per_byte / 1e6;
      row.seal_mbps = counter.hz / row.seal_ticks_per_byte / 1e6;
      rows.push_back(row);
    }
  }
  return rows;
}

}  // namespace csm::compare
