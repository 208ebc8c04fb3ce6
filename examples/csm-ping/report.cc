#include "report.h"

#include "cli_values.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace csm::ping {
namespace {

using tools::JsonString;

// Below this share of sleeping waits the futex floor is mostly syscall cost,
// so a doorbell ratio against it understates the doorbell path.
constexpr double kFloorMostlySlept = 0.5;

uint64_t At(const std::vector<uint64_t>& sorted, double q) {
  const auto i = static_cast<std::size_t>(q * static_cast<double>(sorted.size()));
  return sorted[std::min(sorted.size() - 1, i)];
}

double Ratio(const SizeResult& r) {
  return r.floor && r.floor->p50 != 0
             ? static_cast<double>(r.channel.p50) / static_cast<double>(r.floor->p50)
             : 0.0;
}

}  // namespace

Percentiles Summarize(std::vector<uint64_t>& samples) {
  Percentiles p;
  if (samples.empty()) return p;
  std::sort(samples.begin(), samples.end());
  p.p50 = At(samples, 0.50);
  p.p90 = At(samples, 0.90);
  p.p99 = At(samples, 0.99);
  p.p999 = At(samples, 0.999);
  p.max = samples.back();
  p.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  return p;
}

std::string FormatText(const RunInfo& info, const std::vector<SizeResult>& results) {
  std::string out = absl::StrFormat("csm-ping: %s\n", info.backend);
  absl::StrAppendFormat(&out, "mode %s%s, floor %s, cpus %s; round-trip latency in ns\n",
                        info.mode,
                        info.mode == "adaptive" ? absl::StrFormat(" (spin budget %d)", info.spin_budget)
                                                : "",
                        info.floor, info.cpus);
  absl::StrAppendFormat(&out, "%10s %9s %9s %9s %9s %9s %10s %11s %11s %7s\n", "size", "count", "p50",
                        "p90", "p99", "p99.9", "max", "floor_p50", "floor_p99", "ratio");
  for (const SizeResult& r : results) {
    absl::StrAppendFormat(&out, "%10d %9d %9d %9d %9d %9d %10d", r.size, r.count, r.channel.p50,
                          r.channel.p90, r.channel.p99, r.channel.p999, r.channel.max);
    if (r.floor) {
      absl::StrAppendFormat(&out, " %11d %11d %6.2fx\n", r.floor->p50, r.floor->p99, Ratio(r));
    } else {
      absl::StrAppendFormat(&out, " %11s %11s %7s\n", "-", "-", "-");
    }
  }
  for (const SizeResult& r : results) {
    if (r.floor_slept && *r.floor_slept < kFloorMostlySlept) {
      absl::StrAppendFormat(
          &out,
          "note: at %d B the futex floor slept on only %.0f%% of its round trips (the answer was "
          "mostly there before the wait), so its p50 is syscall cost, not a wake-up\n",
          r.size, 100 * *r.floor_slept);
    }
  }
  if (!info.confidential) {
    out += "note: this backend gives no confidentiality; the numbers measure the IPC path only.\n";
  }
  return out;
}

std::string FormatJson(const RunInfo& info, const std::vector<SizeResult>& results) {
  std::string out = absl::StrFormat(
      "{\"tool\":\"csm-ping\",\"backend\":%s,\"backend_kind\":%s,\"confidential\":%s,"
      "\"mode\":%s,\"spin_budget\":%d,\"floor\":%s,\"cpus\":%s,\"results\":[",
      JsonString(info.backend), JsonString(info.backend_kind), info.confidential ? "true" : "false",
      JsonString(info.mode), info.spin_budget, JsonString(info.floor), JsonString(info.cpus));
  for (std::size_t i = 0; i < results.size(); ++i) {
    const SizeResult& r = results[i];
    absl::StrAppendFormat(&out,
                          "%s{\"size\":%d,\"count\":%d,\"p50_ns\":%d,\"p90_ns\":%d,\"p99_ns\":%d,"
                          "\"p999_ns\":%d,\"max_ns\":%d,\"mean_ns\":%.1f",
                          i ? "," : "", r.size, r.count, r.channel.p50, r.channel.p90, r.channel.p99,
                          r.channel.p999, r.channel.max, r.channel.mean);
    if (r.floor) {
      absl::StrAppendFormat(&out, ",\"floor_p50_ns\":%d,\"floor_p99_ns\":%d,\"ratio_p50\":%.3f",
                            r.floor->p50, r.floor->p99, Ratio(r));
    }
    if (r.floor_slept) absl::StrAppendFormat(&out, ",\"floor_slept\":%.3f", *r.floor_slept);
    out += "}";
  }
  return out + "]}\n";
}

std::string FormatCsv(const RunInfo& info, const std::vector<SizeResult>& results) {
  std::string out =
      "backend,mode,floor,size,count,p50_ns,p90_ns,p99_ns,p999_ns,max_ns,mean_ns,floor_p50_ns,"
      "floor_p99_ns,ratio_p50,floor_slept\n";
  for (const SizeResult& r : results) {
    absl::StrAppendFormat(&out, "%s,%s,%s,%d,%d,%d,%d,%d,%d,%d,%.1f,", info.backend_kind, info.mode,
                          info.floor, r.size, r.count, r.channel.p50, r.channel.p90, r.channel.p99,
                          r.channel.p999, r.channel.max, r.channel.mean);
    if (r.floor) {
      absl::StrAppendFormat(&out, "%d,%d,%.3f,", r.floor->p50, r.floor->p99, Ratio(r));
    } else {
      out += ",,,";
    }
    out += r.floor_slept ? absl::StrFormat("%.3f\n", *r.floor_slept) : "\n";
  }
  return out;
}

}  // namespace csm::ping
