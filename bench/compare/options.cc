#include "options.h"

#include "cli_values.h"

#include <unistd.h>

#include <algorithm>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "variants.h"

ABSL_FLAG(std::string, sizes, "sweep",
          "comma-separated message sizes (multiples of 8, K/M suffixes), e.g. 64,4K,1M; "
          "'sweep' = every power of two from 64 B to 1 MiB");
ABSL_FLAG(uint64_t, count, 10000, "timed messages per step (mode, variant, size)");
ABSL_FLAG(uint64_t, warmup, 500, "untimed messages before each step");
ABSL_FLAG(uint32_t, repetitions, 1,
          "run every step this many times, the variants of a size taking turns, and report the "
          "repetition with the median ticks/msg (with the range in CSV/JSON)");
ABSL_FLAG(std::string, max_bytes, "256M",
          "cap on the bytes one step moves: large sizes time fewer messages (0 = no cap)");
ABSL_FLAG(std::string, mode, "both", "pingpong (round-trip latency), stream (throughput) or both");
ABSL_FLAG(std::string, variants, "all",
          "comma-separated: floor, zero-copy, copy, aes-gcm, chacha20-poly1305 (or 'all')");
ABSL_FLAG(std::string, cpus, "0,1", "CPUs for the driver and responder sides, or 'none'");
ABSL_FLAG(bool, json, false, "print results as JSON");
ABSL_FLAG(bool, csv, false, "print results as CSV");
ABSL_FLAG(std::string, json_file, "", "also write the JSON results to this file");
ABSL_FLAG(std::string, csv_file, "", "also write the CSV results to this file");
ABSL_FLAG(int, speed_ms, 100,
          "milliseconds per size for the in-process 'openssl speed -evp' equivalent (0 = skip)");
ABSL_FLAG(bool, progress, true, "report progress on stderr during long runs");
ABSL_FLAG(bool, serve, false,
          "run only the responder: create a region, share it with --peer, answer until stopped");
ABSL_FLAG(std::string, peer, "", "serve: realm ID of the driver's realm (see --whoami)");
ABSL_FLAG(std::string, connect, "",
          "run only the driver: attach to this share ID ('-' prints our realm ID and reads the "
          "share ID from stdin)");
ABSL_FLAG(std::string, host_mem, "",
          "serve/connect: file both sides map as the host-shared memory for the sealed variants "
          "(the ivshmem BAR in VMs, e.g. /sys/bus/pci/devices/0000:00:04.0/resource2; "
          "a /dev/shm file on one host)");
ABSL_FLAG(bool, whoami, false, "print this realm's ID and the backend, then exit");
ABSL_FLAG(uint64_t, timeout, 60, "responder: seconds to wait for the next command");
ABSL_FLAG(std::string, backend, "auto", "auto (/dev/csm if present, else the simulator), kernel, sim");

namespace csm::compare {
namespace {

constexpr uint64_t kMaxSize = 16ull << 20;

absl::Status Bad(absl::string_view flag, absl::string_view why) {
  return tools::FlagError(flag, why);
}

bool OnlyOurFlags(absl::string_view file) { return absl::StrContains(file, "compare"); }

}  // namespace

bool Config::AnySealed() const {
  return std::any_of(variants.begin(), variants.end(), IsSealed);
}

std::string Config::CpusText() const {
  if (!driver_cpu) return "none";
  return absl::StrFormat("%d,%d", *driver_cpu, *responder_cpu);
}

uint64_t Config::CountFor(uint64_t size) const {
  if (max_bytes == 0) return count;
  return std::min(count, std::max<uint64_t>(1, max_bytes / size));
}

uint64_t Config::WarmupFor(uint64_t size) const { return std::min(warmup, CountFor(size)); }

absl::StatusOr<Config> ParseCommandLine(int argc, char** argv) {
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = OnlyOurFlags;
  usage.contains_helpshort_flags = OnlyOurFlags;
  usage.normalize_filename = [](absl::string_view f) { return std::string(f); };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "compares moving a message between two realms over a CSM channel (zero-copy and copy)\n"
      "with sealing it (AES-256-GCM, ChaCha20-Poly1305; OpenSSL) through plain host-shared\n"
      "memory, next to a bare shared-memory floor, in one run.\n\n"
      "  csm-compare                        fork two simulated realms, 64 B .. 1 MiB (default)\n"
      "  csm-compare --sizes 64,4K --json   chosen sizes, machine-readable\n"
      "  csm-compare --whoami               print this realm's ID\n"
      "  csm-compare --serve --peer ID --host_mem PATH     responder only, e.g. in VM A\n"
      "  csm-compare --connect SHARE --host_mem PATH       driver only, e.g. in VM B\n\n"
      "Both sides spin. The sim and emulated-RMM backends give no confidentiality.\n"
      "bench/report/make-report.sh turns a run into plots and a markdown report.");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("unexpected argument '%s' (options start with --; see --help)", rest[1]));
  }

  Config c;
  const std::string sizes = absl::GetFlag(FLAGS_sizes);
  if (sizes == "sweep") {
    for (uint64_t s = 64; s <= (1u << 20); s *= 2) c.sizes.push_back(s);
  } else {
    for (absl::string_view part : absl::StrSplit(sizes, ',', absl::SkipWhitespace())) {
      absl::StatusOr<uint64_t> s = tools::ParseByteSize(part, kMaxSize);
      if (!s.ok()) return Bad("sizes", s.status().message());
      if (*s < 8 || *s % 8 != 0) {
        return Bad("sizes", absl::StrFormat("message size %d is not a multiple of 8 (at least 8)", *s));
      }
      c.sizes.push_back(*s);
    }
    if (c.sizes.empty()) return Bad("sizes", "no sizes given");
  }
  for (uint64_t s : c.sizes) c.max_message = std::max(c.max_message, s);

  c.count = absl::GetFlag(FLAGS_count);
  if (c.count == 0) return Bad("count", "must be at least 1");
  if (c.count > (uint64_t{1} << 26)) return Bad("count", "must be at most 67108864");
  c.warmup = absl::GetFlag(FLAGS_warmup);
  c.repetitions = absl::GetFlag(FLAGS_repetitions);
  if (c.repetitions < 1 || c.repetitions > 99) return Bad("repetitions", "must be in [1, 99]");
  absl::StatusOr<uint64_t> max_bytes = tools::ParseByteSize(absl::GetFlag(FLAGS_max_bytes), uint64_t{1} << 50);
  if (!max_bytes.ok()) return Bad("max_bytes", max_bytes.status().message());
  c.max_bytes = *max_bytes;

  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "pingpong") c.modes = {Mode::kPingPong};
  else if (mode == "stream") c.modes = {Mode::kStream};
  else if (mode == "both") c.modes = {Mode::kPingPong, Mode::kStream};
  else return Bad("mode", absl::StrFormat("'%s' is not pingpong, stream or both", mode));

  const std::string variants = absl::GetFlag(FLAGS_variants);
  const std::vector<Variant> all = {Variant::kFloor, Variant::kZeroCopy, Variant::kCopy,
                                    Variant::kAesGcm, Variant::kChaCha};
  if (variants == "all") {
    c.variants = all;
  } else {
    const std::vector<std::string> parts = absl::StrSplit(variants, ',', absl::SkipWhitespace());
    for (const std::string& part : parts) {
      auto it = std::find_if(all.begin(), all.end(), [&](Variant v) {
        return VariantName(v) == part || (v == Variant::kChaCha && part == "chacha");
      });
      if (it == all.end()) {
        return Bad("variants", absl::StrFormat(
            "'%s' is not floor, zero-copy, copy, aes-gcm or chacha20-poly1305", part));
      }
      if (std::find(c.variants.begin(), c.variants.end(), *it) == c.variants.end()) {
        c.variants.push_back(*it);
      }
    }
    if (c.variants.empty()) return Bad("variants", "no variants given");
  }

  absl::StatusOr<std::optional<std::pair<int, int>>> cpus =
      tools::ParseCpuPair(absl::GetFlag(FLAGS_cpus));
  if (!cpus.ok()) return Bad("cpus", cpus.status().message());
  if (*cpus) {
    c.driver_cpu = (*cpus)->first;
    c.responder_cpu = (*cpus)->second;
  }
  c.json = absl::GetFlag(FLAGS_json);
  c.csv = absl::GetFlag(FLAGS_csv);
  if (c.json && c.csv) return Bad("csv", "choose one of --json and --csv");
  c.json_file = absl::GetFlag(FLAGS_json_file);
  c.csv_file = absl::GetFlag(FLAGS_csv_file);
  c.speed_ms = absl::GetFlag(FLAGS_speed_ms);
  if (c.speed_ms < 0 || c.speed_ms > 10000) return Bad("speed_ms", "must be in [0, 10000]");
  c.progress = absl::GetFlag(FLAGS_progress);
  c.timeout_s = absl::GetFlag(FLAGS_timeout);
  if (absl::Status s = tools::CheckTimeoutSeconds(c.timeout_s); !s.ok()) return s;

  absl::StatusOr<BackendChoice> backend = tools::ParseBackendChoice(absl::GetFlag(FLAGS_backend));
  if (!backend.ok()) return Bad("backend", backend.status().message());
  c.backend = *backend;

  absl::StatusOr<tools::RoleChoice> role =
      tools::ParseRole(absl::GetFlag(FLAGS_serve), absl::GetFlag(FLAGS_peer),
                       absl::GetFlag(FLAGS_connect), absl::GetFlag(FLAGS_whoami));
  if (!role.ok()) return role.status();
  c.role = role->role;
  c.peer = role->peer;
  c.share = role->share;
  c.host_mem = absl::GetFlag(FLAGS_host_mem);
  if ((c.role == Role::kServe || c.role == Role::kConnect) && c.AnySealed() && c.host_mem.empty()) {
    return Bad("host_mem", "the sealed variants need a host-shared memory path on both sides "
                           "(or --variants without aes-gcm and chacha20-poly1305)");
  }
  if (c.role == Role::kLocal && !c.host_mem.empty()) {
    return Bad("host_mem", "only for --serve/--connect (forked realms share a memfd)");
  }
  return c;
}

}  // namespace csm::compare
