#include "sim_paths.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace csm::sim {

absl::StatusOr<SimPaths> SimPaths::Resolve(const std::string& dir) {
  SimPaths p;
  p.dir = dir;
  if (p.dir.empty()) {
    const char* env = getenv("CSM_SIM_DIR");
    p.dir = env && *env ? env : absl::StrCat("/dev/shm/csm-sim-", getuid());
  }
  while (p.dir.size() > 1 && p.dir.back() == '/') p.dir.pop_back();
  // Room for "/", the kick prefix and a 16-digit realm ID in a socket address.
  constexpr std::size_t kMaxDir = sizeof(sockaddr_un{}.sun_path) - 1 - 1 - kKickPrefix.size() - 16;
  if (p.dir.size() > kMaxDir) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "simulator directory %s is %d bytes long; at most %d fit in a unix socket address",
        p.dir, p.dir.size(), kMaxDir));
  }
  if (mkdir(p.dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot create simulator directory ", p.dir,
                                                   " (set CSM_SIM_DIR to a writable place)"));
  }
  // Not followed if a symlink, ours, and closed to everyone else: the
  // directory holds every region's memory, and another user able to write
  // into it (or to point it elsewhere) could swap files under us.
  struct stat st;
  if (lstat(p.dir.c_str(), &st) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("simulator directory ", p.dir));
  }
  if (S_ISLNK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("simulator path ", p.dir, " is a symbolic link; give the directory itself"));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("simulator path ", p.dir, " exists but is not a directory"));
  }
  if (st.st_uid != geteuid()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "simulator directory ", p.dir, " belongs to uid ", st.st_uid, ", not to us"));
  }
  if ((st.st_mode & 022) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "simulator directory %s is writable by other users (mode %o); chmod 700 it", p.dir,
        st.st_mode & 0777));
  }
  // Readable by others only (say made by mkdir -p): ours to close.
  if ((st.st_mode & 077) != 0 && chmod(p.dir.c_str(), 0700) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot chmod 700 simulator directory ", p.dir));
  }
  return p;
}

std::string SimPaths::RegionFile(uint64_t region) const {
  return absl::StrFormat("%s/%s%x", dir, kRegionPrefix, region);
}

std::string SimPaths::DoorbellFile(uint64_t region, uint64_t realm) const {
  return absl::StrFormat("%s/%s%x-%x", dir, kDoorbellPrefix, region, realm);
}

std::string SimPaths::KickFile(uint64_t realm) const {
  return absl::StrFormat("%s/%s%x", dir, kKickPrefix, realm);
}

namespace {

// This Abseil's string_view is its own type, not std::string_view.
constexpr absl::string_view AsAbsl(std::string_view s) { return {s.data(), s.size()}; }

// A non-zero ID in the form "%x" writes: anything else is not our name.
bool ConsumeId(absl::string_view digits, uint64_t* id) {
  return absl::SimpleHexAtoi(digits, id) && *id != 0 && absl::StrFormat("%x", *id) == digits;
}

}  // namespace

SimPaths::Entry SimPaths::ParseName(std::string_view file_name) {
  absl::string_view name = AsAbsl(file_name);
  Entry e;
  if (absl::ConsumePrefix(&name, AsAbsl(kRegionPrefix))) {
    if (ConsumeId(name, &e.region)) e.kind = Entry::Kind::kRegion;
  } else if (absl::ConsumePrefix(&name, AsAbsl(kDoorbellPrefix))) {
    const std::size_t dash = name.find('-');
    if (dash != absl::string_view::npos && ConsumeId(name.substr(0, dash), &e.region) &&
        ConsumeId(name.substr(dash + 1), &e.realm)) {
      e.kind = Entry::Kind::kDoorbell;
    }
  } else if (absl::ConsumePrefix(&name, AsAbsl(kKickPrefix))) {
    if (ConsumeId(name, &e.realm)) e.kind = Entry::Kind::kKick;
  }
  if (e.kind == Entry::Kind::kOther) e = Entry{};
  return e;
}

// Not the abstract namespace: any local user can bind an abstract name
// first (a realm's predictable name, to make its registration fail) or
// send to one. A socket file in the 0700 directory is ours alone.
socklen_t SimPaths::KickAddress(uint64_t realm, sockaddr_un* addr) const {
  memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  const std::string path = KickFile(realm);  // fits: Resolve bounds the dir
  const std::size_t n = std::min(path.size(), sizeof(addr->sun_path) - 1);
  memcpy(addr->sun_path, path.data(), n);
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + n + 1);
}

}  // namespace csm::sim
