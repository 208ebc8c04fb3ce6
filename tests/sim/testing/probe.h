// Non-faulting probes of a mapping: the kernel copies through the pipe and
// returns EFAULT instead of raising a signal, so a test can check "access
// would fault" in-process (threads and sanitizers stay happy).
#pragma once

#include <errno.h>
#include <unistd.h>

namespace csm::testing {

inline bool CanRead(const void* addr) {
  int p[2];
  if (pipe(p) != 0) return false;
  bool ok = write(p[1], addr, 1) == 1;
  close(p[0]);
  close(p[1]);
  return ok;
}

inline bool CanWrite(void* addr) {
  int p[2];
  if (pipe(p) != 0) return false;
  const char c = 7;
  bool ok = write(p[1], &c, 1) == 1 && read(p[0], addr, 1) == 1;
  close(p[0]);
  close(p[1]);
  return ok;
}

}  // namespace csm::testing
