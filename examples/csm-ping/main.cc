// csm-ping: round-trip latency over a csm zero-copy channel between two
// realms, next to a floor measured in the same run (the two take turns).
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "csm/device.h"
#include "options.h"
#include "ping_layout.h"
#include "ping_sides.h"
#include "report.h"

namespace csm::ping {
namespace {

// Round trips per turn when floor and channel alternate, and the untimed
// ones that start every turn after the first (the echo switches modes).
constexpr uint64_t kInterleaveBlock = 2000;
constexpr uint64_t kRewarmPerBlock = 50;

int Fail(const absl::Status& s) {
  absl::FPrintF(stderr, "csm-ping: %s\n", s.message());
  return 1;
}

void Pin(std::optional<int> cpu) {
  if (!cpu) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(*cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

absl::StatusOr<Device> OpenDevice(const Config& c) {
  Device::Options o;
  o.choice = c.backend;
  return Device::Open(o);
}

absl::StatusOr<Bells> MakeBells(const Region& region, RealmId peer) {
  Bells b;
  for (Doorbell* mine : {&b.mine_for_sender, &b.mine_for_receiver}) {
    absl::StatusOr<Doorbell> d = region.MyDoorbell();
    if (!d.ok()) return d.status();
    *mine = std::move(*d);
  }
  for (Doorbell* theirs : {&b.peer_for_sender, &b.peer_for_receiver}) {
    absl::StatusOr<Doorbell> d = region.PeerDoorbell(peer);
    if (!d.ok()) return d.status();
    *theirs = std::move(*d);
  }
  return b;
}

// The echo realm: provides the region, shares it with `peer`, echoes.
// `announce` is told the share ID once it exists.
template <typename Announce>
absl::Status ServeEcho(Device& dev, const Config& c, RealmId peer, Announce announce) {
  const Layout layout = Layout::For(c.max_message);
  absl::StatusOr<Region> region = dev.CreateRegion(PageRound(layout.region_bytes));
  if (!region.ok()) return region.status();
  if (absl::Status s = FormatRegion(region->bytes(), layout); !s.ok()) return s;
  absl::StatusOr<ShareId> share = region->Share(peer, Permission::kReadWrite);
  if (!share.ok()) return share.status();
  absl::StatusOr<Bells> bells = MakeBells(*region, peer);
  if (!bells.ok()) return bells.status();
  announce(*share, *region);
  return RunEcho(region->bytes(), layout, std::move(*bells), absl::Seconds(c.timeout_s));
}

// The pinger realm: attaches, measures every size, stops the echo.
absl::StatusOr<std::vector<SizeResult>> Measure(Device& dev, const Config& c, ShareId share) {
  absl::StatusOr<Region> region = dev.Attach(share);
  if (!region.ok()) return region.status();
  absl::StatusOr<Bells> bells = MakeBells(*region, region->provider());
  if (!bells.ok()) return bells.status();
  absl::StatusOr<Pinger> pinger = Pinger::Attach(region->bytes(), std::move(*bells));
  if (!pinger.ok()) return pinger.status();
  std::vector<SizeResult> results;
  const absl::Time start = absl::Now();
  absl::Time last_report = start;
  for (uint64_t size : c.sizes) {
    SizeResult r{size, c.count, {}, std::nullopt, std::nullopt};
    // Floor and channel take turns in blocks, so both see the same machine:
    // on a VM the host moves vCPUs, and a round trip here was 400-600 ns in
    // one minute and 140-220 ns in the next (2026-12-06), which made a floor
    // measured before the channel a baseline from another machine.
    std::vector<uint64_t> floor_samples, channel_samples;
    floor_samples.reserve(c.count);
    channel_samples.reserve(c.count);
    for (uint64_t done = 0; done < c.count;) {
      const uint64_t n = std::min(kInterleaveBlock, c.count - done);
      const uint64_t warmup = done == 0 ? c.warmup : kRewarmPerBlock;
      if (c.floor != FloorKind::kNone) {
        absl::StatusOr<std::vector<uint64_t>> floor = pinger->RunFloor(size, warmup, n, c.floor);
        if (!floor.ok()) return floor.status();
        floor_samples.insert(floor_samples.end(), floor->begin(), floor->end());
      }
      absl::StatusOr<std::vector<uint64_t>> samples =
          pinger->RunChannel(size, warmup, n, c.mode, c.spin_budget);
      if (!samples.ok()) return samples.status();
      channel_samples.insert(channel_samples.end(), samples->begin(), samples->end());
      done += n;
      if (c.progress && done < c.count && absl::Now() - last_report >= absl::Seconds(1)) {
        last_report = absl::Now();
        absl::FPrintF(stderr, "csm-ping: %d B: %d/%d round trips (%.0f s)\n", size, done, c.count,
                      absl::ToDoubleSeconds(last_report - start));
      }
    }
    if (c.floor != FloorKind::kNone) r.floor = Summarize(floor_samples);
    const Pinger::FloorWaits waits = pinger->TakeFloorWaits();
    if (waits.round_trips > 0) {  // only the futex floor counts its waits
      r.floor_slept = static_cast<double>(waits.slept) / static_cast<double>(waits.round_trips);
    }
    r.channel = Summarize(channel_samples);
    results.push_back(r);
  }
  if (absl::Status s = pinger->Stop(); !s.ok()) return s;
  return results;
}

void Print(const Config& c, const Device& dev, const std::vector<SizeResult>& results) {
  RunInfo info;
  info.backend = dev.info().Describe();
  info.backend_kind = std::string(BackendKindName(dev.info().backend));
  info.confidential = dev.info().confidential;
  info.mode = c.ModeName();
  info.spin_budget = c.spin_budget;
  info.floor = c.FloorName();
  info.cpus = c.CpusText();
  const std::string out = c.json  ? FormatJson(info, results)
                          : c.csv ? FormatCsv(info, results)
                                  : FormatText(info, results);
  std::fputs(out.c_str(), stdout);
}

bool WriteWord(int fd, uint64_t v) { return write(fd, &v, sizeof(v)) == sizeof(v); }
bool ReadWord(int fd, uint64_t* v) { return read(fd, v, sizeof(*v)) == sizeof(*v); }

// Default: two simulated realms, forked before either opens the device (a
// realm is a process, and a Device must not cross a fork).
int RunLocal(const Config& c) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return Fail(absl::ErrnoToStatus(errno, "socketpair"));
  }
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child < 0) return Fail(absl::ErrnoToStatus(errno, "fork"));
  if (child == 0) {
    close(sv[0]);
    Pin(c.echo_cpu);
    uint64_t peer = 0;
    absl::StatusOr<Device> dev = OpenDevice(c);
    if (!dev.ok() || !ReadWord(sv[1], &peer)) _exit(dev.ok() ? 2 : Fail(dev.status()));
    absl::Status s = ServeEcho(*dev, c, RealmId(peer), [&](ShareId share, const Region&) {
      WriteWord(sv[1], share.value());
    });
    if (!s.ok()) {
      WriteWord(sv[1], 0);
      Fail(absl::Status(s.code(), absl::StrCat("echo realm: ", s.message())));
      _exit(1);
    }
    _exit(0);
  }
  close(sv[1]);
  Pin(c.ping_cpu);
  auto reap = [&] {
    close(sv[0]);
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  };
  absl::StatusOr<Device> dev = OpenDevice(c);
  if (!dev.ok()) {
    reap();
    return Fail(dev.status());
  }
  uint64_t share = 0;
  if (!WriteWord(sv[0], dev->realm_id().value()) || !ReadWord(sv[0], &share) || share == 0) {
    reap();
    return Fail(absl::UnavailableError("the echo realm failed to set up (see above)"));
  }
  absl::StatusOr<std::vector<SizeResult>> results = Measure(*dev, c, ShareId(share));
  if (!results.ok()) {
    kill(child, SIGKILL);
    reap();
    return Fail(results.status());
  }
  if (!reap()) return Fail(absl::InternalError("the echo realm exited with an error"));
  Print(c, *dev, *results);
  return 0;
}

int RunServe(const Config& c) {
  Pin(c.echo_cpu);
  absl::StatusOr<Device> dev = OpenDevice(c);
  if (!dev.ok()) return Fail(dev.status());
  absl::FPrintF(stderr, "csm-ping: %s\n", dev->info().Describe());
  absl::Status s = ServeEcho(*dev, c, RealmId(c.peer), [&](ShareId share, const Region& region) {
    absl::PrintF("share %s region %s size %d provider %s consumer %s\n", share.ToString(),
                region.id().ToString(), region.size(), dev->realm_id().ToString(),
                RealmId(c.peer).ToString());
    std::fflush(stdout);
  });
  if (!s.ok()) return Fail(s);
  return 0;
}

int RunConnect(const Config& c) {
  Pin(c.ping_cpu);
  absl::StatusOr<Device> dev = OpenDevice(c);
  if (!dev.ok()) return Fail(dev.status());
  uint64_t share = c.share;
  if (share == 0) {
    // A prompt, so stderr: stdout carries only results (--json stays clean).
    absl::FPrintF(stderr, "realm %s: paste the share ID from 'csm-ping --serve --peer %s':\n",
                  dev->realm_id().ToString(), dev->realm_id().ToString());
    std::string line;
    if (!std::getline(std::cin, line) || !ParseId(line, &share) || share == 0) {
      return Fail(absl::InvalidArgumentError(absl::StrFormat("'%s' is not a share ID", line)));
    }
  }
  absl::StatusOr<std::vector<SizeResult>> results = Measure(*dev, c, ShareId(share));
  if (!results.ok()) return Fail(results.status());
  Print(c, *dev, *results);
  return 0;
}

int RunWhoami(const Config& c) {
  absl::StatusOr<Device> dev = OpenDevice(c);
  if (!dev.ok()) return Fail(dev.status());
  absl::PrintF("realm %s\n%s\n", dev->realm_id().ToString(), dev->info().Describe());
  return 0;
}

}  // namespace
}  // namespace csm::ping

int main(int argc, char** argv) {
  using namespace csm::ping;
  absl::StatusOr<Config> config = ParseCommandLine(argc, argv);
  if (!config.ok()) return Fail(config.status());
  switch (config->role) {
    case Role::kLocal: return RunLocal(*config);
    case Role::kServe: return RunServe(*config);
    case Role::kConnect: return RunConnect(*config);
    case Role::kWhoami: return RunWhoami(*config);
  }
  return 1;
}
