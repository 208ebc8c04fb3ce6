#include "sim_table.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "process_identity.h"

namespace csm::sim {
namespace {

constexpr uint64_t kSlotMask = (1u << kSlotBits) - 1;

bool IsShareState(uint32_t s) {
  return s == kShareFree || s == CSM_SHARE_GRANTED || s == CSM_SHARE_ATTACHED ||
         s == CSM_SHARE_REVOKING;
}

}  // namespace

uint64_t SimTable::NewId(uint32_t slot) {
  uint64_t seq = t_->next_seq++;
  return (seq << kSlotBits) | slot;
}

RealmSlot* SimTable::FindRealm(uint64_t id) {
  uint64_t i = id & kSlotMask;
  if (id == 0 || i >= kMaxRealms) return nullptr;
  RealmSlot* r = &t_->realms[i];
  return r->id == id && r->state == kRealmLive ? r : nullptr;
}

RegionSlot* SimTable::FindRegion(uint64_t id) {
  uint64_t i = id & kSlotMask;
  if (id == 0 || i >= kMaxRegions) return nullptr;
  RegionSlot* r = &t_->regions[i];
  return r->id == id && r->state == kRegionLive ? r : nullptr;
}

ShareSlot* SimTable::FindShare(uint64_t id) {
  uint64_t i = id & kSlotMask;
  if (id == 0 || i >= kMaxShares) return nullptr;
  ShareSlot* s = &t_->shares[i];
  return s->id == id && s->state != kShareFree ? s : nullptr;
}

int SimTable::RegionEndedErrno(uint64_t id) const {
  uint64_t i = id & kSlotMask;
  if (id == 0 || i >= kMaxRegions) return ENOENT;
  const RegionSlot& r = t_->regions[i];
  return r.ended_id == id && r.ended_errno > 0 ? r.ended_errno : ENOENT;
}

int SimTable::ShareEndedErrno(uint64_t id) const {
  uint64_t i = id & kSlotMask;
  if (id == 0 || i >= kMaxShares) return ENOENT;
  const ShareSlot& s = t_->shares[i];
  return s.ended_id == id && s.ended_errno > 0 ? s.ended_errno : ENOENT;
}

ShareSlot* SimTable::ShareOf(uint64_t region, uint64_t consumer) {
  for (ShareSlot& s : t_->shares) {
    if (s.state != kShareFree && s.region == region && s.consumer == consumer) return &s;
  }
  return nullptr;
}

uint32_t SimTable::LiveShares(uint64_t region) const {
  uint32_t n = 0;
  for (const ShareSlot& s : t_->shares) n += s.state != kShareFree && s.region == region;
  return n;
}

// Allocation starts at a rotating index so a freed slot (and the record of
// why its last ID ended) is reused as late as possible.
RealmSlot* SimTable::AllocRealm() {
  for (uint32_t k = 0; k < kMaxRealms; ++k) {
    uint32_t i = static_cast<uint32_t>((t_->next_seq + k) % kMaxRealms);
    RealmSlot* r = &t_->realms[i];
    if (r->state != kRealmFree) continue;
    memset(r, 0, sizeof(*r));
    r->id = NewId(i);
    return r;
  }
  return nullptr;
}

RegionSlot* SimTable::AllocRegion() {
  for (uint32_t k = 0; k < kMaxRegions; ++k) {
    uint32_t i = static_cast<uint32_t>((t_->next_seq + k) % kMaxRegions);
    RegionSlot* r = &t_->regions[i];
    if (r->state != kRegionFree) continue;
    r->id = NewId(i);
    return r;
  }
  return nullptr;
}

ShareSlot* SimTable::AllocShare() {
  for (uint32_t k = 0; k < kMaxShares; ++k) {
    uint32_t i = static_cast<uint32_t>((t_->next_seq + k) % kMaxShares);
    ShareSlot* s = &t_->shares[i];
    if (s->state != kShareFree) continue;
    s->id = NewId(i);
    return s;
  }
  return nullptr;
}

void SimTable::PushEvent(uint64_t realm, uint32_t type, uint64_t region, uint64_t share,
                         uint64_t peer) {
  RealmSlot* r = FindRealm(realm);
  if (r == nullptr) return;  // nobody to tell
  if (r->ev_head - r->ev_tail >= kEventQueueLen) {
    r->ev_lost = 1;
    ++t_->events_lost;
    fx_->Kick(realm);
    return;
  }
  csm_event& e = r->events[r->ev_head % kEventQueueLen];
  memset(&e, 0, sizeof(e));
  e.type = type;
  e.flags = r->ev_lost ? CSM_EVENT_F_LOST : 0;
  e.seq = r->ev_head;
  e.region_id = region;
  e.share_id = share;
  e.realm_id = peer;
  r->ev_lost = 0;
  ++r->ev_head;
  fx_->Kick(realm);
}

size_t SimTable::TakeEvents(RealmSlot* r, csm_event* out, size_t max) {
  if (r->ev_head - r->ev_tail > kEventQueueLen) r->ev_tail = r->ev_head - kEventQueueLen;
  size_t n = std::min<uint64_t>(r->ev_head - r->ev_tail, max);
  for (size_t k = 0; k < n; ++k) out[k] = r->events[(r->ev_tail + k) % kEventQueueLen];
  r->ev_tail += n;
  return n;
}

void SimTable::FreeShare(ShareSlot* s, int reason) {
  if (s->state == kShareFree) return;
  if (s->state == CSM_SHARE_REVOKING) fx_->futex_wake.push_back(&s->state);
  s->ended_id = s->id;
  s->ended_errno = reason;
  // The state word doubles as the revoker's futex: publish it last.
  __atomic_store_n(&s->state, kShareFree, __ATOMIC_RELEASE);
}

void SimTable::RemoveRegionFiles(uint64_t region) {
  std::string file = paths_.RegionFile(region);
  // Truncating first makes every process's mapping of the region fault
  // (SIGBUS) at once, whether or not that process cooperates. Best effort:
  // the unlink below removes the file either way.
  if (truncate(file.c_str(), 0) != 0) {
  }
  unlink(file.c_str());
  if (DIR* d = opendir(paths_.dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const SimPaths::Entry name = SimPaths::ParseName(e->d_name);
      if (name.kind == SimPaths::Entry::Kind::kDoorbell && name.region == region) {
        unlinkat(dirfd(d), e->d_name, 0);
      }
    }
    closedir(d);
  }
}

void SimTable::TeardownRegion(RegionSlot* r, int reason, uint32_t consumer_event) {
  const uint64_t id = r->id;
  for (ShareSlot& s : t_->shares) {
    if (s.state == kShareFree || s.region != id) continue;
    if (s.state != CSM_SHARE_GRANTED) PushEvent(s.consumer, consumer_event, id, s.id, s.provider);
    FreeShare(&s, reason);
    CrashPoint("teardown.share_freed");
  }
  RemoveRegionFiles(id);
  r->ended_id = id;
  r->ended_errno = reason;
  __atomic_store_n(&r->state, kRegionFree, __ATOMIC_RELEASE);
}

void SimTable::ReleaseRealm(RealmSlot* realm) {
  const uint64_t id = realm->id;
  realm->state = kRealmDying;  // FindRealm no longer sees it; a crash resumes here
  unlink(paths_.KickFile(id).c_str());  // nobody kicks a dying realm
  for (RegionSlot& r : t_->regions) {
    if (r.state == kRegionLive && r.provider == id) TeardownRegion(&r, ENOLINK, CSM_EVENT_GONE);
  }
  for (ShareSlot& s : t_->shares) {
    if (s.state == kShareFree || s.consumer != id) continue;
    PushEvent(s.provider, CSM_EVENT_GONE, s.region, s.id, id);
    FreeShare(&s, ENOLINK);
  }
  CrashPoint("release.before_free");
  __atomic_store_n(&realm->state, kRealmFree, __ATOMIC_RELEASE);
}

int SimTable::SweepDeadRealms() {
  int released = 0;
  for (RealmSlot& r : t_->realms) {
    if (r.state == kRealmDying ||
        (r.state == kRealmLive &&
         !IsAlive({static_cast<pid_t>(r.pid), r.start_time}))) {
      ReleaseRealm(&r);
      ++released;
    }
  }
  return released;
}

void SimTable::Repair() {
  if (t_->next_seq == 0) t_->next_seq = 1;
  for (RealmSlot& r : t_->realms) {
    if (r.state > kRealmDying) r.state = kRealmDying;  // torn: release it
  }
  SweepDeadRealms();
  for (RegionSlot& r : t_->regions) {
    if (r.state > kRegionLive) r.state = kRegionLive;
    if (r.state == kRegionLive && FindRealm(r.provider) == nullptr) {
      TeardownRegion(&r, ENOLINK, CSM_EVENT_GONE);
    }
  }
  for (ShareSlot& s : t_->shares) {
    if (!IsShareState(s.state)) s.state = CSM_SHARE_GRANTED;
    if (s.state == kShareFree) continue;
    RegionSlot* r = FindRegion(s.region);
    if (r == nullptr || r->provider != s.provider || FindRealm(s.consumer) == nullptr) {
      if (s.state != CSM_SHARE_GRANTED) {
        PushEvent(s.consumer, CSM_EVENT_GONE, s.region, s.id, s.provider);
      }
      PushEvent(s.provider, CSM_EVENT_GONE, s.region, s.id, s.consumer);
      FreeShare(&s, ENOLINK);
    }
  }
  // Files whose region or realm is not live: left by a holder that died
  // between creating them and committing the slot, or mid-teardown.
  if (DIR* d = opendir(paths_.dir.c_str())) {
    while (dirent* e = readdir(d)) {
      using Kind = SimPaths::Entry::Kind;
      const SimPaths::Entry name = SimPaths::ParseName(e->d_name);
      const bool stale = name.kind == Kind::kKick
                             ? FindRealm(name.realm) == nullptr
                             : name.kind != Kind::kOther && FindRegion(name.region) == nullptr;
      if (stale) unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
  }
  // The dead holder never sent the kicks for events it queued: send them now.
  for (const RealmSlot& r : t_->realms) {
    if (r.state == kRealmLive && r.ev_head != r.ev_tail) fx_->Kick(r.id);
  }
}

}  // namespace csm::sim
