// csm::Device: the CSM model (realms, regions, shares, attachments,
// doorbells, events, attestation) over one backend: /dev/csm or the
// simulator. Both obey include/csm/uapi/csm.h, so programs behave the same
// on either.
//
//   auto dev = csm::Device::Open();                   // provider realm
//   auto region = dev->CreateRegion(1 << 20);
//   auto share = region->Share(peer, csm::Permission::kReadOnly);
//   ...                                               // consumer realm
//   auto view = dev->Attach(share_id);                // mapped read-only
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "csm/attestation.h"
#include "csm/backend.h"
#include "csm/doorbell/doorbell.h"
#include "csm/event.h"
#include "csm/ids.h"

namespace csm {

enum class Permission { kReadOnly, kReadWrite };
enum class Role { kProvider, kConsumer };
enum class BackendKind { kRsi, kEmulatedRmm, kSim, kUnknown };

std::string_view PermissionName(Permission p);
std::string_view BackendKindName(BackendKind k);

struct DeviceInfo {
  uint32_t uapi_version = 0;
  BackendKind backend = BackendKind::kUnknown;
  uint64_t features = 0;   // CSM_FEAT_*
  bool confidential = false;
  uint64_t max_region_size = 0;
  std::string backend_name;
  std::string where;       // "/dev/csm" or the simulator's directory
  // One line for tool output; says plainly when there is no confidentiality.
  std::string Describe() const;
};

struct RegionInfo {
  RegionId id;
  uint64_t size = 0;
  RealmId provider;
  ShareId share;           // consumer: the share it attached through
  Role role = Role::kProvider;
  Permission permission = Permission::kReadWrite;
  uint32_t state = 0;      // enum csm_region_state
  uint32_t live_shares = 0;
};

struct ShareInfo {
  ShareId id;
  RegionId region;
  RealmId consumer;
  Permission permission = Permission::kReadOnly;
  bool attached = false;
};

class Region;

class Device {
 public:
  struct Options : BackendOptions {};

  static absl::StatusOr<Device> Open(const Options& options = {});
  // Wraps an existing backend (tests, alternative transports).
  static absl::StatusOr<Device> FromBackend(std::shared_ptr<Backend> backend);

  Device(Device&&) noexcept = default;
  Device& operator=(Device&&) noexcept = default;

  const DeviceInfo& info() const { return info_; }
  RealmId realm_id() const { return realm_; }

  // Provider side. `size` must be a nonzero multiple of 4096.
  absl::StatusOr<Region> CreateRegion(uint64_t size);
  // Consumer side: reserve and attach, then map (read-only shares map
  // read-only). `expected_size` 0 accepts the provider's size.
  absl::StatusOr<Region> Attach(ShareId share, uint64_t expected_size = 0);

  absl::StatusOr<RegionInfo> GetRegionInfo(RegionId region) const;
  absl::StatusOr<std::vector<RegionInfo>> ListRegions() const;

  // A stream of csm_event records (attached, detached, revoked, destroyed,
  // gone). All streams of one Device share one queue.
  absl::StatusOr<EventStream> Events() const;

  // Checks a token from Region::Attest (any realm's) and returns its claims.
  // Only claims with hardware_rooted set are evidence: a simulator token is
  // signed by a per-host key, and an emulated-RMM token is unsigned and
  // accepted on its form alone (anyone can forge one). Callers that need
  // proof must check hardware_rooted, not just the status.
  absl::StatusOr<AttestationClaims> Verify(std::span<const uint8_t> token) const;

  Backend& backend() const { return *backend_; }

 private:
  Device(std::shared_ptr<Backend> backend, DeviceInfo info, RealmId realm);
  std::shared_ptr<Backend> backend_;
  DeviceInfo info_;
  RealmId realm_;
  std::string sim_dir_;
};

// A region held by this realm, as provider or consumer, mapped into the
// process. Dropping a provider's Region destroys it (forcing consumers
// off, as closing /dev/csm does); dropping a consumer's Region detaches.
class Region {
 public:
  Region(Region&& other) noexcept;
  Region& operator=(Region&& other) noexcept;
  ~Region();

  RegionId id() const { return id_; }
  uint64_t size() const { return size_; }
  Role role() const { return role_; }
  Permission permission() const { return perm_; }
  RealmId provider() const { return provider_; }
  ShareId share() const { return share_; }  // consumer only
  // The mapping. Empty after Destroy/Detach. Its bytes are shared with
  // other realms: read each value once, validate, then use.
  std::span<std::byte> bytes() const { return {static_cast<std::byte*>(addr_), addr_ ? size_ : 0}; }
  void* data() const { return addr_; }

  // Provider: grant `peer` access. Returns the share ID to hand to it.
  absl::StatusOr<ShareId> Share(RealmId peer, Permission permission);
  // Provider: end a share; the consumer's mapping is gone on return.
  absl::Status Revoke(ShareId share);
  // Provider: tear down. Refused while shares are live unless `force`.
  absl::Status Destroy(bool force = false);
  // Consumer: unmap and release the attachment.
  absl::Status Detach();

  absl::StatusOr<RegionInfo> Info() const;
  absl::StatusOr<std::vector<ShareInfo>> Shares() const;  // provider only

  // The doorbell this realm waits on for this region (one waiting thread
  // per region: every such fd reads one counter, see doorbell.h).
  absl::StatusOr<Doorbell> MyDoorbell() const;
  // The doorbell that wakes `peer` (the provider or a consumer).
  absl::StatusOr<Doorbell> PeerDoorbell(RealmId peer) const;

  // A token binding this realm, the region and `challenge` (32-64 bytes).
  absl::StatusOr<std::vector<uint8_t>> Attest(std::span<const uint8_t> challenge) const;

 private:
  friend class Device;
  Region() = default;
  void Release();
  absl::Status Unmap();

  std::shared_ptr<Backend> backend_;
  RegionId id_;
  ShareId share_;
  RealmId provider_;
  RealmId self_;
  uint64_t size_ = 0;
  Role role_ = Role::kProvider;
  Permission perm_ = Permission::kReadWrite;
  void* addr_ = nullptr;
  bool ended_ = false;
};

}  // namespace csm
