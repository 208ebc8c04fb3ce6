// Region and share commands of the simulator: create, share, revoke,
// destroy, attach, detach, info and listing. Rules are the model's
// (docs/device-api.md); errnos are the UAPI's.
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "sim_args.h"
#include "sim_backend.h"

namespace csm::sim {
namespace {

uint32_t RegionStateFor(int ended) {
  switch (ended) {
    case 0: return CSM_REGION_ACTIVE;
    case EKEYREVOKED: return CSM_REGION_REVOKED;
    case ENOLINK: return CSM_REGION_GONE;
    default: return CSM_REGION_DESTROYED;
  }
}

}  // namespace

bool SimBackend::IsParty(SimTable& t, const RegionSlot& r, uint64_t realm) {
  if (r.provider == realm) return true;
  ShareSlot* s = t.ShareOf(r.id, realm);
  return s != nullptr && s->state == CSM_SHARE_ATTACHED;
}

int SimBackend::DoCreate(csm_create* a) {
  if (a->flags != 0 || a->__pad != 0 || !AllZero(a->reserved)) return -EINVAL;
  if (a->size == 0 || a->size % CSM_GRANULE_SIZE != 0) return -EINVAL;
  if (a->size > kMaxRegionSize) return -E2BIG;
  std::unique_ptr<Transaction> tx = BeginSwept();
  if (!tx) return -EIO;
  SimTable& t = tx->table();
  RegionSlot* r = t.AllocRegion();
  if (r == nullptr) return -ENOSPC;
  std::string file = paths_.RegionFile(r->id);
  int fd = open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return -errno;
  // tmpfs files are sparse: reserve now so a full /dev/shm fails here with
  // ENOMEM instead of as SIGBUS on first touch.
  int err = posix_fallocate(fd, 0, static_cast<off_t>(a->size));
  if (err != 0) {
    close(fd);
    unlink(file.c_str());
    return err == ENOSPC ? -ENOMEM : -err;
  }
  CrashPoint("create.file_made");
  r->size = a->size;
  r->provider = realm_;
  __atomic_store_n(&r->state, kRegionLive, __ATOMIC_RELEASE);
  a->region_id = r->id;
  a->mmap_offset = r->id * CSM_GRANULE_SIZE;
  std::lock_guard<std::mutex> lock(mu_);
  local_[r->id] = LocalRegion{.region = r->id, .share = 0, .provider = realm_, .size = a->size,
                              .is_provider = true, .writable = true, .fd = fd};
  return 0;
}

int SimBackend::DoShare(csm_share* a) {
  if (a->flags != 0 || !AllZero(a->reserved)) return -EINVAL;
  if (a->perm != CSM_PERM_RO && a->perm != CSM_PERM_RW) return -EINVAL;
  std::unique_ptr<Transaction> tx = BeginSwept();
  if (!tx) return -EIO;
  SimTable& t = tx->table();
  RegionSlot* r = t.FindRegion(a->region_id);
  if (r == nullptr) return -t.RegionEndedErrno(a->region_id);
  if (r->provider != realm_) return t.ShareOf(r->id, realm_) ? -EPERM : -EACCES;
  if (a->peer_realm_id == realm_) return -EINVAL;
  if (t.FindRealm(a->peer_realm_id) == nullptr) return -ESRCH;
  if (t.ShareOf(r->id, a->peer_realm_id) != nullptr) return -EEXIST;
  ShareSlot* s = t.AllocShare();
  if (s == nullptr) return -ENOSPC;
  s->region = r->id;
  s->provider = realm_;
  s->consumer = a->peer_realm_id;
  s->perm = a->perm;
  CrashPoint("share.filled");
  __atomic_store_n(&s->state, static_cast<uint32_t>(CSM_SHARE_GRANTED), __ATOMIC_RELEASE);
  a->share_id = s->id;
  tx->effects().Kick(realm_);  // our agent starts watching the new peer
  return 0;
}

int SimBackend::DoRevoke(csm_revoke* a) {
  if (a->flags != 0 || a->__pad != 0 || !AllZero(a->reserved)) return -EINVAL;
  uint32_t slot_index;
  {
    std::unique_ptr<Transaction> tx = BeginSwept();
    if (!tx) return -EIO;
    SimTable& t = tx->table();
    ShareSlot* s = t.FindShare(a->share_id);
    if (s == nullptr) {
      int why = t.ShareEndedErrno(a->share_id);
      return why == EKEYREVOKED ? -EALREADY : -why;
    }
    if (s->provider != realm_) return s->consumer == realm_ ? -EPERM : -EACCES;
    if (s->state == CSM_SHARE_REVOKING) return -EALREADY;
    if (s->state == CSM_SHARE_GRANTED) {
      t.FreeShare(s, EKEYREVOKED);  // nobody mapped it: done
      return 0;
    }
    __atomic_store_n(&s->state, static_cast<uint32_t>(CSM_SHARE_REVOKING), __ATOMIC_RELEASE);
    t.PushEvent(s->consumer, CSM_EVENT_REVOKED, s->region, s->id, realm_);
    slot_index = static_cast<uint32_t>(s - t.share_at(0));
  }
  return WaitRevoked(a->share_id, slot_index);
}

// Waits until the consumer's agent has replaced its mapping and freed the
// share, or the consumer is gone (then the sweep frees it), or the timeout.
int SimBackend::WaitRevoked(uint64_t share, uint32_t slot_index) {
  const absl::Time deadline = absl::Now() + options_.sim_revoke_timeout;
  uint32_t* word = &state_->table()->shares[slot_index].state;
  for (;;) {
    {
      std::unique_ptr<Transaction> tx = BeginSwept();
      if (!tx) return -EIO;
      SimTable& t = tx->table();
      ShareSlot* s = t.share_at(slot_index);
      if (s->id != share || s->state != CSM_SHARE_REVOKING) return 0;
      if (absl::Now() >= deadline) {
        t.FreeShare(s, EKEYREVOKED);
        return -ETIMEDOUT;
      }
    }
    // Wake on the consumer's ack; every 50 ms re-check that it still lives.
    absl::Duration slice = std::min(deadline - absl::Now(), absl::Milliseconds(50));
    if (slice < absl::ZeroDuration()) slice = absl::ZeroDuration();
    timespec ts = absl::ToTimespec(slice);
    syscall(SYS_futex, word, FUTEX_WAIT, static_cast<uint32_t>(CSM_SHARE_REVOKING), &ts, nullptr,
            0);
  }
}

int SimBackend::DoDestroy(csm_destroy* a) {
  if ((a->flags & ~CSM_DESTROY_FORCE) != 0 || a->__pad != 0 || !AllZero(a->reserved)) {
    return -EINVAL;
  }
  std::unique_ptr<Transaction> tx = BeginSwept();
  if (!tx) return -EIO;
  SimTable& t = tx->table();
  RegionSlot* r = t.FindRegion(a->region_id);
  if (r == nullptr) return -t.RegionEndedErrno(a->region_id);
  if (r->provider != realm_) return t.ShareOf(r->id, realm_) ? -EPERM : -EACCES;
  if (t.LiveShares(r->id) > 0 && !(a->flags & CSM_DESTROY_FORCE)) return -EBUSY;
  t.TeardownRegion(r, EIDRM, CSM_EVENT_DESTROYED);
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = local_.find(a->region_id); it != local_.end()) {
    EndLocal(it->second, EIDRM);
    it->second.released = true;
    EraseIfDone(a->region_id);
  }
  return 0;
}

int SimBackend::DoAttach(csm_attach* a) {
  if (a->flags != 0 || !AllZero(a->reserved)) return -EINVAL;
  if (a->size % CSM_GRANULE_SIZE != 0) return -EINVAL;
  std::unique_ptr<Transaction> tx = BeginSwept();
  if (!tx) return -EIO;
  SimTable& t = tx->table();
  ShareSlot* s = t.FindShare(a->share_id);
  if (s == nullptr) return -t.ShareEndedErrno(a->share_id);
  if (s->consumer != realm_) return s->provider == realm_ ? -EPERM : -EACCES;
  if (s->state == CSM_SHARE_ATTACHED) return -EEXIST;
  if (s->state == CSM_SHARE_REVOKING) return -EKEYREVOKED;
  RegionSlot* r = t.FindRegion(s->region);
  if (r == nullptr) return -t.RegionEndedErrno(s->region);
  if (a->size != 0 && a->size != r->size) return -EINVAL;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = local_.find(r->id); it != local_.end() && !it->second.released) return -EEXIST;
  const bool writable = s->perm == CSM_PERM_RW;
  int fd = open(paths_.RegionFile(r->id).c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return -errno;
  __atomic_store_n(&s->state, static_cast<uint32_t>(CSM_SHARE_ATTACHED), __ATOMIC_RELEASE);
  t.PushEvent(s->provider, CSM_EVENT_ATTACHED, r->id, s->id, realm_);
  tx->effects().Kick(realm_);  // our agent starts watching the provider
  a->size = r->size;
  a->perm = s->perm;
  a->region_id = r->id;
  a->provider_realm_id = r->provider;
  a->mmap_offset = r->id * CSM_GRANULE_SIZE;
  if (auto it = local_.find(r->id); it != local_.end()) {
    for (void* addr : it->second.maps) munmap(addr, it->second.size);
    local_.erase(it);
  }
  local_[r->id] = LocalRegion{.region = r->id, .share = s->id, .provider = r->provider,
                              .size = r->size, .is_provider = false, .writable = writable,
                              .fd = fd};
  return 0;
}

int SimBackend::DoDetach(csm_detach* a) {
  if (!AllZero(a->reserved)) return -EINVAL;
  std::unique_ptr<Transaction> tx = BeginSwept();
  if (!tx) return -EIO;
  SimTable& t = tx->table();
  ShareSlot* s = t.FindShare(a->share_id);
  bool attached = false;
  if (s != nullptr && s->consumer == realm_) {
    if (s->state == CSM_SHARE_ATTACHED) {
      __atomic_store_n(&s->state, static_cast<uint32_t>(CSM_SHARE_GRANTED), __ATOMIC_RELEASE);
      t.PushEvent(s->provider, CSM_EVENT_DETACHED, s->region, s->id, realm_);
      attached = true;
    } else if (s->state == CSM_SHARE_REVOKING) {
      t.FreeShare(s, EKEYREVOKED);  // unmapping below is the revoker's ack
      attached = true;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [region, rec] : local_) {
    if (rec.is_provider || rec.share != a->share_id || rec.released) continue;
    EndLocal(rec, ENOENT);
    rec.released = true;
    EraseIfDone(region);
    return 0;
  }
  if (attached) return 0;
  if (s != nullptr) return s->consumer == realm_ ? -ENOENT : -EACCES;
  return -t.ShareEndedErrno(a->share_id);
}

void SimBackend::FillRegionInfo(SimTable& t, const LocalRegion& rec, csm_region_info* out) {
  memset(out, 0, sizeof(*out));
  out->region_id = rec.region;
  out->size = rec.size;
  out->provider_realm_id = rec.provider;
  out->share_id = rec.share;
  out->mmap_offset = rec.region * CSM_GRANULE_SIZE;
  out->role = rec.is_provider ? CSM_ROLE_PROVIDER : CSM_ROLE_CONSUMER;
  out->perm = rec.writable ? CSM_PERM_RW : CSM_PERM_RO;
  int ended = rec.ended;
  if (ended == 0 && t.FindRegion(rec.region) == nullptr) ended = t.RegionEndedErrno(rec.region);
  if (ended == 0 && !rec.is_provider) {
    ShareSlot* s = t.FindShare(rec.share);
    if (s == nullptr) ended = t.ShareEndedErrno(rec.share);
    else if (s->state == CSM_SHARE_REVOKING) ended = EKEYREVOKED;
  }
  out->state = RegionStateFor(ended);
  if (rec.is_provider && ended == 0) out->nr_shares = t.LiveShares(rec.region);
}

int SimBackend::DoRegionInfo(csm_region_info* a) {
  if (!AllZero(a->reserved)) return -EINVAL;
  std::unique_ptr<Transaction> tx = BeginSwept();
  if (!tx) return -EIO;
  SimTable& t = tx->table();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = local_.find(a->region_id);
  if (it == local_.end() || it->second.released) {
    if (t.FindRegion(a->region_id) != nullptr) return -EACCES;
    return -t.RegionEndedErrno(a->region_id);
  }
  FillRegionInfo(t, it->second, a);
  return 0;
}

int SimBackend::DoListRegions(csm_list* a) {
  if (a->flags != 0 || a->region_id != 0 || !AllZero(a->reserved)) return -EINVAL;
  if (a->entry_size != sizeof(csm_region_info)) return -EINVAL;
  if (a->capacity != 0 && a->entries_ptr == 0) return -EFAULT;
  std::unique_ptr<Transaction> tx = BeginSwept();
  if (!tx) return -EIO;
  SimTable& t = tx->table();
  std::lock_guard<std::mutex> lock(mu_);
  auto* out = reinterpret_cast<csm_region_info*>(static_cast<uintptr_t>(a->entries_ptr));
  uint32_t count = 0;
  for (const auto& [region, rec] : local_) {
    if (rec.released) continue;
    if (count < a->capacity) FillRegionInfo(t, rec, &out[count]);
    ++count;
  }
  a->count = count;
  return 0;
}

int SimBackend::DoListShares(csm_list* a) {
  if (a->flags != 0 || !AllZero(a->reserved)) return -EINVAL;
  if (a->entry_size != sizeof(csm_share_info)) return -EINVAL;
  if (a->capacity != 0 && a->entries_ptr == 0) return -EFAULT;
  std::unique_ptr<Transaction> tx = BeginSwept();
  if (!tx) return -EIO;
  SimTable& t = tx->table();
  RegionSlot* r = t.FindRegion(a->region_id);
  if (r == nullptr) return -t.RegionEndedErrno(a->region_id);
  if (r->provider != realm_) return t.ShareOf(r->id, realm_) ? -EPERM : -EACCES;
  auto* out = reinterpret_cast<csm_share_info*>(static_cast<uintptr_t>(a->entries_ptr));
  uint32_t count = 0;
  for (uint32_t i = 0; i < kMaxShares; ++i) {
    const ShareSlot* s = t.share_at(i);
    if (s->state == kShareFree || s->region != r->id) continue;
    if (count < a->capacity) {
      memset(&out[count], 0, sizeof(out[count]));
      out[count].share_id = s->id;
      out[count].region_id = s->region;
      out[count].peer_realm_id = s->consumer;
      out[count].perm = s->perm;
      out[count].state = s->state;
    }
    ++count;
  }
  a->count = count;
  return 0;
}

}  // namespace csm::sim
