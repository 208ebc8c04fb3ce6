// Pins the UAPI: sizes, offsets and ioctl numbers of include/csm/uapi/csm.h.
// The kernel module and every libcsm build must agree byte for byte; a
// change here is an ABI break and must bump CSM_UAPI_VERSION_MAJOR.
#include <stddef.h>

#include "csm/uapi/csm.h"
#include "gtest/gtest.h"

namespace {

#define PIN_SIZE(type, bytes) static_assert(sizeof(struct type) == (bytes), #type " size changed")
#define PIN_OFF(type, field, off) \
  static_assert(offsetof(struct type, field) == (off), #type "." #field " moved")

PIN_SIZE(csm_version, 120);
PIN_OFF(csm_version, uapi_version, 0);
PIN_OFF(csm_version, backend, 4);
PIN_OFF(csm_version, features, 8);
PIN_OFF(csm_version, max_region_size, 16);
PIN_OFF(csm_version, granule_size, 24);
PIN_OFF(csm_version, max_regions, 28);
PIN_OFF(csm_version, max_shares, 32);
PIN_OFF(csm_version, backend_name, 40);
PIN_OFF(csm_version, reserved, 88);

PIN_SIZE(csm_realm, 32);
PIN_OFF(csm_realm, realm_id, 0);

PIN_SIZE(csm_create, 64);
PIN_OFF(csm_create, size, 0);
PIN_OFF(csm_create, flags, 8);
PIN_OFF(csm_create, region_id, 16);
PIN_OFF(csm_create, mmap_offset, 24);
PIN_OFF(csm_create, reserved, 32);

PIN_SIZE(csm_share, 64);
PIN_OFF(csm_share, region_id, 0);
PIN_OFF(csm_share, peer_realm_id, 8);
PIN_OFF(csm_share, perm, 16);
PIN_OFF(csm_share, flags, 20);
PIN_OFF(csm_share, share_id, 24);
PIN_OFF(csm_share, reserved, 32);

PIN_SIZE(csm_revoke, 32);
PIN_OFF(csm_revoke, share_id, 0);
PIN_OFF(csm_revoke, flags, 8);
PIN_OFF(csm_revoke, reserved, 16);

PIN_SIZE(csm_destroy, 32);
PIN_OFF(csm_destroy, region_id, 0);
PIN_OFF(csm_destroy, flags, 8);
PIN_OFF(csm_destroy, reserved, 16);

PIN_SIZE(csm_attach, 80);
PIN_OFF(csm_attach, share_id, 0);
PIN_OFF(csm_attach, size, 8);
PIN_OFF(csm_attach, flags, 16);
PIN_OFF(csm_attach, perm, 20);
PIN_OFF(csm_attach, region_id, 24);
PIN_OFF(csm_attach, provider_realm_id, 32);
PIN_OFF(csm_attach, mmap_offset, 40);
PIN_OFF(csm_attach, reserved, 48);

PIN_SIZE(csm_detach, 32);
PIN_OFF(csm_detach, share_id, 0);
PIN_OFF(csm_detach, reserved, 8);

PIN_SIZE(csm_region_info, 88);
PIN_OFF(csm_region_info, region_id, 0);
PIN_OFF(csm_region_info, size, 8);
PIN_OFF(csm_region_info, provider_realm_id, 16);
PIN_OFF(csm_region_info, share_id, 24);
PIN_OFF(csm_region_info, mmap_offset, 32);
PIN_OFF(csm_region_info, role, 40);
PIN_OFF(csm_region_info, state, 44);
PIN_OFF(csm_region_info, perm, 48);
PIN_OFF(csm_region_info, nr_shares, 52);
PIN_OFF(csm_region_info, reserved, 56);

PIN_SIZE(csm_share_info, 48);
PIN_OFF(csm_share_info, share_id, 0);
PIN_OFF(csm_share_info, region_id, 8);
PIN_OFF(csm_share_info, peer_realm_id, 16);
PIN_OFF(csm_share_info, perm, 24);
PIN_OFF(csm_share_info, state, 28);
PIN_OFF(csm_share_info, reserved, 32);

PIN_SIZE(csm_list, 48);
PIN_OFF(csm_list, entries_ptr, 0);
PIN_OFF(csm_list, capacity, 8);
PIN_OFF(csm_list, count, 12);
PIN_OFF(csm_list, region_id, 16);
PIN_OFF(csm_list, entry_size, 24);
PIN_OFF(csm_list, flags, 28);
PIN_OFF(csm_list, reserved, 32);

PIN_SIZE(csm_attest, 128);
PIN_OFF(csm_attest, region_id, 0);
PIN_OFF(csm_attest, token_ptr, 8);
PIN_OFF(csm_attest, token_len, 16);
PIN_OFF(csm_attest, challenge_len, 20);
PIN_OFF(csm_attest, challenge, 24);
PIN_OFF(csm_attest, token_format, 88);
PIN_OFF(csm_attest, flags, 92);
PIN_OFF(csm_attest, reserved, 96);

PIN_SIZE(csm_doorbell_fd, 40);
PIN_OFF(csm_doorbell_fd, region_id, 0);
PIN_OFF(csm_doorbell_fd, realm_id, 8);
PIN_OFF(csm_doorbell_fd, flags, 16);
PIN_OFF(csm_doorbell_fd, fd, 20);
PIN_OFF(csm_doorbell_fd, reserved, 24);

PIN_SIZE(csm_ring, 40);
PIN_OFF(csm_ring, region_id, 0);
PIN_OFF(csm_ring, peer_realm_id, 8);
PIN_OFF(csm_ring, flags, 16);
PIN_OFF(csm_ring, reserved, 24);

PIN_SIZE(csm_event_fd, 32);
PIN_OFF(csm_event_fd, flags, 0);
PIN_OFF(csm_event_fd, fd, 4);
PIN_OFF(csm_event_fd, reserved, 8);

PIN_SIZE(csm_event, 64);
PIN_OFF(csm_event, type, 0);
PIN_OFF(csm_event, flags, 4);
PIN_OFF(csm_event, seq, 8);
PIN_OFF(csm_event, region_id, 16);
PIN_OFF(csm_event, share_id, 24);
PIN_OFF(csm_event, realm_id, 32);
PIN_OFF(csm_event, reserved, 40);

// Every struct is a multiple of 8 bytes, so 32- and 64-bit userspace agree.
static_assert(sizeof(struct csm_attest) % 8 == 0 && sizeof(struct csm_version) % 8 == 0);

struct IoctlPin {
  const char* name;
  unsigned long cmd;
  unsigned nr;
  unsigned dir;
  size_t size;
};

TEST(UapiLayout, IoctlNumbersArePinned) {
  const IoctlPin pins[] = {
      {"VERSION", CSM_IOC_VERSION, 0x00, _IOC_READ, sizeof(csm_version)},
      {"REALM", CSM_IOC_REALM, 0x01, _IOC_READ, sizeof(csm_realm)},
      {"CREATE", CSM_IOC_CREATE, 0x02, _IOC_READ | _IOC_WRITE, sizeof(csm_create)},
      {"SHARE", CSM_IOC_SHARE, 0x03, _IOC_READ | _IOC_WRITE, sizeof(csm_share)},
      {"REVOKE", CSM_IOC_REVOKE, 0x04, _IOC_WRITE, sizeof(csm_revoke)},
      {"DESTROY", CSM_IOC_DESTROY, 0x05, _IOC_WRITE, sizeof(csm_destroy)},
      {"ATTACH", CSM_IOC_ATTACH, 0x06, _IOC_READ | _IOC_WRITE, sizeof(csm_attach)},
      {"DETACH", CSM_IOC_DETACH, 0x07, _IOC_WRITE, sizeof(csm_detach)},
      {"REGION_INFO", CSM_IOC_REGION_INFO, 0x08, _IOC_READ | _IOC_WRITE, sizeof(csm_region_info)},
      {"LIST_REGIONS", CSM_IOC_LIST_REGIONS, 0x09, _IOC_READ | _IOC_WRITE, sizeof(csm_list)},
      {"LIST_SHARES", CSM_IOC_LIST_SHARES, 0x0a, _IOC_READ | _IOC_WRITE, sizeof(csm_list)},
      {"ATTEST", CSM_IOC_ATTEST, 0x0b, _IOC_READ | _IOC_WRITE, sizeof(csm_attest)},
      {"DOORBELL_FD", CSM_IOC_DOORBELL_FD, 0x0c, _IOC_READ | _IOC_WRITE, sizeof(csm_doorbell_fd)},
      {"RING", CSM_IOC_RING, 0x0d, _IOC_WRITE, sizeof(csm_ring)},
      {"EVENT_FD", CSM_IOC_EVENT_FD, 0x0e, _IOC_READ | _IOC_WRITE, sizeof(csm_event_fd)},
  };
  for (const IoctlPin& p : pins) {
    SCOPED_TRACE(p.name);
    EXPECT_EQ(_IOC_TYPE(p.cmd), CSM_IOC_MAGIC);
    EXPECT_EQ(_IOC_NR(p.cmd), p.nr);
    EXPECT_EQ(_IOC_DIR(p.cmd), p.dir);
    EXPECT_EQ(_IOC_SIZE(p.cmd), p.size);
  }
  // The x86_64/arm64 encodings of two commands, as numbers (ABI).
  EXPECT_EQ(CSM_IOC_VERSION, 0x8078c500ul);
  EXPECT_EQ(CSM_IOC_ATTEST, 0xc080c50bul);
}

TEST(UapiLayout, VersionAndConstants) {
  EXPECT_EQ(CSM_UAPI_VERSION, 0x10000u);
  EXPECT_EQ(CSM_GRANULE_SIZE, 4096u);
  EXPECT_EQ(CSM_PERM_RO, 1u);
  EXPECT_EQ(CSM_PERM_RW, 3u);
  EXPECT_EQ(CSM_BACKEND_RSI, 1);
  EXPECT_EQ(CSM_BACKEND_EMULATED_RMM, 2);
  EXPECT_EQ(CSM_BACKEND_SIM, 3);
  EXPECT_EQ(CSM_EVENT_GONE, 5);
  EXPECT_EQ(CSM_CHALLENGE_MIN, 32u);
  EXPECT_EQ(CSM_CHALLENGE_MAX, 64u);
}

}  // namespace
