// The per-host simulator signing key: <sim dir>/attest-key.pem, mode 0600,
// created on first use.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace csm::sim {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

absl::StatusOr<Pkey> LoadOrCreateSimKey(const std::string& key_file);

}  // namespace csm::sim
