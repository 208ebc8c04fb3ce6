// The simulator's shared state file and the transaction that locks it.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "sim_layout.h"
#include "sim_paths.h"

namespace csm::sim {

// The mapped state table of one simulator directory.
class StateFile {
 public:
  // Opens <dir>/state, creating and initializing it atomically if missing.
  static absl::StatusOr<std::unique_ptr<StateFile>> Open(const SimPaths& paths);
  ~StateFile();
  Table* table() const { return table_; }
  const SimPaths& paths() const { return paths_; }

 private:
  StateFile(SimPaths paths, Table* table) : paths_(std::move(paths)), table_(table) {}
  SimPaths paths_;
  Table* table_;
};

// Work to do after the lock is released: wake agents whose event queue got
// records, and wake revokers waiting on a share's state word.
struct Effects {
  std::vector<uint64_t> kick_realms;
  std::vector<uint32_t*> futex_wake;
  void Kick(uint64_t realm);
};

class SimTable;

// Holds the table lock for its lifetime. If the previous holder died
// (EOWNERDEAD), repairs the table before anything else runs. Effects are
// applied after unlocking.
class Transaction {
 public:
  static absl::StatusOr<std::unique_ptr<Transaction>> Begin(StateFile& state);
  ~Transaction();
  SimTable& table() { return *table_; }
  Effects& effects() { return effects_; }

 private:
  explicit Transaction(StateFile& state);
  StateFile& state_;
  Effects effects_;
  std::unique_ptr<SimTable> table_;
};

// Sends the kicks and futex wakes (after the lock is dropped).
void ApplyEffects(const SimPaths& paths, const Effects& fx);

// Test hook: if $CSM_SIM_CRASH_AT equals `point`, the process SIGKILLs
// itself right here, holding whatever it holds (crash-consistency tests).
void CrashPoint(const char* point);

}  // namespace csm::sim
