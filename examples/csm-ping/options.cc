#include "options.h"

#include "cli_values.h"

#include <unistd.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

ABSL_FLAG(std::string, size, "64", "message size in bytes (at least 24; K/M suffixes allowed)");
ABSL_FLAG(std::string, sizes, "", "comma-separated message sizes, e.g. 64,4K,1M (overrides --size)");
ABSL_FLAG(bool, sweep, false, "every power of two from 64 B to 1 MiB (overrides --size/--sizes)");
ABSL_FLAG(uint64_t, count, 100000, "timed round trips per size");
ABSL_FLAG(uint64_t, warmup, 1000, "untimed round trips before each measurement");
ABSL_FLAG(std::string, mode, "spin",
          "how both sides wait: spin, doorbell (sleep at once) or adaptive (spin, then sleep)");
ABSL_FLAG(uint32_t, budget, 4096, "adaptive mode: checks before sleeping on the doorbell");
ABSL_FLAG(std::string, floor, "auto",
          "baseline measured in the same run: atomic (bare shared-memory ping-pong, same byte "
          "work), futex (the same with futex sleeps), none; auto = futex for doorbell mode, "
          "else atomic");
ABSL_FLAG(std::string, cpus, "0,1", "CPUs for the pinger and echo sides, or 'none'");
ABSL_FLAG(bool, json, false, "print results as JSON");
ABSL_FLAG(bool, csv, false, "print results as CSV");
ABSL_FLAG(bool, progress, true, "report progress on stderr during long runs");
ABSL_FLAG(bool, serve, false,
          "run only the echo side: create a region, share it with --peer, echo until stopped");
ABSL_FLAG(std::string, peer, "", "serve: realm ID of the connecting realm (see --whoami)");
ABSL_FLAG(std::string, connect, "",
          "run only the pinger side: attach to this share ID ('-' prints our realm ID and reads "
          "the share ID from stdin)");
ABSL_FLAG(bool, whoami, false, "print this realm's ID and the backend, then exit");
ABSL_FLAG(uint64_t, timeout, 60, "echo side: seconds to wait for the pinger before giving up");
ABSL_FLAG(std::string, backend, "auto", "auto (/dev/csm if present, else the simulator), kernel, sim");

namespace csm::ping {
namespace {

constexpr uint64_t kMaxSize = 64ull << 20;
constexpr uint64_t kMaxCount = uint64_t{1} << 24;

absl::StatusOr<uint64_t> ParseSize(absl::string_view text) {
  absl::StatusOr<uint64_t> v = tools::ParseByteSize(text, kMaxSize);
  if (v.ok() && *v < kMinMessage) {
    return absl::InvalidArgumentError(
        absl::StrFormat("message size %d is below the %d-byte minimum", *v, kMinMessage));
  }
  return v;
}

absl::Status Bad(absl::string_view flag, absl::string_view why) {
  return tools::FlagError(flag, why);
}

bool OnlyOurFlags(absl::string_view file) { return absl::StrContains(file, "csm-ping"); }

}  // namespace

std::string Config::ModeName() const {
  switch (mode) {
    case Mode::kSpin: return "spin";
    case Mode::kDoorbell: return "doorbell";
    case Mode::kAdaptive: return "adaptive";
  }
  return "?";
}

std::string Config::FloorName() const {
  switch (floor) {
    case FloorKind::kNone: return "none";
    case FloorKind::kAtomic: return "atomic";
    case FloorKind::kFutex: return "futex";
  }
  return "?";
}

std::string Config::CpusText() const {
  if (!ping_cpu) return "none";
  return absl::StrFormat("%d,%d", *ping_cpu, *echo_cpu);
}

absl::StatusOr<Config> ParseCommandLine(int argc, char** argv) {
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = OnlyOurFlags;
  usage.contains_helpshort_flags = OnlyOurFlags;
  usage.normalize_filename = [](absl::string_view f) { return std::string(f); };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "measures round trips over a csm zero-copy channel between two realms.\n\n"
      "  csm-ping                       fork two simulated realms and measure (default)\n"
      "  csm-ping --sweep --json        64 B .. 1 MiB, machine-readable\n"
      "  csm-ping --whoami              print this realm's ID\n"
      "  csm-ping --serve --peer ID     echo side only (provider), e.g. in VM A\n"
      "  csm-ping --connect SHARE       pinger side only (consumer), e.g. in VM B\n\n"
      "Each size is measured next to a floor (the same byte work over a bare shared\n"
      "word), the two taking turns in blocks of 2000 round trips, and reported as a\n"
      "ratio. The sim and emulated-RMM backends give no confidentiality.");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("unexpected argument '%s' (options start with --; see --help)", rest[1]));
  }

  Config c;
  if (absl::GetFlag(FLAGS_sweep)) {
    for (uint64_t s = 64; s <= (1u << 20); s *= 2) c.sizes.push_back(s);
  } else {
    const std::string list =
        absl::GetFlag(FLAGS_sizes).empty() ? absl::GetFlag(FLAGS_size) : absl::GetFlag(FLAGS_sizes);
    for (absl::string_view part : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
      absl::StatusOr<uint64_t> s = ParseSize(part);
      if (!s.ok()) return Bad(absl::GetFlag(FLAGS_sizes).empty() ? "size" : "sizes", s.status().message());
      c.sizes.push_back(*s);
    }
    if (c.sizes.empty()) return Bad("sizes", "no sizes given");
  }
  for (uint64_t s : c.sizes) c.max_message = std::max(c.max_message, s);

  c.count = absl::GetFlag(FLAGS_count);
  if (c.count == 0) return Bad("count", "must be at least 1");
  if (c.count > kMaxCount) {
    return Bad("count", absl::StrFormat("must be at most %d (every sample is kept in memory)", kMaxCount));
  }
  c.warmup = absl::GetFlag(FLAGS_warmup);
  if (c.warmup > kMaxCount) return Bad("warmup", absl::StrFormat("must be at most %d", kMaxCount));

  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "spin") c.mode = Mode::kSpin;
  else if (mode == "doorbell") c.mode = Mode::kDoorbell;
  else if (mode == "adaptive") c.mode = Mode::kAdaptive;
  else return Bad("mode", absl::StrFormat("'%s' is not spin, doorbell or adaptive", mode));
  c.spin_budget = absl::GetFlag(FLAGS_budget);

  const std::string floor = absl::GetFlag(FLAGS_floor);
  if (floor == "auto") c.floor = c.mode == Mode::kDoorbell ? FloorKind::kFutex : FloorKind::kAtomic;
  else if (floor == "atomic") c.floor = FloorKind::kAtomic;
  else if (floor == "futex") c.floor = FloorKind::kFutex;
  else if (floor == "none") c.floor = FloorKind::kNone;
  else return Bad("floor", absl::StrFormat("'%s' is not auto, atomic, futex or none", floor));

  absl::StatusOr<std::optional<std::pair<int, int>>> cpus =
      tools::ParseCpuPair(absl::GetFlag(FLAGS_cpus));
  if (!cpus.ok()) return Bad("cpus", cpus.status().message());
  if (*cpus) {
    c.ping_cpu = (*cpus)->first;
    c.echo_cpu = (*cpus)->second;
  }
  c.json = absl::GetFlag(FLAGS_json);
  c.csv = absl::GetFlag(FLAGS_csv);
  if (c.json && c.csv) return Bad("csv", "choose one of --json and --csv");
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
  return c;
}

}  // namespace csm::ping
