// csm-ping's command line, parsed and checked into one Config.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli_values.h"
#include "csm/backend.h"
#include "ping_sides.h"

namespace csm::ping {

using tools::Role;

struct Config {
  Role role = Role::kLocal;
  std::vector<uint64_t> sizes;
  uint64_t count = 0;
  uint64_t warmup = 0;
  Mode mode = Mode::kSpin;
  uint32_t spin_budget = 0;
  FloorKind floor = FloorKind::kAtomic;
  std::optional<int> ping_cpu, echo_cpu;  // unset: not pinned
  bool json = false, csv = false, progress = true;
  uint64_t peer = 0;        // serve: the consumer realm
  uint64_t share = 0;       // connect: 0 = read it from stdin
  uint64_t max_message = 0; // the largest size, which the region is laid out for
  uint64_t timeout_s = 0;   // echo: give up after this long without a message
  BackendChoice backend = BackendChoice::kAuto;

  std::string ModeName() const;
  std::string FloorName() const;
  std::string CpusText() const;
};

// Parses argv (handles --help itself). Errors name the bad option and value.
absl::StatusOr<Config> ParseCommandLine(int argc, char** argv);

}  // namespace csm::ping
