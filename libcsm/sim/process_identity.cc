#include "process_identity.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace csm::sim {
namespace {

enum class StatResult { kOk, kGone, kUnknown };

StatResult ReadStat(pid_t pid, char* state, uint64_t* start_time) {
  std::string path = absl::StrCat("/proc/", pid, "/stat");
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT || errno == ESRCH ? StatResult::kGone : StatResult::kUnknown;
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  int err = errno;
  close(fd);
  if (n <= 0) return n < 0 && err == ESRCH ? StatResult::kGone : StatResult::kUnknown;
  buf[n] = '\0';
  // "pid (comm) S ppid ...": comm may contain spaces or ')', so parse from
  // the last ')'. The state is field 3, the start time field 22.
  char* p = strrchr(buf, ')');
  if (p == nullptr || p[1] != ' ') return StatResult::kUnknown;
  p += 2;
  *state = *p;
  for (int field = 3; field < 22; ++field) {
    p = strchr(p, ' ');
    if (p == nullptr) return StatResult::kUnknown;
    ++p;
  }
  *start_time = strtoull(p, nullptr, 10);
  return StatResult::kOk;
}

}  // namespace

std::optional<uint64_t> ProcessStartTime(pid_t pid) {
  char state = 0;
  uint64_t start = 0;
  if (ReadStat(pid, &state, &start) != StatResult::kOk) return std::nullopt;
  if (state == 'Z' || state == 'X') return std::nullopt;
  return start;
}

ProcessIdentity SelfIdentity() {
  ProcessIdentity me;
  me.pid = getpid();
  me.start_time = ProcessStartTime(me.pid).value_or(0);
  return me;
}

bool IsAlive(const ProcessIdentity& who) {
  if (who.pid <= 0) return false;
  if (who.pid == getpid()) return true;
  char state = 0;
  uint64_t start = 0;
  switch (ReadStat(who.pid, &state, &start)) {
    case StatResult::kGone:
      return false;
    case StatResult::kUnknown:
      return true;  // cannot tell (e.g. hidepid): never tear down a live party
    case StatResult::kOk:
      break;
  }
  if (state == 'Z' || state == 'X') return false;
  return start == who.start_time;
}

}  // namespace csm::sim
