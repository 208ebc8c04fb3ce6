// Where the simulator keeps its state, and the names derived from it.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace csm::sim {

struct SimPaths {
  std::string dir;
  uint64_t dev = 0;  // identify the directory for abstract socket names
  uint64_t ino = 0;

  // `dir` empty: $CSM_SIM_DIR, else /dev/shm/csm-sim-<uid>. Creates it (0700).
  static absl::StatusOr<SimPaths> Resolve(const std::string& dir);

  std::string StateFile() const { return dir + "/state"; }
  std::string KeyFile() const { return dir + "/attest-key.pem"; }
  std::string RegionFile(uint64_t region) const;
  std::string DoorbellFile(uint64_t region, uint64_t realm) const;
  std::string DoorbellPrefix(uint64_t region) const;  // file name prefix
  // Abstract unix datagram address of a realm's agent ("kick" socket).
  socklen_t KickAddress(uint64_t realm, sockaddr_un* addr) const;
};

}  // namespace csm::sim
