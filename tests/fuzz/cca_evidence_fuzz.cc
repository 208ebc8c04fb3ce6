// libFuzzer target: CCA evidence and token collections from an untrusted
// source must never crash the verifier, and never verify without the key.
// Seeds: the evidence the RSI VM suites print (VMTEST TOKEN lines, hex).
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "csm/attestation_cca.h"

namespace {

// A trust anchor nobody holds the private half of after setup.
const csm::CcaTrust& Trust() {
  static const csm::CcaTrust trust = [] {
    csm::CcaTrust t;
    char path[] = "/tmp/csm-cca-fuzz-XXXXXX";
    int fd = mkstemp(path);
    EVP_PKEY* key = EVP_EC_gen("P-384");
    FILE* f = fd >= 0 ? fdopen(fd, "w") : nullptr;
    if (!key || !f || PEM_write_PUBKEY(f, key) != 1) abort();
    fclose(f);
    EVP_PKEY_free(key);
    t.platform_key_file = path;
    static std::string to_remove = path;
    atexit([] { unlink(to_remove.c_str()); });
    return t;
  }();
  return trust;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  if (csm::VerifyCcaToken(in, {}, Trust()).ok()) abort();
  if (csm::VerifyCcaEvidence(in, Trust()).ok()) abort();
  return 0;
}
