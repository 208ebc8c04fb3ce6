// csm-compare: the headline comparison. Per message size, in one run: a CSM
// channel (zero-copy and copy), the same messages sealed with AES-256-GCM
// and ChaCha20-Poly1305 through plain host-shared memory, and a bare
// shared-memory floor; ping-pong latency and streaming throughput, with
// counter ticks per message on each side.
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "csm/device.h"
#include "host_shared.h"
#include "options.h"
#include "report.h"
#include "sides.h"

namespace csm::compare {
namespace {

int Fail(const absl::Status& s) {
  absl::FPrintF(stderr, "csm-compare: %s\n", s.message());
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

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    for (const char* key : {"model name", "Model", "CPU part"}) {
      if (line.rfind(key, 0) == 0 && line.find(':') != std::string::npos) {
        return line.substr(line.find(':') + 2);
      }
    }
  }
  return "unknown";
}

absl::StatusOr<uint64_t> RandomCookie() {
  uint64_t v = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof(v)) != 1) {
    return absl::InternalError("RAND_bytes failed");
  }
  return v | 1;
}

// The responder realm: provides the region (and lays out the host-shared
// memory), shares it with `peer`, answers. `announce` gets the share ID.
template <typename Announce>
absl::Status Serve(Device& dev, const Config& c, RealmId peer, std::span<std::byte> host,
                   Announce announce) {
  const Layout layout = Layout::For(c.max_message);
  absl::StatusOr<uint64_t> cookie = RandomCookie();
  if (!cookie.ok()) return cookie.status();
  absl::StatusOr<Region> region = dev.CreateRegion(PageRound(layout.region_bytes));
  if (!region.ok()) return region.status();
  if (absl::Status s = FormatRegion(region->bytes(), host, layout, *cookie); !s.ok()) return s;
  absl::StatusOr<ShareId> share = region->Share(peer, Permission::kReadWrite);
  if (!share.ok()) return share.status();
  announce(*share, *region);
  return RunResponder(region->bytes(), host, layout, absl::Seconds(c.timeout_s));
}

// The driver realm: attaches, measures every step, stops the responder.
absl::StatusOr<std::vector<StepResult>> Measure(Device& dev, const Config& c, ShareId share,
                                                std::span<std::byte> host) {
  absl::StatusOr<Region> region = dev.Attach(share);
  if (!region.ok()) return region.status();
  absl::StatusOr<std::unique_ptr<Driver>> driver = Driver::Attach(region->bytes(), host);
  if (!driver.ok()) return driver.status();
  if (c.max_message > (*driver)->max_message()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the responder's region takes messages up to %d bytes; give it the same --sizes",
        (*driver)->max_message()));
  }
  std::vector<StepResult> results;
  const uint64_t steps = c.modes.size() * c.variants.size() * c.sizes.size() * c.repetitions;
  uint64_t step = 0;
  const absl::Time start = absl::Now();
  absl::Time last_report = start;
  for (Mode mode : c.modes) {
    for (uint64_t size : c.sizes) {
      // The variants of one size take turns, so every variant's repetitions
      // span the same stretch of time: this machine's speed drifts over
      // minutes (bench/results/README.md), and a ratio should not.
      std::vector<std::vector<StepResult>> runs(c.variants.size());
      for (uint32_t rep = 0; rep < c.repetitions; ++rep) {
        for (std::size_t vi = 0; vi < c.variants.size(); ++vi) {
          const Variant v = c.variants[vi];
          ++step;
          auto progress = [&](uint64_t done, uint64_t total) {
            if (!c.progress || absl::Now() - last_report < absl::Seconds(1)) return;
            last_report = absl::Now();
            absl::FPrintF(stderr, "csm-compare: step %d/%d: %s %s %d B: %d/%d messages (%.0f s)\n",
                          step, steps, ModeName(mode), VariantName(v), size, done, total,
                          absl::ToDoubleSeconds(last_report - start));
          };
          absl::StatusOr<StepResult> r =
              (*driver)->Run(v, mode, size, c.WarmupFor(size), c.CountFor(size), progress);
          if (!r.ok()) {
            return absl::Status(r.status().code(),
                                absl::StrFormat("%s %s %d B: %s", ModeName(mode), VariantName(v),
                                                size, r.status().message()));
          }
          runs[vi].push_back(*r);
          progress(0, 0);
        }
      }
      for (std::vector<StepResult>& r : runs) results.push_back(MedianRepetition(std::move(r)));
    }
  }
  if (absl::Status s = (*driver)->Stop(); !s.ok()) return s;
  return results;
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::UnavailableError(absl::StrFormat("cannot write %s", path));
  return absl::OkStatus();
}

absl::Status Print(const Config& c, const Device& dev, const std::string& host_shared,
                   const CounterInfo& counter, std::vector<SpeedRow> speed,
                   const std::vector<StepResult>& results) {
  RunInfo info;
  info.backend = dev.info().Describe();
  info.backend_kind = std::string(BackendKindName(dev.info().backend));
  info.confidential = dev.info().confidential;
  info.host_shared = host_shared;
  info.counter = counter;
  info.cpus = c.CpusText();
  info.repetitions = c.repetitions;
  info.cpu_model = CpuModel();
  utsname u;
  info.kernel = uname(&u) == 0 ? absl::StrFormat("%s %s %s", u.sysname, u.release, u.machine) : "?";
  info.openssl_version = OpenSSL_version(OPENSSL_VERSION);
  info.speed = std::move(speed);
  if (!c.json_file.empty()) {
    if (absl::Status s = WriteFile(c.json_file, FormatJson(info, results)); !s.ok()) return s;
  }
  if (!c.csv_file.empty()) {
    if (absl::Status s = WriteFile(c.csv_file, FormatCsv(info, results)); !s.ok()) return s;
  }
  const std::string out = c.json  ? FormatJson(info, results)
                          : c.csv ? FormatCsv(info, results)
                                  : FormatText(info, results);
  std::fputs(out.c_str(), stdout);
  return absl::OkStatus();
}

// Driver-side work before measuring: calibrate the counter, time OpenSSL.
std::pair<CounterInfo, std::vector<SpeedRow>> Prepare(const Config& c) {
  if (c.progress) absl::FPrintF(stderr, "csm-compare: calibrating the counter and OpenSSL\n");
  CounterInfo counter = CalibrateCounter();
  std::vector<SpeedRow> speed;
  if (c.AnySealed()) speed = MeasureOpensslSpeed(counter, c.speed_ms);
  return {counter, speed};
}

bool WriteWord(int fd, uint64_t v) { return write(fd, &v, sizeof(v)) == sizeof(v); }
bool ReadWord(int fd, uint64_t* v) { return read(fd, v, sizeof(*v)) == sizeof(*v); }

// Default: two simulated realms, forked before either opens the device (a
// realm is a process; a Device must not cross a fork). The host-shared memfd
// is mapped before the fork, so both inherit it.
int RunLocal(const Config& c) {
  std::optional<HostSharedMemory> host;
  std::string host_text = "none (no sealed variant selected)";
  if (c.AnySealed()) {
    absl::StatusOr<HostSharedMemory> m =
        HostSharedMemory::CreateAnonymous(Layout::For(c.max_message).host_bytes);
    if (!m.ok()) return Fail(m.status());
    host.emplace(std::move(*m));
    host_text = host->description();
  }
  const std::span<std::byte> host_bytes = host ? host->bytes() : std::span<std::byte>();
  // Before the fork: the idle responder would otherwise spin beside the timing.
  auto [counter, speed] = Prepare(c);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return Fail(absl::ErrnoToStatus(errno, "socketpair"));
  }
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child < 0) return Fail(absl::ErrnoToStatus(errno, "fork"));
  if (child == 0) {
    close(sv[0]);
    Pin(c.responder_cpu);
    uint64_t peer = 0;
    absl::StatusOr<Device> dev = OpenDevice(c);
    if (!dev.ok() || !ReadWord(sv[1], &peer)) _exit(dev.ok() ? 2 : Fail(dev.status()));
    absl::Status s = Serve(*dev, c, RealmId(peer), host_bytes, [&](ShareId share, const Region&) {
      WriteWord(sv[1], share.value());
    });
    if (!s.ok()) {
      WriteWord(sv[1], 0);
      Fail(absl::Status(s.code(), absl::StrCat("responder realm: ", s.message())));
      _exit(1);
    }
    _exit(0);
  }
  close(sv[1]);
  Pin(c.driver_cpu);
  auto reap = [&] {
    close(sv[0]);
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  };
  absl::StatusOr<Device> dev = OpenDevice(c);
  if (!dev.ok()) {
    kill(child, SIGKILL);
    reap();
    return Fail(dev.status());
  }
  if (c.progress) absl::FPrintF(stderr, "csm-compare: %s\n", dev->info().Describe());
  uint64_t share = 0;
  if (!WriteWord(sv[0], dev->realm_id().value()) || !ReadWord(sv[0], &share) || share == 0) {
    reap();
    return Fail(absl::UnavailableError("the responder realm failed to set up (see above)"));
  }
  absl::StatusOr<std::vector<StepResult>> results = Measure(*dev, c, ShareId(share), host_bytes);
  if (!results.ok()) {
    kill(child, SIGKILL);
    reap();
    return Fail(results.status());
  }
  if (!reap()) return Fail(absl::InternalError("the responder realm exited with an error"));
  if (absl::Status s = Print(c, *dev, host_text, counter, std::move(speed), *results); !s.ok()) {
    return Fail(s);
  }
  return 0;
}

absl::StatusOr<std::optional<HostSharedMemory>> OpenHost(const Config& c, bool create) {
  if (!c.AnySealed()) return std::optional<HostSharedMemory>();
  absl::StatusOr<HostSharedMemory> m =
      HostSharedMemory::OpenPath(c.host_mem, Layout::For(c.max_message).host_bytes, create);
  if (!m.ok()) return m.status();
  return std::optional<HostSharedMemory>(std::move(*m));
}

int RunServe(const Config& c) {
  Pin(c.responder_cpu);
  absl::StatusOr<Device> dev = OpenDevice(c);
  if (!dev.ok()) return Fail(dev.status());
  absl::StatusOr<std::optional<HostSharedMemory>> host = OpenHost(c, true);
  if (!host.ok()) return Fail(host.status());
  absl::FPrintF(stderr, "csm-compare: %s\n", dev->info().Describe());
  const std::span<std::byte> bytes = *host ? (*host)->bytes() : std::span<std::byte>();
  absl::Status s = Serve(*dev, c, RealmId(c.peer), bytes, [&](ShareId share, const Region& region) {
    absl::PrintF("share %s region %s size %d provider %s consumer %s\n", share.ToString(),
                 region.id().ToString(), region.size(), dev->realm_id().ToString(),
                 RealmId(c.peer).ToString());
    std::fflush(stdout);
  });
  if (!s.ok()) return Fail(s);
  return 0;
}

int RunConnect(const Config& c) {
  Pin(c.driver_cpu);
  absl::StatusOr<Device> dev = OpenDevice(c);
  if (!dev.ok()) return Fail(dev.status());
  uint64_t share = c.share;
  if (share == 0) {
    // A prompt, so stderr: stdout carries only results.
    absl::FPrintF(stderr, "realm %s: paste the share ID from 'csm-compare --serve --peer %s':\n",
                  dev->realm_id().ToString(), dev->realm_id().ToString());
    std::string line;
    if (!std::getline(std::cin, line) || !ParseId(line, &share) || share == 0) {
      return Fail(absl::InvalidArgumentError(absl::StrFormat("'%s' is not a share ID", line)));
    }
  }
  absl::StatusOr<std::optional<HostSharedMemory>> host = OpenHost(c, false);
  if (!host.ok()) return Fail(host.status());
  const std::span<std::byte> bytes = *host ? (*host)->bytes() : std::span<std::byte>();
  auto [counter, speed] = Prepare(c);
  absl::StatusOr<std::vector<StepResult>> results = Measure(*dev, c, ShareId(share), bytes);
  if (!results.ok()) return Fail(results.status());
  const std::string host_text = *host ? (*host)->description() : "none (no sealed variant selected)";
  if (absl::Status s = Print(c, *dev, host_text, counter, std::move(speed), *results); !s.ok()) {
    return Fail(s);
  }
  return 0;
}

int RunWhoami(const Config& c) {
  absl::StatusOr<Device> dev = OpenDevice(c);
  if (!dev.ok()) return Fail(dev.status());
  absl::PrintF("realm %s\n%s\n", dev->realm_id().ToString(), dev->info().Describe());
  return 0;
}

}  // namespace
}  // namespace csm::compare

int main(int argc, char** argv) {
  using namespace csm::compare;
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
