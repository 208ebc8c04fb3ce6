// OpenSimBackend: realm = process by default. Every Device of a process
// opened with SimRealm::kPerProcess shares one SimBackend (one realm) per
// sim directory; a forked child gets its own.
#include <sys/types.h>
#include <unistd.h>

#include <map>
#include <mutex>

#include "csm/backend.h"
#include "sim_backend.h"

namespace csm {

absl::StatusOr<std::shared_ptr<Backend>> OpenSimBackend(const BackendOptions& options) {
  if (options.sim_realm == SimRealm::kPerDevice) {
    absl::StatusOr<std::shared_ptr<sim::SimBackend>> b = sim::SimBackend::Create(options);
    if (!b.ok()) return b.status();
    return std::shared_ptr<Backend>(std::move(*b));
  }
  absl::StatusOr<sim::SimPaths> paths = sim::SimPaths::Resolve(options.sim_dir);
  if (!paths.ok()) return paths.status();
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<sim::SimBackend>>* cache = nullptr;
  static pid_t cache_pid = 0;
  std::lock_guard<std::mutex> lock(mu);
  if (cache == nullptr || cache_pid != getpid()) {
    // After fork() the parent's entries name the parent's realms: forget
    // them (deliberately leaked, their owners live in the parent).
    cache = new std::map<std::string, std::weak_ptr<sim::SimBackend>>();
    cache_pid = getpid();
  }
  if (std::shared_ptr<sim::SimBackend> b = (*cache)[paths->dir].lock()) return b;
  BackendOptions resolved = options;
  resolved.sim_dir = paths->dir;
  absl::StatusOr<std::shared_ptr<sim::SimBackend>> b = sim::SimBackend::Create(resolved);
  if (!b.ok()) return b.status();
  (*cache)[paths->dir] = *b;
  return std::shared_ptr<Backend>(std::move(*b));
}

}  // namespace csm
