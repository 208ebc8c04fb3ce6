// csm-compare's command line, parsed and checked into one Config.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli_values.h"
#include "csm/backend.h"
#include "layout.h"

namespace csm::compare {

using tools::Role;

struct Config {
  Role role = Role::kLocal;
  std::vector<uint64_t> sizes;
  std::vector<Variant> variants;
  std::vector<Mode> modes;
  uint64_t count = 0, warmup = 0;
  uint32_t repetitions = 1;  // of every step; the median one is reported
  uint64_t max_bytes = 0;  // per step: fewer messages for large sizes (0: no cap)
  std::optional<int> driver_cpu, responder_cpu;
  bool json = false, csv = false, progress = true;
  std::string json_file, csv_file;
  int speed_ms = 0;
  uint64_t peer = 0, share = 0;
  std::string host_mem;  // serve/connect: path of the host-shared memory
  uint64_t max_message = 0;
  uint64_t timeout_s = 0;
  BackendChoice backend = BackendChoice::kAuto;

  bool AnySealed() const;
  std::string CpusText() const;
  // Messages timed for `size` (count, capped by max_bytes) and the warmup.
  uint64_t CountFor(uint64_t size) const;
  uint64_t WarmupFor(uint64_t size) const;
};

// Parses argv (handles --help itself). Errors name the bad option and value.
absl::StatusOr<Config> ParseCommandLine(int argc, char** argv);

}  // namespace csm::compare
