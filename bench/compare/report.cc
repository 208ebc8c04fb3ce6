#include "report.h"

#include "cli_values.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace csm::compare {
namespace {

using tools::JsonString;

std::string CsvField(std::string_view s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

Derived Derive(const RunInfo& info, const StepResult& r) {
  Derived d;
  d.rtt_p50_ns = info.counter.ToNs(r.rtt.p50);
  d.rtt_p99_ns = info.counter.ToNs(r.rtt.p99);
  d.ticks_per_msg = TicksPerMessage(r);
  const double seconds = info.counter.ToNs(r.elapsed) * 1e-9;
  if (seconds > 0) {
    d.msgs_per_s = static_cast<double>(r.count) / seconds;
    d.gbytes_per_s = d.msgs_per_s * static_cast<double>(r.size) / 1e9;
  }
  return d;
}

std::vector<std::string> Caveats(const RunInfo& info) {
  std::vector<std::string> out;
  if (!info.confidential) {
    out.push_back(absl::StrFormat(
        "The %s backend gives NO confidentiality: CSM regions here are ordinary shared memory. "
        "The numbers measure the IPC path a real CSM deployment would take, not its protection.",
        info.backend_kind));
  }
  out.push_back(absl::StrFormat("Sealed variants go through %s.", info.host_shared));
  out.push_back(absl::StrFormat(
      "Ticks are %s at %.3f GHz (%s); a pair of reads costs %d ticks (included in every "
      "sample) and the counter advances in steps of %d ticks (%.1f ns)%s.",
      info.counter.name, info.counter.hz / 1e9, info.counter.note, info.counter.overhead,
      info.counter.resolution, info.counter.ToNs(info.counter.resolution),
      info.counter.resolution > 1 ? ", so every per-message figure is a multiple of that step"
                                  : ""));
  out.push_back(
      "tx/rx: ticks of the producer's and consumer's own work per message (waiting for the peer "
      "excluded); ticks/msg = tx p50 + rx p50. Every variant writes and reads every byte.");
  if (info.repetitions > 1) {
    out.push_back(absl::StrFormat(
        "Every step ran %d times, the variants of a size taking turns; each row is the run with "
        "the median ticks/msg (CSV/JSON give the range).",
        info.repetitions));
  }
  return out;
}

std::string FormatText(const RunInfo& info, const std::vector<StepResult>& results) {
  std::string out = absl::StrFormat("csm-compare: %s\n", info.backend);
  for (const std::string& c : Caveats(info)) absl::StrAppend(&out, "note: ", c, "\n");
  absl::StrAppendFormat(&out, "cpus %s (driver, responder); %s\n", info.cpus, info.openssl_version);
  if (!info.speed.empty()) {
    out += "openssl speed equivalent (MB/s): size, aes-256-gcm evp-update / our seal, "
           "chacha20-poly1305 evp-update / our seal\n";
    for (const SpeedRow& s : info.speed) {
      absl::StrAppendFormat(&out, "  %-18s %6d  %9.1f / %9.1f  (%.2f / %.2f ticks/B)\n",
                            AeadName(s.kind), s.size, s.evp_update_mbps, s.seal_mbps,
                            s.evp_update_ticks_per_byte, s.seal_ticks_per_byte);
    }
  }
  absl::StrAppendFormat(&out, "%-8s %-17s %8s %7s %9s %9s %9s %9s %10s %11s %8s\n", "mode",
                        "variant", "size", "count", "rtt_p50", "rtt_p99", "tx_p50", "rx_p50",
                        "ticks/msg", "msgs/s", "GB/s");
  for (const StepResult& r : results) {
    const Derived d = Derive(info, r);
    const bool pp = r.mode == Mode::kPingPong;
    absl::StrAppendFormat(&out, "%-8s %-17s %8d %7d %9s %9s %9d %9d %10d %11.0f %8.3f\n",
                          ModeName(r.mode), VariantName(r.variant), r.size, r.count,
                          pp ? absl::StrFormat("%.0f", d.rtt_p50_ns) : "-",
                          pp ? absl::StrFormat("%.0f", d.rtt_p99_ns) : "-", r.tx.p50, r.rx.p50,
                          d.ticks_per_msg, d.msgs_per_s, d.gbytes_per_s);
  }
  out += "(rtt in ns, ping-pong only; tx/rx and ticks/msg in counter ticks)\n";
  return out;
}

std::string FormatJson(const RunInfo& info, const std::vector<StepResult>& results) {
  std::vector<std::string> caveats;
  for (const std::string& c : Caveats(info)) caveats.push_back(JsonString(c));
  std::string out = absl::StrFormat(
      "{\"tool\":\"csm-compare\",\"backend\":%s,\"backend_kind\":%s,\"confidential\":%s,"
      "\"host_shared\":%s,\"counter\":{\"name\":%s,\"note\":%s,\"hz\":%.0f,\"overhead_ticks\":%d,"
      "\"resolution_ticks\":%d},"
      "\"cpus\":%s,\"cpu_model\":%s,\"kernel\":%s,\"openssl\":%s,\"caveats\":[%s],\"openssl_speed\":[",
      JsonString(info.backend), JsonString(info.backend_kind), info.confidential ? "true" : "false",
      JsonString(info.host_shared), JsonString(info.counter.name), JsonString(info.counter.note),
      info.counter.hz, info.counter.overhead, info.counter.resolution, JsonString(info.cpus),
      JsonString(info.cpu_model), JsonString(info.kernel), JsonString(info.openssl_version), absl::StrJoin(caveats, ","));
  for (std::size_t i = 0; i < info.speed.size(); ++i) {
    const SpeedRow& s = info.speed[i];
    absl::StrAppendFormat(&out,
                          "%s{\"cipher\":%s,\"size\":%d,\"evp_update_mbps\":%.1f,\"seal_mbps\":%.1f,"
                          "\"evp_update_ticks_per_byte\":%.3f,\"seal_ticks_per_byte\":%.3f}",
                          i ? "," : "", JsonString(AeadName(s.kind)), s.size, s.evp_update_mbps,
                          s.seal_mbps, s.evp_update_ticks_per_byte, s.seal_ticks_per_byte);
  }
  out += "],\"results\":[";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const StepResult& r = results[i];
    const Derived d = Derive(info, r);
    absl::StrAppendFormat(
        &out,
        "%s{\"mode\":%s,\"variant\":%s,\"size\":%d,\"count\":%d,%s\"tx_p50_ticks\":%d,"
        "\"tx_p99_ticks\":%d,\"rx_p50_ticks\":%d,\"rx_p99_ticks\":%d,\"ticks_per_msg\":%d,"
        "\"msgs_per_s\":%.1f,\"gbytes_per_s\":%.4f,\"repetitions\":%d,\"ticks_per_msg_min\":%d,"
        "\"ticks_per_msg_max\":%d}",
        i ? "," : "", JsonString(ModeName(r.mode)), JsonString(VariantName(r.variant)), r.size,
        r.count,
        r.mode == Mode::kPingPong
            ? absl::StrFormat("\"rtt_p50_ns\":%.1f,\"rtt_p99_ns\":%.1f,\"rtt_p50_ticks\":%d,"
                              "\"rtt_p99_ticks\":%d,",
                              d.rtt_p50_ns, d.rtt_p99_ns, r.rtt.p50, r.rtt.p99)
            : std::string(),
        r.tx.p50, r.tx.p99, r.rx.p50,
        r.rx.p99, d.ticks_per_msg, d.msgs_per_s, d.gbytes_per_s, r.repetitions, r.ticks_min,
        r.ticks_max);
  }
  return out + "]}\n";
}

std::string FormatCsv(const RunInfo& info, const std::vector<StepResult>& results) {
  std::string out =
      "backend,confidential,counter,counter_hz,mode,variant,size,count,rtt_p50_ns,rtt_p99_ns,"
      "rtt_p50_ticks,rtt_p99_ticks,tx_p50_ticks,tx_p99_ticks,rx_p50_ticks,rx_p99_ticks,"
      "ticks_per_msg,msgs_per_s,gbytes_per_s,repetitions,ticks_per_msg_min,ticks_per_msg_max\n";
  for (const StepResult& r : results) {
    const Derived d = Derive(info, r);
    const bool pp = r.mode == Mode::kPingPong;
    absl::StrAppendFormat(&out, "%s,%d,%s,%.0f,%s,%s,%d,%d,", CsvField(info.backend_kind),
                          info.confidential ? 1 : 0, info.counter.name, info.counter.hz,
                          ModeName(r.mode), VariantName(r.variant), r.size, r.count);
    if (pp) {
      absl::StrAppendFormat(&out, "%.1f,%.1f,%d,%d,", d.rtt_p50_ns, d.rtt_p99_ns, r.rtt.p50, r.rtt.p99);
    } else {
      out += ",,,,";
    }
    absl::StrAppendFormat(&out, "%d,%d,%d,%d,%d,%.1f,%.4f,%d,%d,%d\n", r.tx.p50, r.tx.p99,
                          r.rx.p50, r.rx.p99, d.ticks_per_msg, d.msgs_per_s, d.gbytes_per_s,
                          r.repetitions, r.ticks_min, r.ticks_max);
  }
  return out;
}

}  // namespace csm::compare
