// Operations on the locked state table. Every method assumes the caller
// holds the table lock (inside a Transaction). Methods that end things
// (FreeShare, TeardownRegion, ReleaseRealm) are idempotent and go
// children-first, so re-running them after a crash completes the work.
#pragma once

#include <cstdint>

#include "sim_layout.h"
#include "sim_paths.h"
#include "sim_state.h"

namespace csm::sim {

class SimTable {
 public:
  SimTable(Table* t, const SimPaths& paths, Effects* fx) : t_(t), paths_(paths), fx_(fx) {}

  // Lookups: nullptr if the ID is not live. The *EndedErrno variants say why
  // a non-live ID is not live (EKEYREVOKED, EIDRM, ENOLINK, else ENOENT).
  RealmSlot* FindRealm(uint64_t id);
  RegionSlot* FindRegion(uint64_t id);
  ShareSlot* FindShare(uint64_t id);
  int RegionEndedErrno(uint64_t id) const;
  int ShareEndedErrno(uint64_t id) const;
  ShareSlot* ShareOf(uint64_t region, uint64_t consumer);  // live share, or nullptr
  ShareSlot* share_at(uint32_t i) { return &t_->shares[i]; }
  RegionSlot* region_at(uint32_t i) { return &t_->regions[i]; }
  uint32_t LiveShares(uint64_t region) const;

  // Allocation: a free slot with a fresh ID written, state still free (the
  // caller fills the slot and stores the state last). nullptr when full.
  RealmSlot* AllocRealm();
  RegionSlot* AllocRegion();
  ShareSlot* AllocShare();

  // Appends an event to `realm`'s queue (dropped and flagged if full).
  void PushEvent(uint64_t realm, uint32_t type, uint64_t region, uint64_t share, uint64_t peer);
  // Takes up to `max` pending events of `realm`.
  size_t TakeEvents(RealmSlot* realm, csm_event* out, size_t max);

  void FreeShare(ShareSlot* s, int reason);
  // Ends a region for everyone: every share (consumers get `consumer_event`),
  // its file (truncated first so every mapping faults) and doorbells.
  void TeardownRegion(RegionSlot* r, int reason, uint32_t consumer_event);
  // Releases everything `realm` holds (it died or closed): regions it
  // provides are torn down, its attachments and shares released, peers get
  // CSM_EVENT_GONE.
  void ReleaseRealm(RealmSlot* realm);
  // Releases every realm whose process is gone. Returns how many.
  int SweepDeadRealms();
  // Full consistency pass after a lock holder died mid-operation.
  void Repair();

 private:
  uint64_t NewId(uint32_t slot);
  void RemoveRegionFiles(uint64_t region);

  Table* t_;
  const SimPaths& paths_;
  Effects* fx_;
};

}  // namespace csm::sim
