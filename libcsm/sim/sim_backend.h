// The simulator backend: processes on one host play the realms. It answers
// the same CSM_IOC_* commands as /dev/csm (include/csm/uapi/csm.h) from a
// state table shared through <sim dir>/state, with regions as files in the
// sim dir. It gives NO confidentiality: any process of the same user can
// read every region. See docs/sim-backend.md.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

#include "csm/backend.h"
#include "process_identity.h"
#include "sim_paths.h"
#include "sim_state.h"
#include "sim_table.h"

namespace csm::sim {

class SimBackend final : public Backend {
 public:
  static absl::StatusOr<std::shared_ptr<SimBackend>> Create(const BackendOptions& options);
  ~SimBackend() override;

  int Call(unsigned long cmd, void* arg) override;
  int Map(uint64_t mmap_offset, std::size_t size, int prot, void** addr) override;
  int Unmap(void* addr, std::size_t size) override;
  std::string Where() const override { return paths_.dir; }

  uint64_t realm_id() const { return realm_; }
  const SimPaths& paths() const { return paths_; }
  uint64_t ring_drops() const { return ring_drops_.load(std::memory_order_relaxed); }

 private:
  // What this realm holds of a region: the per-open context /dev/csm keeps.
  struct LocalRegion {
    uint64_t region = 0;
    uint64_t share = 0;  // consumer: the share attached through
    uint64_t provider = 0;
    uint64_t size = 0;
    bool is_provider = false;
    bool writable = false;
    int fd = -1;                // the region file, opened per the permission
    int ended = 0;              // why it ended for us (errno), 0 while live
    bool released = false;      // detached / destroyed by us
    std::vector<void*> maps = {};
  };

  SimBackend(SimPaths paths, std::unique_ptr<StateFile> state, const BackendOptions& options);
  absl::Status Register();
  absl::StatusOr<std::unique_ptr<Transaction>> Tx();
  // A transaction after releasing dead realms (every command starts so);
  // nullptr if the state cannot be locked.
  std::unique_ptr<Transaction> BeginSwept();

  // ioctl handlers, one per CSM_IOC_* command.
  int DoVersion(csm_version* a);
  int DoRealm(csm_realm* a);
  int DoCreate(csm_create* a);
  int DoShare(csm_share* a);
  int DoRevoke(csm_revoke* a);
  int DoDestroy(csm_destroy* a);
  int DoAttach(csm_attach* a);
  int DoDetach(csm_detach* a);
  int DoRegionInfo(csm_region_info* a);
  int DoListRegions(csm_list* a);
  int DoListShares(csm_list* a);
  int DoAttest(csm_attest* a);
  int DoDoorbellFd(csm_doorbell_fd* a);
  int DoRing(csm_ring* a);
  int DoEventFd(csm_event_fd* a);

  int WaitRevoked(uint64_t share, uint32_t slot_index);
  bool IsParty(SimTable& t, const RegionSlot& r, uint64_t realm);
  int DoorbellTarget(SimTable& t, uint64_t region, uint64_t realm, std::string* path);
  void FillRegionInfo(SimTable& t, const LocalRegion& rec, csm_region_info* out);
  // Makes every mapping of `rec` fault (PROT_NONE in place) and closes its
  // file: how revoke reaches this process's address space.
  void EndLocal(LocalRegion& rec, int reason);
  void EraseIfDone(uint64_t region);

  // The agent thread: takes this realm's events from the table, enforces
  // revocation locally, forwards events to the user's event fd and watches
  // peers' pidfds to notice their death.
  void AgentMain();
  void AgentProcessEvents();
  void AgentHandle(const csm_event& e);
  void AgentReconcile();  // after lost events: end what the table no longer allows
  void AgentForward(csm_event e);
  void AgentRefreshWatches(std::map<uint64_t, int>* watched);
  void Sweep();

  SimPaths paths_;
  std::unique_ptr<StateFile> state_;
  BackendOptions options_;
  ProcessIdentity self_;
  uint64_t realm_ = 0;
  int kick_fd_ = -1;      // bound to the realm's kick socket file
  int stop_fd_ = -1;      // eventfd: ends the agent
  int ev_agent_fd_ = -1;  // SEQPACKET pair: agent writes, user reads
  int ev_user_fd_ = -1;
  bool ev_lost_pending_ = false;  // agent thread only
  std::unique_ptr<std::thread> agent_;
  // Held by the agent except while it sleeps in poll() (agent_fork_guard.h).
  std::mutex agent_busy_;
  std::binary_semaphore agent_started_{0};  // the agent runs and holds agent_busy_
  std::atomic<uint64_t> ring_drops_{0};

  std::mutex mu_;  // order: table lock (Transaction) before mu_
  std::map<uint64_t, LocalRegion> local_;  // by region ID
};

}  // namespace csm::sim
