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
  // A realm's agent socket ("kick"): a unix datagram socket file in the
  // directory, so only its owner can bind or reach it.
  std::string KickFile(uint64_t realm) const;
  socklen_t KickAddress(uint64_t realm, sockaddr_un* addr) const;

  static constexpr std::string_view kRegionPrefix = "region-";  // region-<region>
  static constexpr std::string_view kDoorbellPrefix = "db-";    // db-<region>-<realm>
  static constexpr std::string_view kKickPrefix = "kick-";      // kick-<realm>

  // A file name in the directory read back. Only names exactly as the
  // formatters above write them (lower-case hex, no "0x", no sign) are
  // recognised; anything else is kOther and the simulator leaves it alone.
  struct Entry {
    enum class Kind { kOther, kRegion, kDoorbell, kKick };
    Kind kind = Kind::kOther;
    uint64_t region = 0;  // kRegion, kDoorbell
    uint64_t realm = 0;   // kDoorbell, kKick
  };
  static Entry ParseName(std::string_view name);
};

}  // namespace csm::sim
