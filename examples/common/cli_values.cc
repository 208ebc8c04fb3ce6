#include "cli_values.h"

#include <unistd.h>

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "csm/ids.h"

namespace csm::tools {

absl::Status FlagError(absl::string_view flag, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrFormat("--%s: %s", flag, why));
}

absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text, uint64_t limit) {
  uint64_t scale = 1;
  absl::string_view digits = text;
  if (absl::EndsWithIgnoreCase(digits, "k")) scale = uint64_t{1} << 10;
  if (absl::EndsWithIgnoreCase(digits, "m")) scale = uint64_t{1} << 20;
  if (absl::EndsWithIgnoreCase(digits, "g")) scale = uint64_t{1} << 30;
  if (scale != 1) digits.remove_suffix(1);
  uint64_t v;
  if (!absl::SimpleAtoi(digits, &v) || v > limit / scale) {
    return absl::InvalidArgumentError(absl::StrFormat("'%s' is not a size up to %d", text, limit));
  }
  return v * scale;
}

absl::StatusOr<std::optional<std::pair<int, int>>> ParseCpuPair(const std::string& text) {
  if (text == "none") return std::nullopt;
  std::vector<std::string> parts = absl::StrSplit(text, ',');
  int a, b;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &a) || !absl::SimpleAtoi(parts[1], &b) ||
      a < 0 || b < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("'%s' is not two CPU numbers like 0,1 (or 'none')", text));
  }
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  if (a >= online || b >= online) {
    if (text != "0,1") {
      return absl::InvalidArgumentError(
          absl::StrFormat("'%s' names a CPU beyond the %d online", text, online));
    }
    a %= static_cast<int>(online);  // a one-CPU machine: fold the default
    b %= static_cast<int>(online);
  }
  return std::make_pair(a, b);
}

absl::Status CheckTimeoutSeconds(uint64_t seconds) {
  constexpr uint64_t kMax = 7 * 24 * 3600;
  if (seconds == 0 || seconds > kMax) {
    return FlagError("timeout", absl::StrFormat("must be 1 to %d seconds", kMax));
  }
  return absl::OkStatus();
}

absl::StatusOr<BackendChoice> ParseBackendChoice(const std::string& text) {
  if (text == "auto") return BackendChoice::kAuto;
  if (text == "kernel") return BackendChoice::kKernel;
  if (text == "sim") return BackendChoice::kSim;
  return absl::InvalidArgumentError(absl::StrFormat("'%s' is not auto, kernel or sim", text));
}

absl::StatusOr<RoleChoice> ParseRole(bool serve, const std::string& peer,
                                     const std::string& connect, bool whoami) {
  if (serve + !connect.empty() + whoami > 1) {
    return FlagError("serve", "choose at most one of --serve, --connect and --whoami");
  }
  RoleChoice c;
  if (serve) {
    c.role = Role::kServe;
    if (!ParseId(peer, &c.peer) || c.peer == 0) {
      return FlagError("peer", absl::StrFormat("'%s' is not a realm ID (like 0x2a)", peer));
    }
  } else if (!connect.empty()) {
    c.role = Role::kConnect;
    if (connect != "-" && (!ParseId(connect, &c.share) || c.share == 0)) {
      return FlagError("connect", absl::StrFormat("'%s' is not a share ID (like 0x10203)", connect));
    }
  } else if (whoami) {
    c.role = Role::kWhoami;
  }
  if (!serve && !peer.empty()) return FlagError("peer", "only with --serve");
  return c;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace csm::tools
