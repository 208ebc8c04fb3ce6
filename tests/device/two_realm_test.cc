// csm::Device between two realms, each in its own process, on whichever
// backend the environment selects:
//  - simulator (default): the test forks; the child is the consumer realm
//    (its own Device), a socketpair is the link between the halves;
//  - /dev/csm (CSM_BACKEND=kernel): a realm is a whole VM, so the same
//    binary runs in two VMs, CSM_TEST_ROLE=provider in one and =consumer in
//    the other, CSM_TEST_LINK naming the serial line between them (the VM
//    pair suite does this). Each runs its half of every test.
// The halves hand over realm and share IDs as text lines, as realm owners
// would out of band, and meet at the start and end of every test.
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "csm/device.h"
#include "csm/uapi/csm.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/testing/probe.h"
#include "sim/testing/sim_env.h"

namespace csm {
namespace {

using ::testing::HasSubstr;
using testing::CanRead;
using testing::CanWrite;

constexpr absl::Duration kGuard = absl::Seconds(20);  // failure guard, not timing

bool OverKernel() {
  const char* b = getenv("CSM_BACKEND");
  return b != nullptr && strcmp(b, "kernel") == 0;
}

// One test's view of the line to the other half: every message carries the
// test's name, so stray lines (retries, a previous test) are skipped.
class Peer {
 public:
  Peer(int fd, std::string test) : fd_(fd), test_(std::move(test)) {}

  void Send(const std::string& what, uint64_t value = 0) {
    const std::string line = absl::StrCat(test_, " ", what, " ", value, "\n");
    // MSG_NOSIGNAL: the other half may already be gone after the last meet.
    ssize_t n = send(fd_, line.data(), line.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = write(fd_, line.data(), line.size());  // a tty
    if (n != static_cast<ssize_t>(line.size()) && errno != EPIPE) {
      ADD_FAILURE() << "link write: " << strerror(errno);
    }
  }

  // The value of the next `what` line from the peer; nullopt on timeout.
  std::optional<uint64_t> Expect(const std::string& what, absl::Duration timeout = kGuard) {
    const std::string prefix = absl::StrCat(test_, " ", what, " ");
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      size_t nl;
      while ((nl = buf_.find('\n')) != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        const size_t at = line.find(prefix);  // a tty may prepend noise
        uint64_t v;
        if (at != std::string::npos && absl::SimpleAtoi(line.substr(at + prefix.size()), &v)) {
          return v;
        }
      }
      const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
      if (left <= 0) return std::nullopt;
      pollfd p = {fd_, POLLIN, 0};
      char chunk[256];
      if (poll(&p, 1, static_cast<int>(left)) == 1) {
        const ssize_t n = read(fd_, chunk, sizeof(chunk));
        if (n > 0) buf_.append(chunk, static_cast<size_t>(n));
        if (n == 0) return std::nullopt;  // the other half is gone
      }
    }
  }

  // Meets the peer: both send until each has seen the other. Returns the
  // peer's realm.
  RealmId Meet(const std::string& point, RealmId self) {
    for (int i = 0; i < 600; ++i) {  // the other VM may still be booting
      Send(point, self.value());
      std::optional<uint64_t> v = Expect(point, absl::Milliseconds(200));
      // Our own line coming back (echoed before the other side set its line
      // raw) is not the peer's.
      if (v && *v != self.value()) {
        Send(point, self.value());  // it may have missed the ones before
        return RealmId(*v);
      }
    }
    ADD_FAILURE() << "the other half never reached '" << point << "'";
    return RealmId();
  }

  // Bytes read past this test's lines, carried to the next test's Peer.
  std::string& pending() { return buf_; }

 private:
  int fd_;
  std::string test_;
  std::string buf_;
};

using Half = std::function<void(Device& dev, RealmId peer_realm, Peer& peer)>;

struct Link {
  int fd = -1;
  std::string pending;  // bytes read past the last test's lines
};


Link& KernelLink() {
  static Link link;
  if (link.fd < 0) {
    const char* path = getenv("CSM_TEST_LINK");
    if (path != nullptr) link.fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    // A serial line in its default (cooked) mode echoes what it receives
    // back to the sender, which would then read its own lines as the peer's.
    termios t;
    if (link.fd >= 0 && tcgetattr(link.fd, &t) == 0) {
      cfmakeraw(&t);
      tcsetattr(link.fd, TCSANOW, &t);
    }
  }
  return link;
}

void RunHalf(const Half& half, Device& dev, int fd, std::string* pending) {
  const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  Peer peer(fd, test);
  if (pending) peer.pending() = *pending;
  const RealmId other = peer.Meet("begin", dev.realm_id());
  if (other.valid() && !::testing::Test::HasFatalFailure()) half(dev, other, peer);
  peer.Meet("end", dev.realm_id());
  if (pending) *pending = peer.pending();
}

// Runs `provider` and `consumer` as two realms (see the top of the file).
void RunTwoRealms(const Half& provider, const Half& consumer) {
  if (OverKernel()) {
    const char* role = getenv("CSM_TEST_ROLE");
    Link& link = KernelLink();
    ASSERT_TRUE(role != nullptr && link.fd >= 0)
        << "over /dev/csm these tests need two VMs: CSM_TEST_ROLE=provider|consumer and "
           "CSM_TEST_LINK=<serial line to the other VM>";
    Device::Options o;
    o.choice = BackendChoice::kKernel;
    absl::StatusOr<Device> dev = Device::Open(o);
    ASSERT_TRUE(dev.ok()) << dev.status();
    RunHalf(strcmp(role, "provider") == 0 ? provider : consumer, *dev, link.fd, &link.pending);
    return;
  }
  testing::SimEnv env;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(sv[0]);
    testing::DefaultFaultSignals();
    {
      Device dev = env.Open();  // a realm of its own
      RunHalf(consumer, dev, sv[1], nullptr);
    }
    _exit(::testing::Test::HasFailure() ? 1 : 0);  // never back into gtest
  }
  close(sv[1]);
  {
    Device dev = env.Open();
    RunHalf(provider, dev, sv[0], nullptr);
  }
  close(sv[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the consumer half failed (its messages are above)";
}

Event NextOfType(EventStream& events, EventType type) {
  for (;;) {
    absl::StatusOr<Event> e = events.Next(kGuard);
    if (!e.ok()) {
      ADD_FAILURE() << "waiting for " << EventTypeName(type) << ": " << e.status();
      return {};
    }
    if (e->type == type) return *e;
  }
}

Region MustCreate(Device& dev, uint64_t size) {
  absl::StatusOr<Region> r = dev.CreateRegion(size);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) abort();  // nothing sensible left to test; the peer times out
  return std::move(*r);
}

TEST(TwoRealms, ReadWriteShareCarriesDataBothWays) {
  RunTwoRealms(
      [](Device& dev, RealmId peer_realm, Peer& peer) {
        Region region = MustCreate(dev, 8192);
        std::memcpy(region.data(), "hello", 6);
        absl::StatusOr<ShareId> share = region.Share(peer_realm, Permission::kReadWrite);
        ASSERT_TRUE(share.ok()) << share.status();
        peer.Send("share", share->value());
        ASSERT_TRUE(peer.Expect("written"));
        EXPECT_STREQ(static_cast<const char*>(region.data()) + 4096, "back");
      },
      [](Device& dev, RealmId peer_realm, Peer& peer) {
        std::optional<uint64_t> share = peer.Expect("share");
        ASSERT_TRUE(share);
        absl::StatusOr<Region> view = dev.Attach(ShareId(*share), 8192);
        ASSERT_TRUE(view.ok()) << view.status();
        EXPECT_EQ(view->role(), Role::kConsumer);
        EXPECT_EQ(view->provider(), peer_realm);
        EXPECT_EQ(view->size(), 8192u);
        EXPECT_STREQ(static_cast<const char*>(view->data()), "hello");
        std::memcpy(static_cast<char*>(view->data()) + 4096, "back", 5);
        peer.Send("written");
      });
}

TEST(TwoRealms, ReadOnlyShareMapsReadOnly) {
  RunTwoRealms(
      [](Device& dev, RealmId peer_realm, Peer& peer) {
        Region region = MustCreate(dev, 4096);
        static_cast<char*>(region.data())[0] = 'x';
        absl::StatusOr<ShareId> share = region.Share(peer_realm, Permission::kReadOnly);
        ASSERT_TRUE(share.ok()) << share.status();
        peer.Send("share", share->value());
        ASSERT_TRUE(peer.Expect("checked"));
      },
      [](Device& dev, RealmId, Peer& peer) {
        std::optional<uint64_t> share = peer.Expect("share");
        ASSERT_TRUE(share);
        absl::StatusOr<Region> view = dev.Attach(ShareId(*share));
        ASSERT_TRUE(view.ok()) << view.status();
        EXPECT_EQ(view->permission(), Permission::kReadOnly);
        EXPECT_TRUE(CanRead(view->data()));
        EXPECT_FALSE(CanWrite(view->data()));
        EXPECT_NE(mprotect(view->data(), 4096, PROT_READ | PROT_WRITE), 0);
        EXPECT_EQ(static_cast<const char*>(view->data())[0], 'x');
        peer.Send("checked");
      });
}

TEST(TwoRealms, RevokeRemovesTheMappingAndRaisesTheEvent) {
  RunTwoRealms(
      [](Device& dev, RealmId peer_realm, Peer& peer) {
        absl::StatusOr<EventStream> events = dev.Events();
        ASSERT_TRUE(events.ok());
        Region region = MustCreate(dev, 4096);
        absl::StatusOr<ShareId> share = region.Share(peer_realm, Permission::kReadWrite);
        ASSERT_TRUE(share.ok()) << share.status();
        peer.Send("share", share->value());
        Event attached = NextOfType(*events, EventType::kAttached);
        EXPECT_EQ(attached.share, *share);
        EXPECT_EQ(attached.realm, peer_realm);
        ASSERT_TRUE(peer.Expect("mapped"));
        ASSERT_TRUE(region.Revoke(*share).ok());
        peer.Send("revoked", region.id().value());
        EXPECT_TRUE(CanWrite(region.data()));  // the provider keeps its mapping
        ASSERT_TRUE(peer.Expect("detached"));
        EXPECT_TRUE(region.Share(peer_realm, Permission::kReadOnly).ok());
      },
      [](Device& dev, RealmId, Peer& peer) {
        absl::StatusOr<EventStream> events = dev.Events();
        ASSERT_TRUE(events.ok());
        std::optional<uint64_t> share = peer.Expect("share");
        ASSERT_TRUE(share);
        absl::StatusOr<Region> view = dev.Attach(ShareId(*share));
        ASSERT_TRUE(view.ok()) << view.status();
        ASSERT_TRUE(CanRead(view->data()));
        peer.Send("mapped");
        std::optional<uint64_t> region = peer.Expect("revoked");
        ASSERT_TRUE(region);
        // By the time the provider's revoke returned, this mapping was gone.
        EXPECT_FALSE(CanRead(view->data()));
        Event revoked = NextOfType(*events, EventType::kRevoked);
        EXPECT_EQ(revoked.share, ShareId(*share));
        EXPECT_EQ(revoked.region, RegionId(*region));
        absl::StatusOr<RegionInfo> info = view->Info();
        ASSERT_TRUE(info.ok()) << info.status();
        EXPECT_EQ(info->state, static_cast<uint32_t>(CSM_REGION_REVOKED));
        // The share ID is stale and says why, even before we detach.
        absl::StatusOr<Region> again = dev.Attach(ShareId(*share));
        EXPECT_THAT(again.status().message(), HasSubstr("was revoked"));
        EXPECT_TRUE(view->Detach().ok());
        peer.Send("detached");
      });
}

TEST(TwoRealms, DestroyIsRefusedWithLiveSharesUnlessForced) {
  RunTwoRealms(
      [](Device& dev, RealmId peer_realm, Peer& peer) {
        Region region = MustCreate(dev, 4096);
        absl::StatusOr<ShareId> share = region.Share(peer_realm, Permission::kReadOnly);
        ASSERT_TRUE(share.ok()) << share.status();
        peer.Send("share", share->value());
        ASSERT_TRUE(peer.Expect("mapped"));
        absl::Status st = region.Destroy();
        EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
        EXPECT_THAT(st.message(), HasSubstr("still has live shares"));
        ASSERT_TRUE(region.Destroy(/*force=*/true).ok());
        EXPECT_TRUE(region.bytes().empty());
        peer.Send("destroyed", region.id().value());
        ASSERT_TRUE(peer.Expect("checked"));
      },
      [](Device& dev, RealmId, Peer& peer) {
        absl::StatusOr<EventStream> events = dev.Events();
        ASSERT_TRUE(events.ok());
        std::optional<uint64_t> share = peer.Expect("share");
        ASSERT_TRUE(share);
        absl::StatusOr<Region> view = dev.Attach(ShareId(*share));
        ASSERT_TRUE(view.ok()) << view.status();
        EXPECT_TRUE(CanRead(view->data()));
        peer.Send("mapped");
        std::optional<uint64_t> region = peer.Expect("destroyed");
        ASSERT_TRUE(region);
        Event destroyed = NextOfType(*events, EventType::kDestroyed);
        EXPECT_EQ(destroyed.region, RegionId(*region));
        EXPECT_FALSE(CanRead(view->data()));
        absl::StatusOr<Region> again = dev.Attach(ShareId(*share));
        EXPECT_THAT(again.status().message(), HasSubstr("its region was destroyed"));
        peer.Send("checked");
      });
}

TEST(TwoRealms, DetachTellsTheProvider) {
  RunTwoRealms(
      [](Device& dev, RealmId peer_realm, Peer& peer) {
        absl::StatusOr<EventStream> events = dev.Events();
        ASSERT_TRUE(events.ok());
        Region region = MustCreate(dev, 4096);
        absl::StatusOr<ShareId> share = region.Share(peer_realm, Permission::kReadOnly);
        ASSERT_TRUE(share.ok()) << share.status();
        peer.Send("share", share->value());
        Event attached = NextOfType(*events, EventType::kAttached);
        EXPECT_EQ(attached.realm, peer_realm);
        // Only now may the consumer detach: the emulated RMM derives these
        // events from share-state snapshots, so an attach and detach both
        // between two of its rescans would raise neither (see
        // docs/kernel-module.md, known gaps).
        peer.Send("attached-seen");
        Event detached = NextOfType(*events, EventType::kDetached);
        EXPECT_EQ(detached.realm, peer_realm);
        EXPECT_EQ(detached.share, *share);
        peer.Send("seen");
        ASSERT_TRUE(peer.Expect("again"));
      },
      [](Device& dev, RealmId, Peer& peer) {
        std::optional<uint64_t> share = peer.Expect("share");
        ASSERT_TRUE(share);
        {
          absl::StatusOr<Region> view = dev.Attach(ShareId(*share));
          ASSERT_TRUE(view.ok()) << view.status();
          ASSERT_TRUE(peer.Expect("attached-seen"));
        }  // dropping the Region detaches
        ASSERT_TRUE(peer.Expect("seen"));
        // The share is still granted: the consumer may attach again.
        EXPECT_TRUE(dev.Attach(ShareId(*share)).ok());
        peer.Send("again");
      });
}

TEST(TwoRealms, DoorbellsConnectTheParties) {
  RunTwoRealms(
      [](Device& dev, RealmId peer_realm, Peer& peer) {
        Region region = MustCreate(dev, 4096);
        absl::StatusOr<ShareId> share = region.Share(peer_realm, Permission::kReadWrite);
        ASSERT_TRUE(share.ok()) << share.status();
        absl::StatusOr<Doorbell> mine = region.MyDoorbell();
        ASSERT_TRUE(mine.ok()) << mine.status();
        peer.Send("share", share->value());
        ASSERT_TRUE(peer.Expect("attached"));
        absl::StatusOr<Doorbell> ring_consumer = region.PeerDoorbell(peer_realm);
        ASSERT_TRUE(ring_consumer.ok()) << ring_consumer.status();
        EXPECT_TRUE(mine->Wait(kGuard).ok()) << "the consumer's ring did not arrive";
        ring_consumer->Ring();
        EXPECT_EQ(ring_consumer->dropped_rings(), 0u);
        absl::StatusOr<Doorbell> nope = region.PeerDoorbell(RealmId(0x77777));
        EXPECT_TRUE(absl::IsNotFound(nope.status()));
        EXPECT_THAT(nope.status().message(), HasSubstr("is not a party to region"));
        ASSERT_TRUE(peer.Expect("woken"));
      },
      [](Device& dev, RealmId peer_realm, Peer& peer) {
        std::optional<uint64_t> share = peer.Expect("share");
        ASSERT_TRUE(share);
        absl::StatusOr<Region> view = dev.Attach(ShareId(*share));
        ASSERT_TRUE(view.ok()) << view.status();
        absl::StatusOr<Doorbell> mine = view->MyDoorbell();
        absl::StatusOr<Doorbell> ring_provider = view->PeerDoorbell(peer_realm);
        ASSERT_TRUE(mine.ok() && ring_provider.ok());
        peer.Send("attached");
        ring_provider->Ring();
        EXPECT_EQ(ring_provider->dropped_rings(), 0u);
        EXPECT_TRUE(mine->Wait(kGuard).ok()) << "the provider's ring did not arrive";
        peer.Send("woken");
      });
}

}  // namespace
}  // namespace csm
