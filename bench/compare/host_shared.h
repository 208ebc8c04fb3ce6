// The plain shared memory the encrypting baseline sends through: memory the
// hypervisor can read and write. It is deliberately NOT a CSM region.
//   - Two forked sim realms: an anonymous memfd, mapped before the fork.
//   - One side per VM: a file both sides name with --host_mem, e.g. the
//     ivshmem BAR (/sys/bus/pci/devices/<bdf>/resource2) or, on one host,
//     a /dev/shm file.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "absl/status/statusor.h"

namespace csm::compare {

class HostSharedMemory {
 public:
  // An anonymous memfd of `bytes` (the forked-realms case).
  static absl::StatusOr<HostSharedMemory> CreateAnonymous(std::size_t bytes);
  // Maps `path`. `create`: create the file if missing and grow a regular
  // file to `bytes`; otherwise it must exist and hold at least `bytes`.
  static absl::StatusOr<HostSharedMemory> OpenPath(const std::string& path, std::size_t bytes,
                                                   bool create);

  HostSharedMemory(HostSharedMemory&& o) noexcept;
  HostSharedMemory& operator=(HostSharedMemory&& o) noexcept;
  ~HostSharedMemory();

  std::span<std::byte> bytes() const { return {static_cast<std::byte*>(addr_), size_}; }
  // For output: what this memory is and that the host sees it.
  const std::string& description() const { return description_; }

 private:
  HostSharedMemory() = default;
  void* addr_ = nullptr;
  std::size_t size_ = 0;
  std::string description_;
};

}  // namespace csm::compare
