// Identifying a process robustly: pid plus its start time, so a recycled
// pid is never mistaken for the realm that died.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace csm::sim {

struct ProcessIdentity {
  pid_t pid = 0;
  uint64_t start_time = 0;  // field 22 of /proc/<pid>/stat (clock ticks since boot)
};

// The start time of `pid`; nullopt if it does not exist or is a zombie
// (a killed process whose parent has not reaped it yet is already dead).
std::optional<uint64_t> ProcessStartTime(pid_t pid);

ProcessIdentity SelfIdentity();

// True unless the process is positively gone (ENOENT, zombie, or another
// process now holds the pid).
bool IsAlive(const ProcessIdentity& who);

}  // namespace csm::sim
