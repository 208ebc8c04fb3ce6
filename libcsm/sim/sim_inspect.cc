#include <dirent.h>
#include <string.h>

#include "csm/sim.h"
#include "sim_state.h"
#include "sim_table.h"

namespace csm {

absl::StatusOr<SimSnapshot> InspectSim(const std::string& dir) {
  absl::StatusOr<sim::SimPaths> paths = sim::SimPaths::Resolve(dir);
  if (!paths.ok()) return paths.status();
  absl::StatusOr<std::unique_ptr<sim::StateFile>> state = sim::StateFile::Open(*paths);
  if (!state.ok()) return state.status();
  SimSnapshot snap;
  snap.dir = paths->dir;
  {
    absl::StatusOr<std::unique_ptr<sim::Transaction>> tx = sim::Transaction::Begin(**state);
    if (!tx.ok()) return tx.status();
    (*tx)->table().SweepDeadRealms();
    const sim::Table* t = (*state)->table();
    for (const auto& r : t->realms) snap.realms += r.state != sim::kRealmFree;
    for (const auto& r : t->regions) snap.regions += r.state != sim::kRegionFree;
    for (const auto& s : t->shares) snap.shares += s.state != sim::kShareFree;
    snap.repairs = t->repairs;
    snap.events_lost = t->events_lost;
  }
  if (DIR* d = opendir(paths->dir.c_str())) {
    while (dirent* e = readdir(d)) {
      if (strncmp(e->d_name, "region-", 7) == 0 || strncmp(e->d_name, "db-", 3) == 0) {
        snap.region_files.push_back(e->d_name);
      } else if (strncmp(e->d_name, sim::SimPaths::kKickPrefix.data(),
                         sim::SimPaths::kKickPrefix.size()) == 0) {
        snap.realm_sockets.push_back(e->d_name);
      }
    }
    closedir(d);
  }
  return snap;
}

absl::Status WithSimStateLocked(const std::string& dir, absl::FunctionRef<void()> fn) {
  absl::StatusOr<sim::SimPaths> paths = sim::SimPaths::Resolve(dir);
  if (!paths.ok()) return paths.status();
  absl::StatusOr<std::unique_ptr<sim::StateFile>> state = sim::StateFile::Open(*paths);
  if (!state.ok()) return state.status();
  absl::StatusOr<std::unique_ptr<sim::Transaction>> tx = sim::Transaction::Begin(**state);
  if (!tx.ok()) return tx.status();
  fn();
  return absl::OkStatus();
}

}  // namespace csm
