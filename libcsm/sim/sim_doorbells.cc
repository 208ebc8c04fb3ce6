// Doorbells of the simulator: one named FIFO per (region, realm) in the sim
// dir. Both sides open it O_RDWR|O_NONBLOCK, so a ring never blocks, never
// raises SIGPIPE (a reader always exists) and lands even before the waiter
// first opens it; a full pipe (8192 pending rings) drops the ring.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "sim_args.h"
#include "sim_backend.h"

namespace csm::sim {
// Checks that the caller and `realm` are parties of a live region and
// makes sure the doorbell FIFO exists. Returns 0 or a negative errno.
int SimBackend::DoorbellTarget(SimTable& t, uint64_t region, uint64_t realm, std::string* path) {
  RegionSlot* r = t.FindRegion(region);
  if (r == nullptr) return -t.RegionEndedErrno(region);
  if (!IsParty(t, *r, realm_)) return -EACCES;
  // A peer may be rung as soon as it is granted a share: the provider can
  // set up its side before the consumer attaches.
  if (realm != r->provider && t.ShareOf(region, realm) == nullptr) return -ESRCH;
  *path = paths_.DoorbellFile(region, realm);
  // Created under the table lock, so teardown (also locked) cannot miss it.
  if (mkfifo(path->c_str(), 0600) != 0 && errno != EEXIST) return -errno;
  return 0;
}

int SimBackend::DoDoorbellFd(csm_doorbell_fd* a) {
  if ((a->flags & ~CSM_FD_CLOEXEC) != 0 || !AllZero(a->reserved)) return -EINVAL;
  absl::StatusOr<std::unique_ptr<Transaction>> tx = Tx();
  if (!tx.ok()) return -EIO;
  std::string path;
  uint64_t target = a->realm_id != 0 ? a->realm_id : realm_;
  if (int rc = DoorbellTarget((*tx)->table(), a->region_id, target, &path); rc != 0) return rc;
  int flags = O_RDWR | O_NONBLOCK | ((a->flags & CSM_FD_CLOEXEC) ? O_CLOEXEC : 0);
  int fd = open(path.c_str(), flags);
  if (fd < 0) return -errno;
  a->fd = fd;
  return 0;
}

int SimBackend::DoRing(csm_ring* a) {
  if (a->flags != 0 || a->__pad != 0 || !AllZero(a->reserved)) return -EINVAL;
  std::string path;
  {
    absl::StatusOr<std::unique_ptr<Transaction>> tx = Tx();
    if (!tx.ok()) return -EIO;
    if (int rc = DoorbellTarget((*tx)->table(), a->region_id, a->peer_realm_id, &path); rc != 0) {
      return rc;
    }
  }
  int fd = open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  const uint64_t one = 1;
  if (fd < 0 || write(fd, &one, sizeof(one)) != static_cast<ssize_t>(sizeof(one))) {
    ring_drops_.fetch_add(1, std::memory_order_relaxed);  // a hint: counted, not reported
  }
  if (fd >= 0) close(fd);
  return 0;
}

}  // namespace csm::sim
