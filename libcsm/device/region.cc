// csm::Region: one region held by this realm, as provider or consumer.
#include <errno.h>
#include <string.h>

#include <utility>

#include "csm/device.h"

#include "region_info.h"
#include "csm/uapi/csm.h"
#include "absl/strings/str_format.h"
#include "errors.h"

namespace csm {

Region::Region(Region&& other) noexcept
    : backend_(std::move(other.backend_)),
      id_(other.id_),
      share_(other.share_),
      provider_(other.provider_),
      self_(other.self_),
      size_(other.size_),
      role_(other.role_),
      perm_(other.perm_),
      addr_(std::exchange(other.addr_, nullptr)),
      ended_(std::exchange(other.ended_, true)) {}

Region& Region::operator=(Region&& other) noexcept {
  if (this != &other) {
    Release();
    backend_ = std::move(other.backend_);
    id_ = other.id_;
    share_ = other.share_;
    provider_ = other.provider_;
    self_ = other.self_;
    size_ = other.size_;
    role_ = other.role_;
    perm_ = other.perm_;
    addr_ = std::exchange(other.addr_, nullptr);
    ended_ = std::exchange(other.ended_, true);
  }
  return *this;
}

Region::~Region() { Release(); }

// Dropping a Region ends what this realm holds of it, like closing /dev/csm:
// a provider destroys (forcing consumers off), a consumer detaches.
void Region::Release() {
  if (!backend_) return;
  if (!ended_) {
    if (role_ == Role::kProvider) {
      (void)Destroy(/*force=*/true);
    } else {
      (void)Detach();
    }
  }
  (void)Unmap();
  backend_.reset();
}

absl::Status Region::Unmap() {
  if (addr_ == nullptr) return absl::OkStatus();
  int rc = backend_->Unmap(addr_, size_);
  addr_ = nullptr;
  if (rc < 0) return CallError(-rc, {.op = Op::kMap, .self = self_, .region = id_});
  return absl::OkStatus();
}

absl::StatusOr<ShareId> Region::Share(RealmId peer, Permission permission) {
  OpContext ctx{.op = Op::kShare, .self = self_, .region = id_, .peer = peer};
  if (!backend_) return absl::FailedPreconditionError("Share on a moved-from Region");
  csm_share s;
  memset(&s, 0, sizeof(s));
  s.region_id = id_.value();
  s.peer_realm_id = peer.value();
  s.perm = permission == Permission::kReadOnly ? CSM_PERM_RO : CSM_PERM_RW;
  if (int rc = backend_->Call(CSM_IOC_SHARE, &s); rc < 0) return CallError(-rc, ctx);
  return ShareId(s.share_id);
}

absl::Status Region::Revoke(ShareId share) {
  if (!backend_) return absl::FailedPreconditionError("Revoke on a moved-from Region");
  csm_revoke r;
  memset(&r, 0, sizeof(r));
  r.share_id = share.value();
  if (int rc = backend_->Call(CSM_IOC_REVOKE, &r); rc < 0) {
    return CallError(-rc, {.op = Op::kRevoke, .self = self_, .region = id_, .share = share});
  }
  return absl::OkStatus();
}

absl::Status Region::Destroy(bool force) {
  if (!backend_) return absl::FailedPreconditionError("Destroy on a moved-from Region");
  csm_destroy d;
  memset(&d, 0, sizeof(d));
  d.region_id = id_.value();
  d.flags = force ? CSM_DESTROY_FORCE : 0;
  if (int rc = backend_->Call(CSM_IOC_DESTROY, &d); rc < 0) {
    return CallError(-rc, {.op = Op::kDestroy, .self = self_, .region = id_});
  }
  ended_ = true;
  return Unmap();
}

absl::Status Region::Detach() {
  if (!backend_) return absl::FailedPreconditionError("Detach on a moved-from Region");
  if (role_ != Role::kConsumer) {
    return absl::FailedPreconditionError("Detach is for consumers; a provider destroys");
  }
  // Unmap first: once detached the backend may reuse the window.
  absl::Status unmapped = Unmap();
  csm_detach d;
  memset(&d, 0, sizeof(d));
  d.share_id = share_.value();
  int rc = backend_->Call(CSM_IOC_DETACH, &d);
  ended_ = true;
  if (rc < 0) return CallError(-rc, {.op = Op::kDetach, .self = self_, .region = id_, .share = share_});
  return unmapped;
}

absl::StatusOr<RegionInfo> Region::Info() const {
  if (!backend_) return absl::FailedPreconditionError("Info on a moved-from Region");
  csm_region_info i;
  memset(&i, 0, sizeof(i));
  i.region_id = id_.value();
  if (int rc = backend_->Call(CSM_IOC_REGION_INFO, &i); rc < 0) {
    return CallError(-rc, {.op = Op::kRegionInfo, .self = self_, .region = id_});
  }
  return internal::RegionInfoFromUapi(i);
}

absl::StatusOr<std::vector<ShareInfo>> Region::Shares() const {
  if (!backend_) return absl::FailedPreconditionError("Shares on a moved-from Region");
  std::vector<csm_share_info> raw;
  for (;;) {
    csm_list l;
    memset(&l, 0, sizeof(l));
    l.entries_ptr = reinterpret_cast<uintptr_t>(raw.data());
    l.capacity = static_cast<uint32_t>(raw.size());
    l.region_id = id_.value();
    l.entry_size = sizeof(csm_share_info);
    if (int rc = backend_->Call(CSM_IOC_LIST_SHARES, &l); rc < 0) {
      return CallError(-rc, {.op = Op::kListShares, .self = self_, .region = id_});
    }
    bool done = l.count <= raw.size();
    raw.resize(l.count);
    if (done) break;
  }
  std::vector<ShareInfo> out;
  for (const csm_share_info& s : raw) {
    out.push_back({ShareId(s.share_id), RegionId(s.region_id), RealmId(s.peer_realm_id),
                   s.perm == CSM_PERM_RW ? Permission::kReadWrite : Permission::kReadOnly,
                   s.state == CSM_SHARE_ATTACHED});
  }
  return out;
}

absl::StatusOr<Doorbell> Region::MyDoorbell() const { return PeerDoorbell(self_); }

absl::StatusOr<Doorbell> Region::PeerDoorbell(RealmId peer) const {
  if (!backend_) return absl::FailedPreconditionError("doorbell of a moved-from Region");
  csm_doorbell_fd d;
  memset(&d, 0, sizeof(d));
  d.region_id = id_.value();
  d.realm_id = peer.value();
  d.flags = CSM_FD_CLOEXEC;
  if (int rc = backend_->Call(CSM_IOC_DOORBELL_FD, &d); rc < 0) {
    return CallError(-rc, {.op = Op::kDoorbell, .self = self_, .region = id_, .peer = peer});
  }
  return Doorbell(d.fd);
}

absl::StatusOr<std::vector<uint8_t>> Region::Attest(std::span<const uint8_t> challenge) const {
  if (!backend_) return absl::FailedPreconditionError("Attest on a moved-from Region");
  if (challenge.size() < CSM_CHALLENGE_MIN || challenge.size() > CSM_CHALLENGE_MAX) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "attestation challenge is %d bytes; it must be %d to %d bytes", challenge.size(),
        CSM_CHALLENGE_MIN, CSM_CHALLENGE_MAX));
  }
  csm_attest a;
  memset(&a, 0, sizeof(a));
  a.region_id = id_.value();
  a.challenge_len = static_cast<uint32_t>(challenge.size());
  memcpy(a.challenge, challenge.data(), challenge.size());
  std::vector<uint8_t> token(1024);
  for (int attempt = 0; attempt < 2; ++attempt) {
    a.token_ptr = reinterpret_cast<uintptr_t>(token.data());
    a.token_len = static_cast<uint32_t>(token.size());
    int rc = backend_->Call(CSM_IOC_ATTEST, &a);
    if (rc == -ENOSPC && a.token_len > token.size()) {
      token.resize(a.token_len);  // the backend told us the size it needs
      continue;
    }
    if (rc < 0) return CallError(-rc, {.op = Op::kAttest, .self = self_, .region = id_});
    token.resize(a.token_len);
    return token;
  }
  return absl::InternalError("attestation token kept growing");
}

}  // namespace csm
