#include <dirent.h>

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
      using Kind = sim::SimPaths::Entry::Kind;
      switch (sim::SimPaths::ParseName(e->d_name).kind) {
        case Kind::kRegion:
        case Kind::kDoorbell:
          snap.region_files.push_back(e->d_name);
          break;
        case Kind::kKick:
          snap.realm_sockets.push_back(e->d_name);
          break;
        case Kind::kOther:
          break;
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
