// Summaries of round-trip samples and the three output formats.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace csm::ping {

struct Percentiles {
  uint64_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
  double mean = 0;
};
// Sorts `samples` in place.
Percentiles Summarize(std::vector<uint64_t>& samples);

struct SizeResult {
  uint64_t size = 0;
  uint64_t count = 0;
  Percentiles channel;
  std::optional<Percentiles> floor;
  // Futex floor only: the share of its round trips on which the pinger's
  // wait really slept. Near 0, both sides were in lockstep in their
  // syscalls and the floor measured syscall cost, not a wake-up.
  std::optional<double> floor_slept;
};

struct RunInfo {
  std::string backend;      // one line from DeviceInfo::Describe()
  std::string backend_kind;  // "sim", "emulated-rmm", "rsi"
  bool confidential = false;
  std::string mode;          // spin, doorbell, adaptive
  uint32_t spin_budget = 0;
  std::string floor;         // atomic, futex, none
  std::string cpus;          // "0,1" or "none"
};

std::string FormatText(const RunInfo& info, const std::vector<SizeResult>& results);
std::string FormatJson(const RunInfo& info, const std::vector<SizeResult>& results);
std::string FormatCsv(const RunInfo& info, const std::vector<SizeResult>& results);

}  // namespace csm::ping
