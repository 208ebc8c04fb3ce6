// The simulator's per-realm agent thread: the cooperation the simulator
// needs to make revocation real inside this process (the kernel zaps
// mappings itself). It wakes on a kick (a datagram on the realm's socket file
// in the sim directory: "your event queue has records") or on a watched peer's pidfd
// (the peer died), then:
//  - takes this realm's events from the table;
//  - REVOKED: replaces the mapping with PROT_NONE, then frees the share,
//    which wakes the revoker (it waits for exactly this ack);
//  - DESTROYED / GONE of a region we consume: the same local unmapping;
//  - forwards every event to the user's event stream (dropped and flagged
//    CSM_EVENT_F_LOST if the user does not read it).
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <set>
#include <vector>

#include "sim_backend.h"

namespace csm::sim {
namespace {

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

void SimBackend::Sweep() {
  if (absl::StatusOr<std::unique_ptr<Transaction>> tx = Tx(); tx.ok()) {
    (*tx)->table().SweepDeadRealms();
  }
}

void SimBackend::AgentMain() {
  // Busy (may allocate) except inside poll(): see agent_fork_guard.h.
  std::unique_lock<std::mutex> busy(agent_busy_);
  agent_started_.release();
  std::map<uint64_t, int> watched;  // peer realm -> pidfd
  AgentRefreshWatches(&watched);
  for (;;) {
    std::vector<pollfd> fds = {{stop_fd_, POLLIN, 0}, {kick_fd_, POLLIN, 0}};
    for (const auto& [realm, pidfd] : watched) fds.push_back({pidfd, POLLIN, 0});
    busy.unlock();
    const int ready = poll(fds.data(), fds.size(), -1);
    const int poll_errno = errno;
    busy.lock();
    if (ready < 0) {
      if (poll_errno == EINTR) continue;
      break;
    }
    if (fds[0].revents) break;
    bool refresh = false;
    if (fds[1].revents) {
      char buf[64];
      while (recv(kick_fd_, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
      }
      AgentProcessEvents();
      refresh = true;
    }
    for (size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents) {
        Sweep();  // a peer exited: release it
        AgentProcessEvents();
        refresh = true;
        break;
      }
    }
    if (refresh) AgentRefreshWatches(&watched);
  }
  for (const auto& [realm, pidfd] : watched) close(pidfd);
}

void SimBackend::AgentProcessEvents() {
  bool lost = false;  // our queue overflowed: some event never reached us
  for (;;) {
    csm_event batch[16];
    size_t n = 0;
    {
      absl::StatusOr<std::unique_ptr<Transaction>> tx = Tx();
      if (!tx.ok()) return;
      RealmSlot* me = (*tx)->table().FindRealm(realm_);
      if (me == nullptr) return;
      lost |= me->ev_lost != 0;
      n = (*tx)->table().TakeEvents(me, batch, 16);
    }
    if (n == 0) break;
    for (size_t i = 0; i < n; ++i) {
      lost |= (batch[i].flags & CSM_EVENT_F_LOST) != 0;
      AgentHandle(batch[i]);
    }
  }
  if (lost) AgentReconcile();
}

// A dropped REVOKED, DESTROYED or GONE would have left a mapping the table
// no longer allows: compare every region we consume with the table, end
// what is not attached any more, and acknowledge a revoke still waiting.
void SimBackend::AgentReconcile() {
  absl::StatusOr<std::unique_ptr<Transaction>> tx = Tx();
  if (!tx.ok()) return;
  SimTable& t = (*tx)->table();
  std::lock_guard<std::mutex> lock(mu_);  // order: table lock before mu_
  for (auto& [id, rec] : local_) {
    if (rec.is_provider || rec.released || rec.ended != 0) continue;
    ShareSlot* s = t.FindShare(rec.share);
    if (s != nullptr && s->consumer == realm_ && s->state == CSM_SHARE_ATTACHED) continue;
    int reason = EKEYREVOKED;
    if (s == nullptr) {
      const int why = t.ShareEndedErrno(rec.share);
      if (why != ENOENT) reason = why;
    }
    EndLocal(rec, reason);
    if (s != nullptr && s->consumer == realm_ && s->state == CSM_SHARE_REVOKING) {
      t.FreeShare(s, EKEYREVOKED);  // the ack the revoker waits for
    }
  }
}

void SimBackend::AgentHandle(const csm_event& e) {
  int reason = 0;
  switch (e.type) {
    case CSM_EVENT_REVOKED: reason = EKEYREVOKED; break;
    case CSM_EVENT_DESTROYED: reason = EIDRM; break;
    case CSM_EVENT_GONE: reason = ENOLINK; break;
    default: break;
  }
  if (reason != 0) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = local_.find(e.region_id);
      // Only a region we consume from the peer concerned: a GONE about one
      // of our consumers leaves our own (provider) mapping alone.
      if (it != local_.end() && !it->second.is_provider && it->second.share == e.share_id) {
        EndLocal(it->second, reason);
      }
    }
    if (e.type == CSM_EVENT_REVOKED) {
      // Ack: the mapping is gone, so the share may end; wakes the revoker.
      if (absl::StatusOr<std::unique_ptr<Transaction>> tx = Tx(); tx.ok()) {
        ShareSlot* s = (*tx)->table().FindShare(e.share_id);
        if (s != nullptr && s->consumer == realm_ && s->state == CSM_SHARE_REVOKING) {
          (*tx)->table().FreeShare(s, EKEYREVOKED);
        }
      }
    }
  }
  AgentForward(e);
}

void SimBackend::AgentForward(csm_event e) {
  if (ev_lost_pending_) e.flags |= CSM_EVENT_F_LOST;
  ssize_t n = send(ev_agent_fd_, &e, sizeof(e), MSG_DONTWAIT | MSG_NOSIGNAL);
  ev_lost_pending_ = n != static_cast<ssize_t>(sizeof(e));
}

// Watches the pidfd of every realm we share with (either direction), so a
// peer's death is noticed at once rather than at the next operation.
void SimBackend::AgentRefreshWatches(std::map<uint64_t, int>* watched) {
  std::map<uint64_t, ProcessIdentity> peers;
  {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = Tx();
    if (!tx.ok()) return;
    SimTable& t = (*tx)->table();
    for (uint32_t i = 0; i < kMaxShares; ++i) {
      const ShareSlot* s = t.share_at(i);
      if (s->state == kShareFree) continue;
      uint64_t peer = s->provider == realm_ ? s->consumer : s->consumer == realm_ ? s->provider : 0;
      if (peer == 0 || peers.count(peer)) continue;
      if (RealmSlot* r = t.FindRealm(peer)) peers[peer] = {r->pid, r->start_time};
    }
  }
  for (auto it = watched->begin(); it != watched->end();) {
    if (peers.count(it->first)) {
      ++it;
    } else {
      close(it->second);
      it = watched->erase(it);
    }
  }
  bool sweep = false;
  for (const auto& [realm, who] : peers) {
    if (watched->count(realm) || who.pid == self_.pid) continue;
    int pidfd = PidfdOpen(who.pid);
    // Opened before checking the start time: if it matches now, the pidfd
    // is the peer's own process and not a later holder of its pid.
    if (pidfd < 0 || ProcessStartTime(who.pid) != who.start_time) {
      if (pidfd >= 0) close(pidfd);
      sweep = true;
      continue;
    }
    (*watched)[realm] = pidfd;
  }
  if (sweep) Sweep();
}

}  // namespace csm::sim
