// csm::Device: fills UAPI structs and calls the backend; maps regions.
#include "csm/device.h"

#include "region_info.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "csm/attestation_cca.h"
#include "csm/uapi/csm.h"
#include "errors.h"

namespace csm {
namespace {

BackendKind KindOf(uint32_t backend) {
  switch (backend) {
    case CSM_BACKEND_RSI: return BackendKind::kRsi;
    case CSM_BACKEND_EMULATED_RMM: return BackendKind::kEmulatedRmm;
    case CSM_BACKEND_SIM: return BackendKind::kSim;
    default: return BackendKind::kUnknown;
  }
}

}  // namespace

std::string_view PermissionName(Permission p) {
  return p == Permission::kReadOnly ? "read-only" : "read-write";
}

std::string_view BackendKindName(BackendKind k) {
  switch (k) {
    case BackendKind::kRsi: return "rsi";
    case BackendKind::kEmulatedRmm: return "emulated-rmm";
    case BackendKind::kSim: return "sim";
    case BackendKind::kUnknown: break;
  }
  return "unknown";
}

std::string DeviceInfo::Describe() const {
  return absl::StrFormat("csm backend %s at %s: %s", BackendKindName(backend), where,
                         confidential ? "confidential memory"
                                      : "NO confidentiality: the host can read every region");
}

Device::Device(std::shared_ptr<Backend> backend, DeviceInfo info, RealmId realm)
    : backend_(std::move(backend)), info_(std::move(info)), realm_(realm) {}

absl::StatusOr<Device> Device::Open(const Options& options) {
  BackendOptions o = options;
  if (o.choice == BackendChoice::kAuto) {
    // CSM_BACKEND=sim|kernel overrides the automatic choice (tools, CI).
    if (const char* env = getenv("CSM_BACKEND")) {
      if (strcmp(env, "sim") == 0) o.choice = BackendChoice::kSim;
      else if (strcmp(env, "kernel") == 0) o.choice = BackendChoice::kKernel;
      else if (*env != '\0' && strcmp(env, "auto") != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("CSM_BACKEND='", env, "' is not one of sim, kernel, auto"));
      }
    }
  }
  absl::StatusOr<std::shared_ptr<Backend>> backend = OpenBackend(o);
  if (!backend.ok()) return backend.status();
  absl::StatusOr<Device> dev = FromBackend(std::move(*backend));
  if (dev.ok()) dev->sim_dir_ = o.sim_dir;
  return dev;
}

absl::StatusOr<Device> Device::FromBackend(std::shared_ptr<Backend> backend) {
  csm_version v;
  memset(&v, 0, sizeof(v));
  if (int rc = backend->Call(CSM_IOC_VERSION, &v); rc < 0) {
    return CallError(-rc, {.op = Op::kVersion});
  }
  if ((v.uapi_version >> 16) != CSM_UAPI_VERSION_MAJOR) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s speaks CSM UAPI %d.%d; this libcsm needs major version %d", backend->Where(),
        v.uapi_version >> 16, v.uapi_version & 0xffff, CSM_UAPI_VERSION_MAJOR));
  }
  DeviceInfo info;
  info.uapi_version = v.uapi_version;
  info.backend = KindOf(v.backend);
  info.features = v.features;
  info.confidential = (v.features & CSM_FEAT_CONFIDENTIAL) != 0;
  info.max_region_size = v.max_region_size;
  v.backend_name[sizeof(v.backend_name) - 1] = '\0';
  info.backend_name = v.backend_name;
  info.where = backend->Where();
  csm_realm r;
  memset(&r, 0, sizeof(r));
  if (int rc = backend->Call(CSM_IOC_REALM, &r); rc < 0) return CallError(-rc, {.op = Op::kRealm});
  return Device(std::move(backend), std::move(info), RealmId(r.realm_id));
}

absl::StatusOr<Region> Device::CreateRegion(uint64_t size) {
  OpContext ctx{.op = Op::kCreate, .self = realm_, .size = size};
  // Checked here too for the exact message; the backend enforces it anyway.
  if (size == 0 || size % CSM_GRANULE_SIZE != 0) return CallError(EINVAL, ctx);
  if (info_.max_region_size != 0 && size > info_.max_region_size) return CallError(E2BIG, ctx);
  csm_create c;
  memset(&c, 0, sizeof(c));
  c.size = size;
  if (int rc = backend_->Call(CSM_IOC_CREATE, &c); rc < 0) return CallError(-rc, ctx);
  Region region;
  region.backend_ = backend_;
  region.id_ = RegionId(c.region_id);
  region.provider_ = realm_;
  region.self_ = realm_;
  region.size_ = size;
  region.role_ = Role::kProvider;
  region.perm_ = Permission::kReadWrite;
  ctx.region = region.id_;
  if (int rc = backend_->Map(c.mmap_offset, size, PROT_READ | PROT_WRITE, &region.addr_); rc < 0) {
    ctx.op = Op::kMap;
    return CallError(-rc, ctx);  // ~Region destroys the new region
  }
  return region;
}

absl::StatusOr<Region> Device::Attach(ShareId share, uint64_t expected_size) {
  OpContext ctx{.op = Op::kAttach, .self = realm_, .share = share, .size = expected_size};
  csm_attach a;
  memset(&a, 0, sizeof(a));
  a.share_id = share.value();
  a.size = expected_size;
  if (int rc = backend_->Call(CSM_IOC_ATTACH, &a); rc < 0) return CallError(-rc, ctx);
  Region region;
  region.backend_ = backend_;
  region.id_ = RegionId(a.region_id);
  region.share_ = share;
  region.provider_ = RealmId(a.provider_realm_id);
  region.self_ = realm_;
  region.size_ = a.size;
  region.role_ = Role::kConsumer;
  region.perm_ = a.perm == CSM_PERM_RW ? Permission::kReadWrite : Permission::kReadOnly;
  int prot = PROT_READ | (a.perm == CSM_PERM_RW ? PROT_WRITE : 0);
  ctx.region = region.id_;
  if (int rc = backend_->Map(a.mmap_offset, a.size, prot, &region.addr_); rc < 0) {
    ctx.op = Op::kMap;
    return CallError(-rc, ctx);  // ~Region detaches
  }
  return region;
}

absl::StatusOr<RegionInfo> Device::GetRegionInfo(RegionId region) const {
  csm_region_info i;
  memset(&i, 0, sizeof(i));
  i.region_id = region.value();
  if (int rc = backend_->Call(CSM_IOC_REGION_INFO, &i); rc < 0) {
    return CallError(-rc, {.op = Op::kRegionInfo, .self = realm_, .region = region});
  }
  return internal::RegionInfoFromUapi(i);
}

absl::StatusOr<std::vector<RegionInfo>> Device::ListRegions() const {
  std::vector<csm_region_info> raw;
  // The listing pattern: size, fetch, retry if the set grew in between.
  for (;;) {
    csm_list l;
    memset(&l, 0, sizeof(l));
    l.entries_ptr = reinterpret_cast<uintptr_t>(raw.data());
    l.capacity = static_cast<uint32_t>(raw.size());
    l.entry_size = sizeof(csm_region_info);
    if (int rc = backend_->Call(CSM_IOC_LIST_REGIONS, &l); rc < 0) {
      return CallError(-rc, {.op = Op::kListRegions, .self = realm_});
    }
    if (l.count <= raw.size()) {
      raw.resize(l.count);
      break;
    }
    raw.resize(l.count);
  }
  std::vector<RegionInfo> out;
  for (const csm_region_info& i : raw) out.push_back(internal::RegionInfoFromUapi(i));
  return out;
}

absl::StatusOr<EventStream> Device::Events() const {
  csm_event_fd e;
  memset(&e, 0, sizeof(e));
  e.flags = CSM_FD_CLOEXEC;
  if (int rc = backend_->Call(CSM_IOC_EVENT_FD, &e); rc < 0) {
    return CallError(-rc, {.op = Op::kEvents, .self = realm_});
  }
  return EventStream(e.fd);
}

absl::StatusOr<AttestationClaims> Device::Verify(std::span<const uint8_t> token) const {
  if (token.size() >= 16 && memcmp(token.data(), "CSM-SIM-TOKEN-v1", 16) == 0) {
    return VerifySimToken(token, sim_dir_);
  }
  if (token.size() >= 16 && memcmp(token.data(), CSM_EMU_TOKEN_MAGIC, 16) == 0) {
    return VerifyEmulatedToken(token);
  }
  if (LooksLikeCcaEvidence(token)) {  // RSI backend; trust anchor from $CSM_CCA_TRUST_KEY
    absl::StatusOr<CcaEvidenceClaims> cca = VerifyCcaEvidence(token);
    if (!cca.ok()) return cca.status();
    return std::move(cca->claims);
  }
  return absl::InvalidArgumentError(
      "this token is neither a simulator, an emulated-RMM nor a CCA (RSI) token");
}

}  // namespace csm
