// Converting the UAPI's region record into the API's RegionInfo (shared by
// Device::GetRegionInfo/ListRegions and Region::Info).
#pragma once

#include "csm/device.h"
#include "csm/uapi/csm.h"

namespace csm::internal {

inline RegionInfo RegionInfoFromUapi(const csm_region_info& i) {
  RegionInfo r;
  r.id = RegionId(i.region_id);
  r.size = i.size;
  r.provider = RealmId(i.provider_realm_id);
  r.share = ShareId(i.share_id);
  r.role = i.role == CSM_ROLE_CONSUMER ? Role::kConsumer : Role::kProvider;
  r.permission = i.perm == CSM_PERM_RW ? Permission::kReadWrite : Permission::kReadOnly;
  r.state = i.state;
  r.live_shares = i.nr_shares;
  return r;
}

}  // namespace csm::internal
