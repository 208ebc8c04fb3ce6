#include "sides.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "absl/strings/str_format.h"
#include "csm/ring/shared_access.h"
#include "cycle_counter.h"
#include "spin.h"

namespace csm::compare {
namespace {

// Most samples one run may ask the responder to keep (bounds its memory).
constexpr uint64_t kMaxCount = uint64_t{1} << 26;

bool RangeInside(uint64_t offset, uint64_t bytes, uint64_t total, uint64_t first) {
  return offset % kPage == 0 && offset >= first && bytes <= total && offset <= total - bytes;
}

bool Disjoint(uint64_t a, uint64_t an, uint64_t b, uint64_t bn) { return a + an <= b || b + bn <= a; }

uint64_t At(const std::vector<uint64_t>& sorted, double q) {
  const auto i = static_cast<std::size_t>(q * static_cast<double>(sorted.size()));
  return sorted[std::min(sorted.size() - 1, i)];
}

template <typename T>
absl::Status SendStruct(ChannelProducer& out, const T& value, const char* what) {
  absl::StatusOr<ChannelLoan> loan = AwaitLoan(out, sizeof(T), what);
  if (!loan.ok()) return loan.status();
  std::memcpy(loan->data.data(), &value, sizeof(T));
  return out.commit(*loan, sizeof(T));
}

// Copies the next message out once; it must be exactly a T.
template <typename T>
absl::StatusOr<T> ReceiveStruct(ChannelConsumer& in, const char* what, absl::Duration timeout) {
  absl::StatusOr<ChannelMessage> m = AwaitMessage(in, what, timeout);
  if (!m.ok()) return m.status();
  T value{};
  const bool sized = m->data.size() == sizeof(T);
  if (sized) std::memcpy(&value, m->data.data(), sizeof(T));
  if (absl::Status s = in.release(*m); !s.ok()) return s;
  if (!sized) {
    return absl::DataLossError(absl::StrFormat("peer sent %d bytes for the %s, expected %d",
                                               m->data.size(), what, sizeof(T)));
  }
  return value;
}

uint64_t TotalExpected(uint64_t size, uint64_t total) {
  uint64_t sum = 0;
  for (uint64_t seq = 0; seq < total; ++seq) sum += ExpectedSum(size, seq);
  return sum;
}

}  // namespace

Summary Summarize(std::vector<uint64_t>& samples) {
  Summary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.p50 = At(samples, 0.50);
  s.p99 = At(samples, 0.99);
  s.max = samples.back();
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  return s;
}

// ---------------------------------------------------------------- responder --

absl::Status FormatRegion(std::span<std::byte> region, std::span<std::byte> host,
                          const Layout& l, uint64_t cookie) {
  if (region.size() < l.region_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "region of %d bytes is too small for this layout (needs %d)", region.size(), l.region_bytes));
  }
  if (!host.empty() && host.size() < l.host_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "host-shared memory of %d bytes is too small (needs %d)", host.size(), l.host_bytes));
  }
  auto* c = reinterpret_cast<ControlPage*>(region.data());
  std::memset(region.data(), 0, kPage);
  c->cookie = cookie;
  c->floor_offset = l.floor_offset;
  c->floor_bytes = l.floor_bytes;
  c->request_offset = l.request_offset;
  c->request_bytes = l.request_bytes;
  c->request_arena = l.request_arena;
  c->reply_offset = l.reply_offset;
  c->reply_bytes = l.reply_bytes;
  c->host_bytes = l.host_bytes;
  c->host_request_offset = l.host_request_offset;
  c->host_request_bytes = l.host_request_bytes;
  c->host_reply_offset = l.host_reply_offset;
  c->host_reply_bytes = l.host_reply_bytes;
  for (auto [offset, bytes, arena] : {std::tuple{l.request_offset, l.request_bytes, l.request_arena},
                                      std::tuple{l.reply_offset, l.reply_bytes, kReplyArena}}) {
    if (absl::Status s = FormatChannel(region.subspan(offset, bytes), arena); !s.ok()) return s;
    if (!host.empty()) {
      const uint64_t host_offset = offset == l.request_offset ? l.host_request_offset : l.host_reply_offset;
      if (absl::Status s = FormatChannel(host.subspan(host_offset, bytes), arena); !s.ok()) return s;
    }
  }
  if (!host.empty()) {
    auto* h = reinterpret_cast<HostHeader*>(host.data());
    h->cookie = cookie;
    shared::StoreRelease(&h->magic, kHostMagic);
  }
  shared::StoreRelease(&c->magic, kControlMagic);
  return absl::OkStatus();
}

absl::Status RunResponder(std::span<std::byte> region, std::span<std::byte> host, const Layout& l,
                          absl::Duration idle_timeout) {
  auto request = ChannelConsumer::Attach(region.subspan(l.request_offset, l.request_bytes));
  auto reply = ChannelProducer::Attach(region.subspan(l.reply_offset, l.reply_bytes));
  if (!request.ok()) return request.status();
  if (!reply.ok()) return reply.status();
  std::optional<ChannelConsumer> host_request;
  std::optional<ChannelProducer> host_reply;
  if (!host.empty()) {
    auto hq = ChannelConsumer::Attach(host.subspan(l.host_request_offset, l.host_request_bytes));
    auto hp = ChannelProducer::Attach(host.subspan(l.host_reply_offset, l.host_reply_bytes));
    if (!hq.ok()) return hq.status();
    if (!hp.ok()) return hp.status();
    host_request.emplace(std::move(*hq));
    host_reply.emplace(std::move(*hp));
  }
  const uint64_t max_message = l.request_arena / 2 - 128 - SealedBytes(0);
  std::vector<std::byte> private_out(max_message), private_in(max_message);
  Ends ends;
  ends.csm_out = &*reply;
  ends.csm_in = &*request;
  ends.host_out = host_reply ? &*host_reply : nullptr;
  ends.host_in = host_request ? &*host_request : nullptr;
  ends.control = reinterpret_cast<ControlPage*>(region.data());
  ends.floor = region.subspan(l.floor_offset, l.floor_bytes);
  ends.private_out = private_out;
  ends.private_in = private_in;

  for (;;) {
    absl::StatusOr<Command> c = ReceiveStruct<Command>(*request, "command", idle_timeout);
    if (!c.ok()) return c.status();
    if (c->kind == static_cast<uint32_t>(CommandKind::kStop)) return absl::OkStatus();
    const auto v = static_cast<Variant>(c->variant);
    const auto mode = static_cast<Mode>(c->mode);
    if (c->kind != static_cast<uint32_t>(CommandKind::kRun) || c->variant < 1 || c->variant > 5 ||
        c->mode < 1 || c->mode > 2 || c->size < 8 || c->size % 8 != 0 || c->size > max_message ||
        c->count == 0 || c->count > kMaxCount || c->warmup > kMaxCount) {
      return absl::DataLossError("driver sent an invalid command");
    }
    absl::StatusOr<std::unique_ptr<DataReceiver>> receiver = MakeReceiver(v, ends, c->key);
    if (!receiver.ok()) return receiver.status();
    std::vector<uint64_t> rx;
    rx.reserve(std::min<uint64_t>(c->count, 1 << 16));  // the driver's number: grow past it
    uint64_t sum = 0;
    const uint64_t total = c->warmup + c->count;
    for (uint64_t seq = 0; seq < total; ++seq) {
      absl::StatusOr<Received> r = (*receiver)->Receive(c->size);
      if (!r.ok()) return r.status();
      sum += r->sum;
      if (mode == Mode::kPingPong) {
        if (absl::Status s = (*receiver)->Ack(seq, r->sum); !s.ok()) return s;
      }
      if (seq >= c->warmup) rx.push_back(r->ticks);
    }
    const Summary s = Summarize(rx);
    const RunSummary summary{kControlMagic, total, sum, s.p50, s.p99, s.max, s.mean};
    if (absl::Status st = SendStruct(*reply, summary, "run summary room"); !st.ok()) return st;
  }
}

// ------------------------------------------------------------------- driver --

absl::StatusOr<std::unique_ptr<Driver>> Driver::Attach(std::span<std::byte> region,
                                                       std::span<std::byte> host) {
  if (region.size() < kPage) return absl::InvalidArgumentError("region is smaller than a page");
  auto* c = reinterpret_cast<ControlPage*>(region.data());
  if (shared::LoadAcquire(&c->magic) != kControlMagic) {
    return absl::FailedPreconditionError("region holds no csm-compare layout (wrong share?)");
  }
  // One read of each field, then checks on the private copies.
  auto get = [](const uint64_t& f) { return shared::LoadRelaxed(&f); };
  const uint64_t cookie = get(c->cookie);
  const uint64_t fo = get(c->floor_offset), fb = get(c->floor_bytes);
  const uint64_t qo = get(c->request_offset), qb = get(c->request_bytes), qa = get(c->request_arena);
  const uint64_t po = get(c->reply_offset), pb = get(c->reply_bytes);
  const uint64_t hb = get(c->host_bytes);
  const uint64_t hqo = get(c->host_request_offset), hqb = get(c->host_request_bytes);
  const uint64_t hpo = get(c->host_reply_offset), hpb = get(c->host_reply_bytes);
  const uint64_t n = region.size();
  if (!RangeInside(fo, fb, n, kPage) || !RangeInside(qo, qb, n, kPage) ||
      !RangeInside(po, pb, n, kPage) || !Disjoint(fo, fb, qo, qb) || !Disjoint(fo, fb, po, pb) ||
      !Disjoint(qo, qb, po, pb) || qa < 65536 || (qa & (qa - 1)) != 0 || qa > qb) {
    return absl::DataLossError("the responder published an impossible region layout");
  }
  std::unique_ptr<Driver> d(new Driver());
  auto request = ChannelProducer::Attach(region.subspan(qo, qb));
  auto reply = ChannelConsumer::Attach(region.subspan(po, pb));
  if (!request.ok()) return request.status();
  if (!reply.ok()) return reply.status();
  d->request_.emplace(std::move(*request));
  d->reply_.emplace(std::move(*reply));
  if (!host.empty()) {
    if (hb > host.size() || !RangeInside(hqo, hqb, hb, kPage) || !RangeInside(hpo, hpb, hb, kPage) ||
        !Disjoint(hqo, hqb, hpo, hpb)) {
      return absl::DataLossError(absl::StrFormat(
          "host-shared memory of %d bytes does not hold the responder's layout (needs %d)",
          host.size(), hb));
    }
    auto* h = reinterpret_cast<HostHeader*>(host.data());
    if (shared::LoadAcquire(&h->magic) != kHostMagic || shared::LoadRelaxed(&h->cookie) != cookie) {
      return absl::FailedPreconditionError(
          "host-shared memory is not the responder's (different --host_mem?)");
    }
    auto hq = ChannelProducer::Attach(host.subspan(hqo, hqb));
    auto hp = ChannelConsumer::Attach(host.subspan(hpo, hpb));
    if (!hq.ok()) return hq.status();
    if (!hp.ok()) return hp.status();
    d->host_request_.emplace(std::move(*hq));
    d->host_reply_.emplace(std::move(*hp));
  }
  // The published arena size is the responder's word: the channels' own
  // (validated) geometry bounds the message too.
  d->max_message_ = std::min<uint64_t>({qa / 2 - 128 - SealedBytes(0), fb,
                                        d->request_->max_message_bytes()});
  if (d->host_request_) {
    const uint64_t host_max = d->host_request_->max_message_bytes();
    d->max_message_ = std::min<uint64_t>(
        d->max_message_, host_max > SealedBytes(0) ? host_max - SealedBytes(0) : 0);
  }
  d->private_out_.resize(d->max_message_);
  d->private_in_.resize(d->max_message_);
  Ends& e = d->ends_;
  e.csm_out = &*d->request_;
  e.csm_in = &*d->reply_;
  e.host_out = d->host_request_ ? &*d->host_request_ : nullptr;
  e.host_in = d->host_reply_ ? &*d->host_reply_ : nullptr;
  e.control = c;
  e.floor = region.subspan(fo, fb);
  e.private_out = d->private_out_;
  e.private_in = d->private_in_;
  return d;
}

absl::Status Driver::SendCommand(const Command& c) { return SendStruct(*request_, c, "command room"); }

absl::StatusOr<RunSummary> Driver::AwaitSummary() {
  absl::StatusOr<RunSummary> s = ReceiveStruct<RunSummary>(*reply_, "run summary", kPeerTimeout);
  if (!s.ok()) return s.status();
  if (s->magic != kControlMagic) return absl::DataLossError("responder sent a bad run summary");
  return s;
}

StepResult MedianRepetition(std::vector<StepResult> runs) {
  std::sort(runs.begin(), runs.end(), [](const StepResult& a, const StepResult& b) {
    return TicksPerMessage(a) < TicksPerMessage(b);
  });
  StepResult median = runs[(runs.size() - 1) / 2];
  median.repetitions = static_cast<uint32_t>(runs.size());
  median.ticks_min = TicksPerMessage(runs.front());
  median.ticks_max = TicksPerMessage(runs.back());
  return median;
}

absl::StatusOr<StepResult> Driver::Run(Variant v, Mode mode, uint64_t size, uint64_t warmup,
                                       uint64_t count, const Progress& progress) {
  if (size < 8 || size % 8 != 0 || size > max_message_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "message size %d is not a multiple of 8 in [8, %d] for this region", size, max_message_));
  }
  if (IsSealed(v) && !has_host()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s needs host-shared memory (--host_mem on both sides)", VariantName(v)));
  }
  Command cmd{static_cast<uint32_t>(CommandKind::kRun), static_cast<uint32_t>(v),
              static_cast<uint32_t>(mode), 0, size, warmup, count, {}};
  // A fresh key per run: sequence numbers restart, IVs never repeat under a key.
  // It travels through the CSM region (confidential memory in a real deployment).
  if (IsSealed(v) && RAND_bytes(cmd.key.data(), static_cast<int>(cmd.key.size())) != 1) {
    return absl::InternalError("RAND_bytes failed");
  }
  absl::StatusOr<std::unique_ptr<DataSender>> sender = MakeSender(v, ends_, cmd.key);
  if (!sender.ok()) return sender.status();
  if (absl::Status s = SendCommand(cmd); !s.ok()) return s;

  StepResult r;
  r.mode = mode;
  r.variant = v;
  r.size = size;
  r.count = count;
  std::vector<uint64_t> tx, rtt;
  tx.reserve(count);
  if (mode == Mode::kPingPong) rtt.reserve(count);
  const uint64_t total = warmup + count;
  uint64_t start = 0;
  for (uint64_t seq = 0; seq < total; ++seq) {
    if (seq == warmup) start = ReadCounter();
    const uint64_t t0 = ReadCounter();
    absl::StatusOr<uint64_t> sent = (*sender)->Send(seq, size);
    if (!sent.ok()) return sent.status();
    if (mode == Mode::kPingPong) {
      absl::StatusOr<uint64_t> sum = (*sender)->AwaitAck(seq);
      if (!sum.ok()) return sum.status();
      const uint64_t t1 = ReadCounter();
      if (*sum != ExpectedSum(size, seq)) {
        return absl::DataLossError(absl::StrFormat(
            "responder's checksum of message %d is %#x, expected %#x", seq, *sum, ExpectedSum(size, seq)));
      }
      if (seq >= warmup) rtt.push_back(t1 - t0);
    }
    if (seq >= warmup) tx.push_back(*sent);
    if ((seq & 1023) == 1023 && progress) progress(seq + 1, total);
  }
  absl::StatusOr<RunSummary> summary = AwaitSummary();
  if (!summary.ok()) return summary.status();
  r.elapsed = ReadCounter() - start;
  if (summary->messages != total || summary->sum != TotalExpected(size, total)) {
    return absl::DataLossError(absl::StrFormat(
        "responder read %d messages with checksum %#x, expected %d with %#x", summary->messages,
        summary->sum, total, TotalExpected(size, total)));
  }
  r.tx = Summarize(tx);
  if (mode == Mode::kPingPong) r.rtt = Summarize(rtt);
  r.rx = Summary{summary->rx_p50, summary->rx_p99, summary->rx_max, summary->rx_mean, count};
  return r;
}

absl::Status Driver::Stop() {
  Command cmd{};
  cmd.kind = static_cast<uint32_t>(CommandKind::kStop);
  return SendCommand(cmd);
}

}  // namespace csm::compare
