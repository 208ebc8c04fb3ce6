// Picks the backend: /dev/csm when present (or required), else the simulator.
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "csm/backend.h"

namespace csm {

absl::StatusOr<std::shared_ptr<Backend>> OpenBackend(const BackendOptions& options) {
  switch (options.choice) {
    case BackendChoice::kKernel:
      return OpenKernelBackend(options.device_path);
    case BackendChoice::kSim:
      return OpenSimBackend(options);
    case BackendChoice::kAuto:
      break;
  }
  if (access(options.device_path.c_str(), F_OK) == 0) return OpenKernelBackend(options.device_path);
  return OpenSimBackend(options);
}

}  // namespace csm
