// csm-compare's output: text (default), JSON and CSV.
#pragma once

#include <string>
#include <vector>

#include "cycle_counter.h"
#include "openssl_speed.h"
#include "sides.h"

namespace csm::compare {

struct RunInfo {
  std::string backend;       // DeviceInfo::Describe()
  std::string backend_kind;  // sim, emulated-rmm, rsi
  bool confidential = false;
  std::string host_shared;   // what the sealed variants send through, or "none"
  CounterInfo counter;
  std::string cpus;          // "0,1" (driver, responder) or "none"
  std::string cpu_model, kernel, openssl_version;
  uint32_t repetitions = 1;  // of every step (rows are the median run)
  std::vector<SpeedRow> speed;
};

// Per-message numbers derived from one step.
struct Derived {
  double rtt_p50_ns = 0, rtt_p99_ns = 0;
  uint64_t ticks_per_msg = 0;  // tx p50 + rx p50
  double msgs_per_s = 0, gbytes_per_s = 0;
};
Derived Derive(const RunInfo& info, const StepResult& r);

std::string FormatText(const RunInfo& info, const std::vector<StepResult>& results);
std::string FormatJson(const RunInfo& info, const std::vector<StepResult>& results);
std::string FormatCsv(const RunInfo& info, const std::vector<StepResult>& results);

// The fixed lines every format carries (as text) about what the numbers mean.
std::vector<std::string> Caveats(const RunInfo& info);

}  // namespace csm::compare
