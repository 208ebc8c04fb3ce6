// csm-cca-verify: checks the attestation evidence the RSI VM suites print.
//
//   csm-cca-verify [--trust-key PLATFORM_PUB.pem] [--min-tokens N]
//                  [--expect-test-platform] LOG...
//
// Without --trust-key the platform key is the PEM file $CSM_CCA_TRUST_KEY
// names (how tests/vm/run-rsi-suite.sh calls it).
// Reads every line "VMTEST TOKEN <label> <challenge hex> <evidence hex>" in
// the logs (guest consoles; "-" is stdin), verifies each evidence with
// libcsm (csm::VerifyCcaEvidence against the given platform key), checks its
// challenge is the printed one and that tokens for different challenges
// differ. Prints one line per token; exits 0 only if all of them verify and
// there are at least N (default 1).
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "csm/attestation_cca.h"
#include "csm/uapi/attestation_cca.h"

namespace {

struct Printed {
  std::string where, label;
  std::vector<uint8_t> challenge, evidence;
};

std::optional<std::vector<uint8_t>> Hex(const std::string& s) {
  if (s.size() % 2) return std::nullopt;
  std::vector<uint8_t> out;
  for (size_t i = 0; i < s.size(); i += 2) {
    unsigned v = 0;
    if (sscanf(s.c_str() + i, "%2x", &v) != 1 || !isxdigit(s[i]) || !isxdigit(s[i + 1])) {
      return std::nullopt;
    }
    out.push_back(static_cast<uint8_t>(v));
  }
  return out;
}

bool Read(std::istream& in, const std::string& name, std::vector<Printed>* out) {
  std::string line;
  bool ok = true;
  for (int n = 1; std::getline(in, line); ++n) {
    // Only lines that start with it (a RESULT line may mention it).
    size_t at = line.rfind("VMTEST TOKEN ", 0);
    if (at != 0) continue;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    std::istringstream fields(line.substr(at + 13));
    Printed p;
    std::string chal, ev;
    fields >> p.label >> chal >> ev;
    auto c = Hex(chal), e = Hex(ev);
    p.where = absl::StrFormat("%s:%d", name, n);
    if (p.label.empty() || !c || !e) {
      std::cout << "csm-cca-verify: " << p.where << ": malformed VMTEST TOKEN line\n";
      ok = false;
      continue;
    }
    p.challenge = *c;
    p.evidence = *e;
    out->push_back(std::move(p));
  }
  return ok;
}

int Usage() {
  std::cerr << "usage: csm-cca-verify [--trust-key PLATFORM_PUB.pem] [--min-tokens N] "
               "[--expect-test-platform] LOG...\n"
               "  (without --trust-key: the PEM file named by $CSM_CCA_TRUST_KEY)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  csm::CcaTrust trust;
  int min_tokens = 1;
  bool expect_test = false;
  std::vector<std::string> logs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--trust-key" && i + 1 < argc) {
      trust.platform_key_file = argv[++i];
    } else if (a == "--min-tokens" && i + 1 < argc) {
      char* end = nullptr;
      min_tokens = static_cast<int>(strtol(argv[++i], &end, 10));
      if (!end || *end || min_tokens < 0) {
        std::cerr << "csm-cca-verify: --min-tokens needs a count, got '" << argv[i] << "'\n";
        return 2;
      }
    } else if (a == "--expect-test-platform") {
      expect_test = true;
    } else if (!a.empty() && (a[0] != '-' || a == "-")) {
      logs.push_back(a);
    } else {
      std::cerr << "csm-cca-verify: unknown option '" << a << "'\n";
      return Usage();
    }
  }
  if (logs.empty()) return Usage();
  if (trust.platform_key_file.empty() && !getenv(csm::kCcaTrustKeyEnv)) {
    std::cerr << "csm-cca-verify: no trust anchor: pass --trust-key or set "
              << csm::kCcaTrustKeyEnv << "\n";
    return 2;
  }

  std::vector<Printed> tokens;
  bool ok = true;
  for (const std::string& name : logs) {
    if (name == "-") {
      ok = Read(std::cin, "stdin", &tokens) && ok;
      continue;
    }
    std::ifstream f(name);
    if (!f) {
      std::cout << "csm-cca-verify: cannot read " << name << "\n";
      return 1;
    }
    ok = Read(f, name, &tokens) && ok;
  }
  std::map<std::vector<uint8_t>, std::vector<uint8_t>> token_by_challenge;
  for (const Printed& p : tokens) {
    absl::StatusOr<csm::CcaEvidenceClaims> c = csm::VerifyCcaEvidence(p.evidence, trust);
    if (!c.ok()) {
      std::cout << "TOKEN " << p.label << " FAIL (" << p.where << "): " << c.status() << "\n";
      ok = false;
      continue;
    }
    if (c->claims.challenge != p.challenge) {
      std::cout << "TOKEN " << p.label << " FAIL (" << p.where
                << "): evidence carries another challenge than the one printed\n";
      ok = false;
      continue;
    }
    if (expect_test && !c->token.test_platform) {
      std::cout << "TOKEN " << p.label << " FAIL: not from the csm test monitor\n";
      ok = false;
      continue;
    }
    std::vector<uint8_t> tok(p.evidence.begin() + CSM_CCA_EVIDENCE_HDR_SIZE +
                                 CSM_CCA_REGION_DESC_SIZE,
                             p.evidence.end());
    for (const auto& [chal, other] : token_by_challenge) {
      if (chal != p.challenge && other == tok) {
        std::cout << "TOKEN " << p.label << " FAIL: same CCA token as for another challenge\n";
        ok = false;
      }
    }
    token_by_challenge[p.challenge] = tok;
    std::cout << absl::StrFormat(
        "TOKEN %s OK realm %s region %s size %u provider %s consumers %u realm-tag-claim %s "
        "token %u bytes; %s\n",
        p.label, c->claims.caller, c->claims.region, c->claims.region_size, c->claims.provider,
        c->claims.consumers.size(),
        c->token.realm_tag ? absl::StrFormat("%u", *c->token.realm_tag) : "none", tok.size(),
        c->claims.issuer);
  }
  if (static_cast<int>(tokens.size()) < min_tokens) {
    std::cout << absl::StrFormat("csm-cca-verify: %d tokens found, expected at least %d\n",
                                 tokens.size(), min_tokens);
    ok = false;
  }
  std::cout << absl::StrFormat("csm-cca-verify: %d tokens, %s\n", tokens.size(),
                               ok ? "all verified" : "FAILED");
  return ok ? 0 : 1;
}
