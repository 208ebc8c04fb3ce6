#include "sim_state.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <new>

#include "absl/strings/str_cat.h"
#include "sim_table.h"

namespace csm::sim {
namespace {

// Builds a fresh table in a private temp file, then links it into place:
// other processes see either no state file or a fully initialized one.
absl::Status CreateStateFile(const SimPaths& paths) {
  std::string tmp = absl::StrCat(paths.StateFile(), ".tmp.", getpid(), ".", gettid());
  int fd = open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("creating ", tmp));
  absl::Status st;
  void* mem = MAP_FAILED;
  if (ftruncate(fd, sizeof(Table)) != 0) {
    st = absl::ErrnoToStatus(errno, "sizing the simulator state");
  } else {
    mem = mmap(nullptr, sizeof(Table), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED) st = absl::ErrnoToStatus(errno, "mapping the simulator state");
  }
  if (st.ok()) {
    Table* t = static_cast<Table*>(mem);  // zero-filled by ftruncate
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&t->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    t->next_seq = 1;
    t->version = kLayoutVersion;
    t->size = sizeof(Table);
    __atomic_store_n(&t->magic, kStateMagic, __ATOMIC_RELEASE);
    munmap(mem, sizeof(Table));
    if (link(tmp.c_str(), paths.StateFile().c_str()) != 0 && errno != EEXIST) {
      st = absl::ErrnoToStatus(errno, absl::StrCat("publishing ", paths.StateFile()));
    }
  }
  close(fd);
  unlink(tmp.c_str());
  return st;
}

}  // namespace

absl::StatusOr<std::unique_ptr<StateFile>> StateFile::Open(const SimPaths& paths) {
  int fd = open(paths.StateFile().c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    if (absl::Status st = CreateStateFile(paths); !st.ok()) return st;
    fd = open(paths.StateFile().c_str(), O_RDWR | O_CLOEXEC);
  }
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("opening ", paths.StateFile()));
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size != static_cast<off_t>(sizeof(Table))) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "simulator state ", paths.StateFile(), " has size ", st.st_size, ", expected ",
        sizeof(Table), ": it is from another csm version; stop all csm programs and remove ",
        paths.dir));
  }
  void* mem = mmap(nullptr, sizeof(Table), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (mem == MAP_FAILED) return absl::ErrnoToStatus(errno, "mapping the simulator state");
  Table* t = static_cast<Table*>(mem);
  if (__atomic_load_n(&t->magic, __ATOMIC_ACQUIRE) != kStateMagic ||
      t->version != kLayoutVersion || t->size != sizeof(Table)) {
    munmap(mem, sizeof(Table));
    return absl::FailedPreconditionError(absl::StrCat(
        "simulator state ", paths.StateFile(), " is not a layout v", kLayoutVersion,
        " table; stop all csm programs and remove ", paths.dir));
  }
  return std::unique_ptr<StateFile>(new StateFile(paths, t));
}

StateFile::~StateFile() { munmap(table_, sizeof(Table)); }

void Effects::Kick(uint64_t realm) {
  if (std::find(kick_realms.begin(), kick_realms.end(), realm) == kick_realms.end()) {
    kick_realms.push_back(realm);
  }
}

Transaction::Transaction(StateFile& state) : state_(state) {}

absl::StatusOr<std::unique_ptr<Transaction>> Transaction::Begin(StateFile& state) {
  std::unique_ptr<Transaction> tx(new Transaction(state));
  Table* t = state.table();
  int rc = pthread_mutex_lock(&t->lock);
  tx->table_ = std::make_unique<SimTable>(t, state.paths(), &tx->effects_);
  if (rc == EOWNERDEAD) {
    // The previous holder died mid-operation: finish or undo its work, then
    // declare the lock usable again.
    tx->table_->Repair();
    ++t->repairs;
    pthread_mutex_consistent(&t->lock);
  } else if (rc != 0) {
    tx->table_.reset();
    return absl::ErrnoToStatus(rc, absl::StrCat("locking the simulator state in ",
                                                state.paths().dir,
                                                " (remove the directory if it persists)"));
  }
  return tx;
}

Transaction::~Transaction() {
  if (!table_) return;
  pthread_mutex_unlock(&state_.table()->lock);
  ApplyEffects(state_.paths(), effects_);
}

void ApplyEffects(const SimPaths& paths, const Effects& fx) {
  for (uint32_t* word : fx.futex_wake) {
    syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
  }
  if (fx.kick_realms.empty()) return;
  int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (sock < 0) return;
  for (uint64_t realm : fx.kick_realms) {
    sockaddr_un addr;
    socklen_t len = paths.KickAddress(realm, &addr);
    const char kick = 'k';
    // A kick is a hint: if the agent's queue is full it has kicks pending,
    // and if the realm is gone there is nobody to wake.
    sendto(sock, &kick, 1, MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  }
  close(sock);
}

void CrashPoint(const char* point) {
  const char* want = getenv("CSM_SIM_CRASH_AT");
  if (want != nullptr && strcmp(want, point) == 0) raise(SIGKILL);
}

}  // namespace csm::sim
