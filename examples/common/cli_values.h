// Parsing the command-line values csm's tools share, with messages that
// name the bad value (the caller prefixes the flag).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "csm/backend.h"

namespace csm::tools {

// "--flag: why", as InvalidArgument.
absl::Status FlagError(absl::string_view flag, absl::string_view why);

// "64", "4K", "1M", "1G" (binary units) up to `limit` bytes.
absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text, uint64_t limit);

// "A,B" -> the two sides' CPUs; "none" -> nullopt. The default "0,1" folds
// onto a one-CPU machine; any other CPU beyond those online is an error.
absl::StatusOr<std::optional<std::pair<int, int>>> ParseCpuPair(const std::string& text);

// A --timeout in seconds: 1 to a week (larger values would wrap in
// absl::Seconds); an error naming the flag otherwise.
absl::Status CheckTimeoutSeconds(uint64_t seconds);

// "auto", "kernel" or "sim".
absl::StatusOr<BackendChoice> ParseBackendChoice(const std::string& text);

// Which side of a two-realm tool this process runs: both (forked), the
// serving (provider) side, the connecting (consumer) side, or neither.
enum class Role { kLocal, kServe, kConnect, kWhoami };
struct RoleChoice {
  Role role = Role::kLocal;
  uint64_t peer = 0;   // serve: the consumer realm
  uint64_t share = 0;  // connect: 0 = read it from stdin ("-")
};
// From --serve with --peer, --connect, --whoami (at most one of them).
// Errors are complete "--flag: why" statuses.
absl::StatusOr<RoleChoice> ParseRole(bool serve, const std::string& peer,
                                     const std::string& connect, bool whoami);

// A JSON string literal for `s`.
std::string JsonString(std::string_view s);

}  // namespace csm::tools
