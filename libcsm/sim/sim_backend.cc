// SimBackend lifecycle, command dispatch and the local mapping registry.
#include "sim_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "agent_fork_guard.h"
#include "sim_args.h"

namespace csm::sim {

SimBackend::SimBackend(SimPaths paths, std::unique_ptr<StateFile> state,
                       const BackendOptions& options)
    : paths_(std::move(paths)), state_(std::move(state)), options_(options),
      self_(SelfIdentity()) {}

absl::StatusOr<std::shared_ptr<SimBackend>> SimBackend::Create(const BackendOptions& options) {
  absl::StatusOr<SimPaths> paths = SimPaths::Resolve(options.sim_dir);
  if (!paths.ok()) return paths.status();
  absl::StatusOr<std::unique_ptr<StateFile>> state = StateFile::Open(*paths);
  if (!state.ok()) return state.status();
  std::shared_ptr<SimBackend> b(new SimBackend(*paths, std::move(*state), options));
  if (absl::Status st = b->Register(); !st.ok()) return st;
  return b;
}

absl::StatusOr<std::unique_ptr<Transaction>> SimBackend::Tx() {
  return Transaction::Begin(*state_);
}

std::unique_ptr<Transaction> SimBackend::BeginSwept() {
  absl::StatusOr<std::unique_ptr<Transaction>> tx = Tx();
  if (!tx.ok()) return nullptr;
  (*tx)->table().SweepDeadRealms();
  return std::move(*tx);
}

// Joins the realm table: a fresh realm ID, a kick socket bound before the
// realm becomes visible (so no event can be missed), then the agent.
absl::Status SimBackend::Register() {
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) return absl::ErrnoToStatus(errno, "eventfd");
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) != 0) {
    return absl::ErrnoToStatus(errno, "socketpair for the event stream");
  }
  ev_agent_fd_ = pair[0];
  ev_user_fd_ = pair[1];
  kick_fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (kick_fd_ < 0) return absl::ErrnoToStatus(errno, "socket for the agent");
  {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = Tx();
    if (!tx.ok()) return tx.status();
    SimTable& t = (*tx)->table();
    t.SweepDeadRealms();  // a restart of every party starts clean
    RealmSlot* r = t.AllocRealm();
    if (r == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the simulator at ", paths_.dir, " already has ", kMaxRealms, " live realms"));
    }
    sockaddr_un addr;
    socklen_t len = paths_.KickAddress(r->id, &addr);
    unlink(addr.sun_path);  // IDs never repeat, but a stale file would block bind
    if (bind(kick_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
      return absl::ErrnoToStatus(errno, "binding the realm's agent socket");
    }
    r->pid = self_.pid;
    r->start_time = self_.start_time;
    __atomic_store_n(&r->state, kRealmLive, __ATOMIC_RELEASE);
    realm_ = r->id;
  }
  RegisterAgentForFork(&agent_busy_);
  agent_ = std::make_unique<std::thread>([this] { AgentMain(); });
  // Its start-up allocations are over before we return (and can fork).
  agent_started_.acquire();
  return absl::OkStatus();
}

SimBackend::~SimBackend() {
  if (getpid() != self_.pid) {
    // A forked child's copy: the realm, the agent thread and the table
    // belong to the parent. Leave them all alone.
    (void)agent_.release();
    UnregisterAgentForFork(&agent_busy_);
    return;
  }
  if (agent_) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof(one));
    agent_->join();
  }
  UnregisterAgentForFork(&agent_busy_);
  if (realm_ != 0) {
    // Closing releases everything this realm holds, as closing /dev/csm does.
    if (absl::StatusOr<std::unique_ptr<Transaction>> tx = Tx(); tx.ok()) {
      if (RealmSlot* r = (*tx)->table().FindRealm(realm_)) (*tx)->table().ReleaseRealm(r);
    }
  }
  for (auto& [id, rec] : local_) {
    for (void* addr : rec.maps) munmap(addr, rec.size);
    if (rec.fd >= 0) close(rec.fd);
  }
  for (int fd : {kick_fd_, stop_fd_, ev_agent_fd_, ev_user_fd_}) {
    if (fd >= 0) close(fd);
  }
}

int SimBackend::Call(unsigned long cmd, void* arg) {
  if (getpid() != self_.pid) return -ECHILD;  // inherited across fork()
  if (arg == nullptr) return -EFAULT;
  switch (cmd) {
    case CSM_IOC_VERSION: return DoVersion(static_cast<csm_version*>(arg));
    case CSM_IOC_REALM: return DoRealm(static_cast<csm_realm*>(arg));
    case CSM_IOC_CREATE: return DoCreate(static_cast<csm_create*>(arg));
    case CSM_IOC_SHARE: return DoShare(static_cast<csm_share*>(arg));
    case CSM_IOC_REVOKE: return DoRevoke(static_cast<csm_revoke*>(arg));
    case CSM_IOC_DESTROY: return DoDestroy(static_cast<csm_destroy*>(arg));
    case CSM_IOC_ATTACH: return DoAttach(static_cast<csm_attach*>(arg));
    case CSM_IOC_DETACH: return DoDetach(static_cast<csm_detach*>(arg));
    case CSM_IOC_REGION_INFO: return DoRegionInfo(static_cast<csm_region_info*>(arg));
    case CSM_IOC_LIST_REGIONS: return DoListRegions(static_cast<csm_list*>(arg));
    case CSM_IOC_LIST_SHARES: return DoListShares(static_cast<csm_list*>(arg));
    case CSM_IOC_ATTEST: return DoAttest(static_cast<csm_attest*>(arg));
    case CSM_IOC_DOORBELL_FD: return DoDoorbellFd(static_cast<csm_doorbell_fd*>(arg));
    case CSM_IOC_RING: return DoRing(static_cast<csm_ring*>(arg));
    case CSM_IOC_EVENT_FD: return DoEventFd(static_cast<csm_event_fd*>(arg));
    default: return -ENOTTY;
  }
}

int SimBackend::DoVersion(csm_version* a) {
  memset(a, 0, sizeof(*a));
  a->uapi_version = CSM_UAPI_VERSION;
  a->backend = CSM_BACKEND_SIM;
  // Deliberately no CSM_FEAT_CONFIDENTIAL: regions are plain host files.
  a->features = CSM_FEAT_READ_ONLY | CSM_FEAT_REVOKE_ZAP | CSM_FEAT_FORCE_DESTROY |
                CSM_FEAT_ATTEST | CSM_FEAT_DOORBELL | CSM_FEAT_EVENTS | CSM_FEAT_LIST;
  a->max_region_size = kMaxRegionSize;
  a->granule_size = CSM_GRANULE_SIZE;
  a->max_regions = kMaxRegions;
  a->max_shares = kMaxShares;
  strncpy(a->backend_name, "sim (no confidentiality)", sizeof(a->backend_name) - 1);
  return 0;
}

int SimBackend::DoRealm(csm_realm* a) {
  memset(a, 0, sizeof(*a));  // _IOR: no input, every output word written
  a->realm_id = realm_;
  return 0;
}

int SimBackend::DoEventFd(csm_event_fd* a) {
  if ((a->flags & ~CSM_FD_CLOEXEC) != 0 || !AllZero(a->reserved)) return -EINVAL;
  int fd = fcntl(ev_user_fd_, (a->flags & CSM_FD_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
  if (fd < 0) return -errno;
  a->fd = fd;
  return 0;
}

int SimBackend::Map(uint64_t mmap_offset, std::size_t size, int prot, void** addr) {
  if (getpid() != self_.pid) return -ECHILD;
  if ((mmap_offset & (CSM_GRANULE_SIZE - 1)) != 0) return -EINVAL;
  if ((prot & ~(PROT_READ | PROT_WRITE)) != 0) return -EINVAL;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = local_.find(mmap_offset / CSM_GRANULE_SIZE);
  if (it == local_.end() || it->second.released) return -EINVAL;
  LocalRegion& rec = it->second;
  if (size != rec.size) return -EINVAL;
  if (rec.ended != 0) return -rec.ended;
  if ((prot & PROT_WRITE) && !rec.writable) return -EACCES;
  // The region file of a read-only share is opened O_RDONLY, so the kernel
  // itself refuses a later mprotect(PROT_WRITE) on this mapping.
  void* p = mmap(nullptr, size, prot, MAP_SHARED, rec.fd, 0);
  if (p == MAP_FAILED) return -errno;
  rec.maps.push_back(p);
  *addr = p;
  return 0;
}

int SimBackend::Unmap(void* addr, std::size_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = local_.begin(); it != local_.end(); ++it) {
    auto& maps = it->second.maps;
    auto m = std::find(maps.begin(), maps.end(), addr);
    if (m == maps.end()) continue;
    if (size != it->second.size) return -EINVAL;
    munmap(addr, size);
    maps.erase(m);
    if (it->second.released && maps.empty()) {
      if (it->second.fd >= 0) close(it->second.fd);
      local_.erase(it);
    }
    return 0;
  }
  return -EINVAL;
}

void SimBackend::EndLocal(LocalRegion& rec, int reason) {
  for (void* addr : rec.maps) {
    // Replace in place rather than munmap: the range stays reserved, so a
    // stale pointer faults instead of hitting whatever is mapped there next.
    mmap(addr, rec.size, PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
         0);
  }
  if (rec.fd >= 0) close(rec.fd);
  rec.fd = -1;
  if (rec.ended == 0) rec.ended = reason;
}

void SimBackend::EraseIfDone(uint64_t region) {
  auto it = local_.find(region);
  if (it != local_.end() && it->second.released && it->second.maps.empty()) local_.erase(it);
}

}  // namespace csm::sim
