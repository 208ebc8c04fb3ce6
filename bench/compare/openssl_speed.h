// The in-process counterpart of `openssl speed -evp aes-256-gcm` (and of
// chacha20-poly1305), at that command's sizes: EVP_EncryptUpdate alone on
// one keyed context (the bulk cipher rate), next to our full per-message
// seal (fresh IV, header as AAD, final, tag). Next to the command's own
// output (bench/report runs it) it shows the baseline runs at the speed
// OpenSSL reaches on this machine.
#pragma once

#include <cstdint>
#include <vector>

#include "aead.h"
#include "cycle_counter.h"

namespace csm::compare {

struct SpeedRow {
  AeadKind kind = AeadKind::kAes256Gcm;
  uint64_t size = 0;
  double evp_update_mbps = 0;  // 10^6 bytes/s, as openssl speed prints (in 1000s)
  double seal_mbps = 0;
  double evp_update_ticks_per_byte = 0;
  double seal_ticks_per_byte = 0;
};

// About `ms` per measurement; sizes are openssl speed's: 16 .. 16384.
// Rates come from the median batch (robust on a busy machine), converted
// with the counter's measured frequency.
std::vector<SpeedRow> MeasureOpensslSpeed(const CounterInfo& counter, int ms);

}  // namespace csm::compare
