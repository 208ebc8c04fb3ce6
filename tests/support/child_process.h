// Running test code in forked children: realms in tests are processes.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

namespace csm::testing {

// Forks; the child runs `body` and exits with its return value (0 = pass).
// Children never return into the test framework.
inline pid_t Spawn(const std::function<int()>& body) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    int rc = 1;
    rc = body();
    std::fflush(nullptr);
    _exit(rc);
  }
  return pid;
}

// Waits for `pid`; returns "" if it exited with 0, else what happened.
inline std::string Reap(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return "waitpid failed";
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status) == 0 ? "" : "exited with " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

// Message counts scale down under sanitizers, which slow shared-memory
// traffic by an order of magnitude; the protocol paths run all the same.
inline uint64_t Scaled(uint64_t count) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return count / 20;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  return count / 20;
#else
  return count;
#endif
#else
  return count;
#endif
}

// A check in a child process: print what failed and return non-zero.
#define CSM_CHILD_CHECK(cond, ...)                                   \
  do {                                                               \
    if (!(cond)) {                                                   \
      std::fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                             \
      std::fprintf(stderr, "\n");                                    \
      return 1;                                                      \
    }                                                                \
  } while (0)

}  // namespace csm::testing
