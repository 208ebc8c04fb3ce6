// Where the simulator keeps its state, and the names derived from it.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace csm::sim {

struct SimPaths {
  std::string dir;

  // `dir` empty: $CSM_SIM_DIR, else /dev/shm/csm-sim-<uid>. Creates it (0700).
  // Refuses paths too long to name the realms' sockets in.
  static absl::StatusOr<SimPaths> Resolve(const std::string& dir);

  std::string StateFile() const { return dir + "/state"; }
  std::string KeyFile() const { return dir + "/attest-key.pem"; }
  std::string RegionFile(uint64_t region) const;
  std::string DoorbellFile(uint64_t region, uint64_t realm) const;
  std::string DoorbellPrefix(uint64_t region) const;  // file name prefix
  // A realm's agent socket ("kick"): a unix datagram socket file in the
  // directory, so only its owner can bind or reach it.
  std::string KickFile(uint64_t realm) const;
  static constexpr std::string_view kKickPrefix = "kick-";
  socklen_t KickAddress(uint64_t realm, sockaddr_un* addr) const;
};

}  // namespace csm::sim
