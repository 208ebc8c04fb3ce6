// The UAPI contract at the Backend::Call level, as the kernel module must
// implement it too: reserved words, the listing pattern, mmap rules.
#include <sys/mman.h>

#include <cstring>
#include <vector>

#include "csm/device.h"
#include "csm/uapi/csm.h"
#include "gtest/gtest.h"
#include "sim/testing/sim_env.h"

namespace csm {
namespace {

using testing::SimEnv;

// Sets the last reserved word of `arg` and expects EINVAL from `cmd`.
template <typename T>
void ExpectReservedChecked(Backend& b, unsigned long cmd, T arg) {
  arg.reserved[sizeof(arg.reserved) / sizeof(arg.reserved[0]) - 1] = 1;
  EXPECT_EQ(b.Call(cmd, &arg), -EINVAL) << "command nr " << _IOC_NR(cmd);
}

// A zeroed UAPI struct with some fields set.
template <typename T, typename Fill>
T With(Fill fill) {
  T arg;
  std::memset(&arg, 0, sizeof(arg));
  fill(arg);
  return arg;
}

class UapiContract : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Region> r = provider_.CreateRegion(4096);
    ASSERT_TRUE(r.ok());
    region_ = std::move(*r);
    absl::StatusOr<ShareId> s = region_->Share(consumer_.realm_id(), Permission::kReadOnly);
    ASSERT_TRUE(s.ok());
    share_ = *s;
  }
  Backend& p() { return provider_.backend(); }
  Backend& c() { return consumer_.backend(); }

  SimEnv env_;
  Device provider_ = env_.Open();
  Device consumer_ = env_.Open();
  std::optional<Region> region_;
  ShareId share_;
};

TEST_F(UapiContract, EveryCommandRefusesNonzeroReserved) {
  const uint64_t region = region_->id().value();
  const uint64_t peer = consumer_.realm_id().value();
  const uint64_t share = share_.value();
  ExpectReservedChecked(p(), CSM_IOC_CREATE, With<csm_create>([](auto& a) { a.size = 4096; }));
  ExpectReservedChecked(p(), CSM_IOC_SHARE, With<csm_share>([&](auto& a) {
                          a.region_id = region;
                          a.peer_realm_id = peer;
                          a.perm = CSM_PERM_RO;
                        }));
  ExpectReservedChecked(p(), CSM_IOC_REVOKE, With<csm_revoke>([&](auto& a) { a.share_id = share; }));
  ExpectReservedChecked(p(), CSM_IOC_DESTROY,
                        With<csm_destroy>([&](auto& a) { a.region_id = region; }));
  ExpectReservedChecked(c(), CSM_IOC_ATTACH, With<csm_attach>([&](auto& a) { a.share_id = share; }));
  ExpectReservedChecked(c(), CSM_IOC_DETACH, With<csm_detach>([&](auto& a) { a.share_id = share; }));
  ExpectReservedChecked(p(), CSM_IOC_REGION_INFO,
                        With<csm_region_info>([&](auto& a) { a.region_id = region; }));
  ExpectReservedChecked(p(), CSM_IOC_LIST_REGIONS, With<csm_list>([](auto& a) {
                          a.entry_size = sizeof(csm_region_info);
                        }));
  ExpectReservedChecked(p(), CSM_IOC_LIST_SHARES, With<csm_list>([&](auto& a) {
                          a.region_id = region;
                          a.entry_size = sizeof(csm_share_info);
                        }));
  ExpectReservedChecked(p(), CSM_IOC_ATTEST, With<csm_attest>([&](auto& a) {
                          a.region_id = region;
                          a.challenge_len = 32;
                        }));
  ExpectReservedChecked(p(), CSM_IOC_DOORBELL_FD,
                        With<csm_doorbell_fd>([&](auto& a) { a.region_id = region; }));
  ExpectReservedChecked(p(), CSM_IOC_RING, With<csm_ring>([&](auto& a) { a.region_id = region; }));
  ExpectReservedChecked(p(), CSM_IOC_EVENT_FD, csm_event_fd{});
  // Nothing above changed the state: the share is still live and unattached.
  absl::StatusOr<std::vector<ShareInfo>> shares = region_->Shares();
  ASSERT_TRUE(shares.ok());
  ASSERT_EQ(shares->size(), 1u);
  EXPECT_FALSE((*shares)[0].attached);
}

TEST_F(UapiContract, ListingReportsTheTotalAndWritesOnlyCapacity) {
  absl::StatusOr<Region> second = provider_.CreateRegion(4096);
  absl::StatusOr<Region> third = provider_.CreateRegion(4096);
  ASSERT_TRUE(second.ok() && third.ok());
  csm_list l = {};
  l.entry_size = sizeof(csm_region_info);
  ASSERT_EQ(p().Call(CSM_IOC_LIST_REGIONS, &l), 0);
  EXPECT_EQ(l.count, 3u);
  std::vector<csm_region_info> out(3);
  std::memset(out.data(), 0xAB, out.size() * sizeof(out[0]));
  l.entries_ptr = reinterpret_cast<uintptr_t>(out.data());
  l.capacity = 2;
  ASSERT_EQ(p().Call(CSM_IOC_LIST_REGIONS, &l), 0);
  EXPECT_EQ(l.count, 3u);
  EXPECT_NE(out[0].region_id, 0u);
  EXPECT_NE(out[1].region_id, 0u);
  EXPECT_EQ(out[2].region_id, 0xABABABABABABABABull) << "wrote past capacity";
  l.entries_ptr = 0;
  EXPECT_EQ(p().Call(CSM_IOC_LIST_REGIONS, &l), -EFAULT);
}

TEST_F(UapiContract, MmapRules) {
  csm_attach a = {};
  a.share_id = share_.value();
  ASSERT_EQ(c().Call(CSM_IOC_ATTACH, &a), 0);
  EXPECT_EQ(a.perm, CSM_PERM_RO);
  void* addr = nullptr;
  EXPECT_EQ(c().Map(a.mmap_offset, a.size, PROT_READ | PROT_WRITE, &addr), -EACCES);
  EXPECT_EQ(c().Map(a.mmap_offset, a.size / 2, PROT_READ, &addr), -EINVAL);
  EXPECT_EQ(c().Map(a.mmap_offset + 4096 * 1000, a.size, PROT_READ, &addr), -EINVAL);
  ASSERT_EQ(c().Map(a.mmap_offset, a.size, PROT_READ, &addr), 0);
  EXPECT_NE(mprotect(addr, a.size, PROT_READ | PROT_WRITE), 0);
  ASSERT_EQ(region_->Revoke(share_).ok(), true);
  void* again = nullptr;
  EXPECT_EQ(c().Map(a.mmap_offset, a.size, PROT_READ, &again), -EKEYREVOKED);
  EXPECT_EQ(c().Unmap(addr, a.size), 0);
  csm_detach d = {};
  d.share_id = share_.value();
  EXPECT_EQ(c().Call(CSM_IOC_DETACH, &d), 0) << "detach after revoke releases the record";
  EXPECT_EQ(c().Call(CSM_IOC_DETACH, &d), -EKEYREVOKED);
}

TEST_F(UapiContract, DoorbellFdsFollowEventfdConventions) {
  csm_doorbell_fd mine = {};
  mine.region_id = region_->id().value();
  ASSERT_EQ(p().Call(CSM_IOC_DOORBELL_FD, &mine), 0);
  csm_ring ring = {};
  ring.region_id = region_->id().value();
  ring.peer_realm_id = provider_.realm_id().value();
  ASSERT_EQ(c().Call(CSM_IOC_RING, &ring), -EACCES) << "not attached yet: no party";
  csm_attach a = {};
  a.share_id = share_.value();
  ASSERT_EQ(c().Call(CSM_IOC_ATTACH, &a), 0);
  ASSERT_EQ(c().Call(CSM_IOC_RING, &ring), 0);
  uint64_t v = 0;
  EXPECT_EQ(read(mine.fd, &v, sizeof(v)), static_cast<ssize_t>(sizeof(v)));
  EXPECT_EQ(read(mine.fd, &v, sizeof(v)), -1);
  EXPECT_EQ(errno, EAGAIN);
  close(mine.fd);
}

}  // namespace
}  // namespace csm
