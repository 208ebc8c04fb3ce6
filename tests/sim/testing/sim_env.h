// Test helpers: an isolated simulator directory per test, and forked
// children that play other realms.
#pragma once

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "csm/device.h"
#include "gtest/gtest.h"

namespace csm::testing {

// A fresh sim dir under /dev/shm, removed afterwards: tests run isolated and
// in parallel.
class SimEnv {
 public:
  SimEnv() {
    char tmpl[] = "/dev/shm/csm-test-XXXXXX";
    const char* d = mkdtemp(tmpl);
    EXPECT_NE(d, nullptr);
    dir_ = d ? d : "";
  }
  ~SimEnv() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::string& dir() const { return dir_; }

  // A Device that is a realm of its own (several per process in tests).
  Device::Options Options() const {
    Device::Options o;
    o.choice = BackendChoice::kSim;
    o.sim_dir = dir_;
    o.sim_realm = SimRealm::kPerDevice;
    return o;
  }
  Device Open() const {
    absl::StatusOr<Device> d = Device::Open(Options());
    if (!d.ok()) {
      ADD_FAILURE() << d.status();
      abort();
    }
    return std::move(*d);
  }

 private:
  std::string dir_;
};

// Sanitizers catch SIGSEGV themselves and exit with a report; a test child
// that is meant to fault must die of the signal itself.
inline void DefaultFaultSignals() {
  struct sigaction sa = {};
  sa.sa_handler = SIG_DFL;
  sigaction(SIGSEGV, &sa, nullptr);
  sigaction(SIGBUS, &sa, nullptr);
}

// A forked child with a pipe each way for 64-bit messages. The child body
// returns its exit code; it never returns into gtest.
class Child {
 public:
  explicit Child(std::function<int(Child&)> body) {
    int up[2], down[2];
    if (pipe(up) != 0 || pipe(down) != 0) abort();
    pid_ = fork();
    if (pid_ == 0) {
      close(up[0]);
      close(down[1]);
      to_peer_ = up[1];
      from_peer_ = down[0];
      DefaultFaultSignals();
      _exit(body(*this));
    }
    close(up[1]);
    close(down[0]);
    to_peer_ = down[1];
    from_peer_ = up[0];
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(to_peer_);
    close(from_peer_);
  }
  pid_t pid() const { return pid_; }

  bool Send(uint64_t v) { return write(to_peer_, &v, sizeof(v)) == sizeof(v); }
  // Blocks until the peer sends (the peer's exit gives ~0).
  uint64_t Recv() {
    uint64_t v = ~0ull;
    if (read(from_peer_, &v, sizeof(v)) != sizeof(v)) return ~0ull;
    return v;
  }

  // Waits for the child; returns its wait status.
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    return status;
  }
  void Kill() { kill(pid_, SIGKILL); }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int to_peer_ = -1;
  int from_peer_ = -1;
};

inline bool DiedOfFault(int status) {
  return WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS);
}

// Forks a child that touches `addr` (read or write) and reports whether it
// faulted. The child touches nothing else.
inline bool AccessFaults(void* addr, bool write) {
  pid_t pid = fork();
  if (pid == 0) {
    DefaultFaultSignals();
    volatile char* p = static_cast<volatile char*>(addr);
    if (write) {
      *p = 42;
    } else {
      [[maybe_unused]] char c = *p;
    }
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return DiedOfFault(status);
}

}  // namespace csm::testing
