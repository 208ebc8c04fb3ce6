// The backend seam: every csm::Device operation goes through this
// ioctl-shaped interface, so the /dev/csm backend is a thin wrapper around
// ioctl()/mmap() and the simulator obeys literally the same contract
// (include/csm/uapi/csm.h): same commands, same structs, same errnos.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace csm {

class Backend {
 public:
  virtual ~Backend() = default;

  // Performs CSM_IOC_* `cmd` on `arg` (the command's UAPI struct). Returns
  // 0 or a negative errno, exactly as the kernel's ioctl handler would.
  virtual int Call(unsigned long cmd, void* arg) = 0;

  // mmap()s a whole region by the mmap_offset from create/attach (MAP_SHARED,
  // `prot` PROT_READ or PROT_READ|PROT_WRITE). Returns 0 and sets *addr, or
  // a negative errno.
  virtual int Map(uint64_t mmap_offset, std::size_t size, int prot, void** addr) = 0;
  // Unmaps what Map returned. Returns 0 or a negative errno.
  virtual int Unmap(void* addr, std::size_t size) = 0;

  // Where the backend lives, for messages ("/dev/csm", "sim at /dev/shm/...").
  virtual std::string Where() const = 0;
};

// Which backend Device::Open picks.
enum class BackendChoice {
  kAuto,    // /dev/csm when it exists, otherwise the simulator
  kKernel,  // /dev/csm or fail
  kSim,     // the simulator
};

// How simulated realms map onto processes.
enum class SimRealm {
  kPerProcess,  // default: every Device of a process is the same realm
  kPerDevice,   // this Device is a realm of its own (tests play several)
};

struct BackendOptions {
  BackendChoice choice = BackendChoice::kAuto;
  std::string device_path = "/dev/csm";
  // Simulator state directory; empty: $CSM_SIM_DIR, else /dev/shm/csm-sim-<uid>.
  std::string sim_dir;
  SimRealm sim_realm = SimRealm::kPerProcess;
  // Simulator: how long revoke waits for the consumer to confirm unmapping.
  absl::Duration sim_revoke_timeout = absl::Seconds(5);
};

absl::StatusOr<std::shared_ptr<Backend>> OpenBackend(const BackendOptions& options);
absl::StatusOr<std::shared_ptr<Backend>> OpenKernelBackend(const std::string& path);
absl::StatusOr<std::shared_ptr<Backend>> OpenSimBackend(const BackendOptions& options);

}  // namespace csm
