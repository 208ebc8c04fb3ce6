// Simulator introspection, for tests and tools: what the simulator's shared
// state holds right now (after releasing realms whose process is gone).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace csm {

struct SimSnapshot {
  std::string dir;
  uint32_t realms = 0;
  uint32_t regions = 0;
  uint32_t shares = 0;
  uint64_t repairs = 0;      // crashed lock holders recovered from
  uint64_t events_lost = 0;  // events dropped because a queue was full
  // Region files and doorbell FIFOs present in the directory.
  std::vector<std::string> region_files;
  // Realm agent sockets present in the directory: one per live realm.
  std::vector<std::string> realm_sockets;
};

// `dir` empty: the default directory (see BackendOptions::sim_dir).
absl::StatusOr<SimSnapshot> InspectSim(const std::string& dir = "");

// Runs `fn` while holding the simulator's state lock: no realm is inside an
// operation meanwhile. Tests use it to stop a process at a point where it
// cannot be holding the lock.
absl::Status WithSimStateLocked(const std::string& dir, absl::FunctionRef<void()> fn);

}  // namespace csm
