// Layout of the simulator's shared state table: one file (<sim dir>/state)
// mapped MAP_SHARED by every simulated realm on the host, guarded by one
// robust process-shared mutex.
//
// Crash safety: every mutation of a slot fills its fields first and stores
// the state word last, so a process killed mid-operation leaves each slot
// either untouched or complete. Multi-slot work (tearing a region down,
// releasing a dead realm) goes children-first (shares, then files, then the
// region, then the realm) and is idempotent, so whoever takes the lock next
// (EOWNERDEAD) simply re-runs it; see SimTable::Repair.
#pragma once

#include <pthread.h>

#include <cstdint>

#include "csm/uapi/csm.h"

namespace csm::sim {

inline constexpr uint64_t kStateMagic = 0x31746174534d5343ull;  // "CSMState1"
inline constexpr uint32_t kLayoutVersion = 1;

// Table sizes: one slot index fits in the low kSlotBits of every ID.
inline constexpr uint32_t kSlotBits = 12;
inline constexpr uint32_t kMaxRealms = 64;
inline constexpr uint32_t kMaxRegions = 256;
inline constexpr uint32_t kMaxShares = 1024;
inline constexpr uint32_t kEventQueueLen = 64;  // per realm; overflow is flagged
inline constexpr uint64_t kMaxRegionSize = 4ull << 30;
static_assert(kMaxShares <= (1u << kSlotBits));

enum RealmState : uint32_t { kRealmFree = 0, kRealmLive = 1, kRealmDying = 2 };
enum RegionState : uint32_t { kRegionFree = 0, kRegionLive = 1 };
// Share states reuse enum csm_share_state (GRANTED, ATTACHED, REVOKING); 0 is free.
inline constexpr uint32_t kShareFree = 0;

struct RealmSlot {
  uint64_t id;
  uint32_t state;       // RealmState
  int32_t pid;          // the process playing this realm
  uint64_t start_time;  // its /proc start time: pid + start time survive pid reuse
  uint64_t ev_head;     // events written (under the lock, by anyone)
  uint64_t ev_tail;     // events taken by the realm's agent
  uint32_t ev_lost;     // nonzero: flag the next event CSM_EVENT_F_LOST
  uint32_t pad;
  csm_event events[kEventQueueLen];
};

// A slot's ended_* fields remember the last ID it held and why it ended
// (an errno: EKEYREVOKED, EIDRM, ENOLINK) so stale IDs get precise errors
// until the slot is reused.
struct RegionSlot {
  uint64_t id;
  uint32_t state;  // RegionState
  uint32_t pad;
  uint64_t size;
  uint64_t provider;
  uint64_t ended_id;
  int32_t ended_errno;
  uint32_t pad2;
};

struct ShareSlot {
  uint64_t id;
  uint32_t state;  // kShareFree or enum csm_share_state; a futex word for revoke
  uint32_t perm;
  uint64_t region;
  uint64_t provider;
  uint64_t consumer;
  uint64_t ended_id;
  int32_t ended_errno;
  uint32_t pad;
};

struct Table {
  uint64_t magic;
  uint32_t version;
  uint32_t size;
  pthread_mutex_t lock;  // robust, process-shared
  uint64_t next_seq;     // ID generator; never reset while the file exists
  uint64_t repairs;      // times a crashed lock holder was recovered from
  uint64_t events_lost;
  RealmSlot realms[kMaxRealms];
  RegionSlot regions[kMaxRegions];
  ShareSlot shares[kMaxShares];
};

}  // namespace csm::sim
