// The two sides of csm-compare. The responder (provider realm) formats the
// CSM region and the host-shared memory and answers commands; the driver
// (consumer realm) attaches and measures. Each treats the other as untrusted:
// the layout and every message are copied out of shared memory once and
// checked before use.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "layout.h"
#include "variants.h"

namespace csm::compare {

struct Summary {
  uint64_t p50 = 0, p99 = 0, max = 0;
  double mean = 0;
  uint64_t count = 0;
};
// Sorts `samples` in place.
Summary Summarize(std::vector<uint64_t>& samples);

// One measured (mode, variant, size) step; all times in counter ticks.
struct StepResult {
  Mode mode = Mode::kPingPong;
  Variant variant = Variant::kFloor;
  uint64_t size = 0, count = 0;
  Summary rtt;           // ping-pong only
  Summary tx, rx;        // producer (driver) and consumer (responder) work per message
  uint64_t elapsed = 0;  // streaming: ticks from the first timed send to the last message read
  // Set by MedianRepetition, which every reported step goes through: of
  // `repetitions` runs this is the one with the median ticks/msg, and all of
  // them ranged over [ticks_min, ticks_max].
  uint32_t repetitions = 1;
  uint64_t ticks_min = 0, ticks_max = 0;
};

// The producer's plus the consumer's own work per message (p50 each).
inline uint64_t TicksPerMessage(const StepResult& r) { return r.tx.p50 + r.rx.p50; }

// The repetition with the median ticks/msg (the lower middle one of an even
// count), carrying the range of all of them. `runs` is not empty.
StepResult MedianRepetition(std::vector<StepResult> runs);

using Progress = std::function<void(uint64_t done, uint64_t total)>;

// Provider side: lays out `region` and, if given, `host`, tagging both with
// `cookie` so the driver can tell it maps the same host-shared memory.
absl::Status FormatRegion(std::span<std::byte> region, std::span<std::byte> host,
                          const Layout& layout, uint64_t cookie);

// Answers commands until the driver says stop (OK), a peer fault, or no
// command for `idle_timeout`. `layout` is the responder's private copy.
absl::Status RunResponder(std::span<std::byte> region, std::span<std::byte> host,
                          const Layout& layout, absl::Duration idle_timeout);

class Driver {
 public:
  // Reads the responder's layout once and attaches. `host` may be empty
  // (then only the floor, zero-copy and copy variants run).
  static absl::StatusOr<std::unique_ptr<Driver>> Attach(std::span<std::byte> region,
                                                        std::span<std::byte> host);

  absl::StatusOr<StepResult> Run(Variant v, Mode mode, uint64_t size, uint64_t warmup,
                                 uint64_t count, const Progress& progress);
  absl::Status Stop();
  uint64_t max_message() const { return max_message_; }
  bool has_host() const { return ends_.host_out != nullptr; }

 private:
  Driver() = default;
  absl::Status SendCommand(const Command& c);
  absl::StatusOr<RunSummary> AwaitSummary();

  std::optional<ChannelProducer> request_, host_request_;
  std::optional<ChannelConsumer> reply_, host_reply_;
  std::vector<std::byte> private_out_, private_in_;
  Ends ends_;
  uint64_t max_message_ = 0;
};

}  // namespace csm::compare
