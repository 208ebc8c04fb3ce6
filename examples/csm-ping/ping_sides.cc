#include "ping_sides.h"

#include "spin_until.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "csm/ring/shared_access.h"

namespace csm::ping {
namespace {

using tools::kPeerTimeout;
using tools::SpinUntil;

// Sleeping waits wake at least this often to re-check (and to notice a peer
// that switched to spinning and no longer rings).
constexpr absl::Duration kRecheck = absl::Milliseconds(10);

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

void FutexWake(uint32_t* word) {
  syscall(SYS_futex, word, FUTEX_WAKE, 1, nullptr, nullptr, 0);
}

// Sleeps until *word == want (re-checking every kRecheck), DeadlineExceeded
// after kPeerTimeout. Not private: the word is in memory another process maps.
// Counts in `*slept` the waits that returned because a wake came (not
// because the word had changed before the kernel looked).
absl::Status FutexWaitFor(uint32_t* word, uint32_t want, const char* what,
                          uint64_t* slept = nullptr) {
  const absl::Time deadline = absl::Now() + kPeerTimeout;
  for (;;) {
    const uint32_t seen = shared::LoadAcquire(word);
    if (seen == want) return absl::OkStatus();
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrFormat("peer did not answer (%s)", what));
    }
    const timespec ts = absl::ToTimespec(kRecheck);
    if (syscall(SYS_futex, word, FUTEX_WAIT, seen, &ts, nullptr, 0) == 0 && slept) ++*slept;
  }
}

// Checksum of the payload FillPayload(seq) writes, without reading it back.
uint64_t PayloadSum(std::size_t n, uint64_t seq) {
  return (n / 8) * tools::PatternWord(seq) + (n % 8) * tools::PatternByte(seq);
}

uint64_t HeaderSum(const MessageHeader& h) {
  return Checksum(reinterpret_cast<const std::byte*>(&h), sizeof(h));
}

// The pinger's wait policy, carried in every ping so the echo answers alike.
uint64_t EncodeMode(Mode mode, uint32_t spin_budget) {
  return mode == Mode::kSpin ? 0 : (uint64_t{1} << 32) | spin_budget;
}

WaitOptions WaitFor(Mode mode, uint32_t spin_budget) {
  switch (mode) {
    case Mode::kSpin: return {UINT32_MAX, kRecheck};
    case Mode::kDoorbell: return {0, kRecheck};
    case Mode::kAdaptive: return {spin_budget, kRecheck};
  }
  return {};
}

// Copies a header out of shared memory once; the message must be at least
// a header long and say its own length.
absl::StatusOr<MessageHeader> ReadHeader(std::span<const std::byte> message) {
  MessageHeader h;
  if (message.size() < sizeof(h)) {
    return absl::DataLossError(absl::StrFormat("peer sent a %d-byte message", message.size()));
  }
  std::memcpy(&h, message.data(), sizeof(h));
  return h;
}

bool RangeInside(uint64_t offset, uint64_t bytes, uint64_t total) {
  return offset % kPage == 0 && offset >= sizeof(ControlPage) && bytes <= total &&
         offset <= total - bytes;
}

bool Disjoint(uint64_t a, uint64_t an, uint64_t b, uint64_t bn) { return a + an <= b || b + bn <= a; }

// Receives with the given mode until a message arrives or the peer times out.
absl::StatusOr<ChannelMessage> ReceiveWithin(ChannelReceiver& r, Mode mode, uint32_t budget,
                                             absl::Duration timeout) {
  if (mode == Mode::kSpin) {
    ChannelMessage m;
    RingResult result = RingResult::kWouldBlock;
    absl::Status s = SpinUntil(
        [&] { return (result = r.endpoint().try_receive(m)) != RingResult::kWouldBlock; },
        "waiting for a message", timeout);
    if (!s.ok()) return s;
    if (result != RingResult::kOk) return r.endpoint().last_fault();
    return m;
  }
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    absl::StatusOr<ChannelMessage> m = r.Receive(WaitFor(mode, budget));
    if (m.ok() || !absl::IsDeadlineExceeded(m.status()) || absl::Now() > deadline) return m;
  }
}

// Payload bytes that share the record's first line with the record and
// message headers. The fill writes one pattern byte everywhere, so writing
// the payload in two parts (first line last) writes what one fill would.
constexpr std::size_t kPayloadInFirstLine =
    wire::kRecordAlign - wire::kRecordHeaderBytes - sizeof(MessageHeader);
static_assert(kPayloadInFirstLine % 8 == 0);

absl::Status SendMessage(ChannelSender& s, const MessageHeader& header, uint64_t size, Mode mode,
                         uint32_t budget) {
  ChannelLoan loan;
  if (mode == Mode::kSpin) {
    RingResult result = RingResult::kWouldBlock;
    absl::Status st = SpinUntil(
        [&] { return (result = s.endpoint().try_loan(size, loan)) != RingResult::kWouldBlock; },
        "waiting for room");
    if (!st.ok()) return st;
    if (result != RingResult::kOk) return RingFailure(result, s.endpoint().last_fault());
  } else {
    const absl::Time deadline = absl::Now() + kPeerTimeout;
    for (;;) {
      absl::StatusOr<ChannelLoan> l = s.Loan(size, WaitFor(mode, budget));
      if (l.ok()) {
        loan = *l;
        break;
      }
      if (!absl::IsDeadlineExceeded(l.status()) || absl::Now() > deadline) return l.status();
    }
  }
  // The record's first line (the one the echo polls) is written last: see
  // "Latency advice" in docs/ring-protocol.md.
  std::byte* payload = loan.data.data() + sizeof(header);
  const std::size_t n = size - sizeof(header);
  if (n > kPayloadInFirstLine) {
    FillPayload(payload + kPayloadInFirstLine, n - kPayloadInFirstLine, header.seq);
  }
  FillPayload(payload, std::min(n, kPayloadInFirstLine), header.seq);
  std::memcpy(loan.data.data(), &header, sizeof(header));
  return mode == Mode::kSpin ? s.endpoint().commit(loan) : s.Commit(loan);
}

absl::Status ReleaseMessage(ChannelReceiver& r, const ChannelMessage& m, Mode mode) {
  return mode == Mode::kSpin ? r.endpoint().release(m) : r.Release(m);
}

}  // namespace

// ------------------------------------------------------------------ layout --

absl::Status FormatRegion(std::span<std::byte> region, const Layout& l) {
  if (region.size() < l.region_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "region of %d bytes is too small for this layout (needs %d)", region.size(),
        l.region_bytes));
  }
  auto* c = reinterpret_cast<ControlPage*>(region.data());
  std::memset(c, 0, sizeof(*c));
  c->floor_offset = l.floor_offset;
  c->floor_bytes = l.floor_bytes;
  c->request_offset = l.request_offset;
  c->request_bytes = l.request_bytes;
  c->reply_offset = l.reply_offset;
  c->reply_bytes = l.reply_bytes;
  if (absl::Status s = FormatChannel(region.subspan(l.request_offset, l.request_bytes),
                                     l.request_arena);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = FormatChannel(region.subspan(l.reply_offset, l.reply_bytes), l.reply_arena);
      !s.ok()) {
    return s;
  }
  shared::StoreRelease(&c->magic, kControlMagic);
  return absl::OkStatus();
}

// ------------------------------------------------------------------ pinger --

absl::StatusOr<Pinger> Pinger::Attach(std::span<std::byte> region, Bells bells) {
  if (region.size() < kPage) return absl::InvalidArgumentError("region is smaller than a page");
  auto* c = reinterpret_cast<ControlPage*>(region.data());
  if (shared::LoadAcquire(&c->magic) != kControlMagic) {
    return absl::FailedPreconditionError("region holds no csm-ping layout (wrong share?)");
  }
  // One read of each field, then checks on the private copies.
  const uint64_t fo = shared::LoadRelaxed(&c->floor_offset), fb = shared::LoadRelaxed(&c->floor_bytes);
  const uint64_t qo = shared::LoadRelaxed(&c->request_offset), qb = shared::LoadRelaxed(&c->request_bytes);
  const uint64_t po = shared::LoadRelaxed(&c->reply_offset), pb = shared::LoadRelaxed(&c->reply_bytes);
  const uint64_t n = region.size();
  if (!RangeInside(fo, fb, n) || !RangeInside(qo, qb, n) || !RangeInside(po, pb, n) ||
      !Disjoint(fo, fb, qo, qb) || !Disjoint(fo, fb, po, pb) || !Disjoint(qo, qb, po, pb)) {
    return absl::DataLossError("the echo side published an impossible region layout");
  }
  auto producer = ChannelProducer::Attach(region.subspan(qo, qb));
  if (!producer.ok()) return producer.status();
  auto consumer = ChannelConsumer::Attach(region.subspan(po, pb));
  if (!consumer.ok()) return consumer.status();
  const uint64_t max_message = std::min<uint64_t>(fb, producer->max_message_bytes());
  Pinger p(ChannelSender(std::move(*producer), std::move(bells.mine_for_sender),
                         std::move(bells.peer_for_sender)),
           ChannelReceiver(std::move(*consumer), std::move(bells.mine_for_receiver),
                           std::move(bells.peer_for_receiver)));
  p.control_ = c;
  p.floor_ = region.subspan(fo, fb);
  p.max_message_ = max_message;
  return p;
}

absl::StatusOr<MessageHeader> Pinger::ReceiveAck(Mode mode, const WaitOptions& wait) {
  absl::StatusOr<ChannelMessage> m = ReceiveWithin(receiver_, mode, wait.spin_budget, kPeerTimeout);
  if (!m.ok()) return m.status();
  absl::StatusOr<MessageHeader> h = ReadHeader(m->data);
  if (absl::Status s = ReleaseMessage(receiver_, *m, mode); !s.ok()) return s;
  if (!h.ok()) return h.status();
  if (h->kind != static_cast<uint32_t>(Kind::kAck)) {
    return absl::DataLossError(absl::StrFormat("echo side sent message kind %d, expected an ack",
                                               h->kind));
  }
  return *h;
}

// Spin mode's round trip talks to the channel endpoints directly: no
// Status or StatusOr per message, nothing but the channel's own work and
// the checks between the two waits (this is the path the floor is
// compared with).
absl::Status Pinger::RoundTripSpin(uint64_t size, uint64_t seq) {
  const MessageHeader ping{static_cast<uint32_t>(Kind::kPing), static_cast<uint32_t>(size), seq,
                           EncodeMode(Mode::kSpin, 0)};
  ChannelConsumer& in = receiver_.endpoint();
  if (absl::Status s = SendMessage(sender_, ping, size, Mode::kSpin, 0); !s.ok()) return s;
  // Computed while the echo side works, not after its answer arrives.
  const uint64_t expected = HeaderSum(ping) + PayloadSum(size - sizeof(ping), seq);
  ChannelMessage m;
  RingResult r = RingResult::kWouldBlock;
  if (absl::Status s = SpinUntil(
          [&] { return (r = in.try_receive(m)) != RingResult::kWouldBlock; },
          "waiting for a message");
      !s.ok()) {
    return s;
  }
  if (r != RingResult::kOk) return in.last_fault();
  MessageHeader ack;
  const bool whole = m.data.size() >= sizeof(ack);
  if (whole) std::memcpy(&ack, m.data.data(), sizeof(ack));
  if (absl::Status s = in.release(m); !s.ok()) return s;
  if (!whole || ack.kind != static_cast<uint32_t>(Kind::kAck) || ack.seq != seq ||
      ack.value != expected) [[unlikely]] {
    if (!whole) return ReadHeader(m.data).status();
    if (ack.kind != static_cast<uint32_t>(Kind::kAck)) {
      return absl::DataLossError(absl::StrFormat(
          "echo side sent message kind %d, expected an ack", ack.kind));
    }
    return absl::DataLossError(absl::StrFormat(
        "echo side acknowledged round trip %d with checksum %#x, expected %d with %#x", ack.seq,
        ack.value, seq, expected));
  }
  return absl::OkStatus();
}

absl::Status Pinger::RoundTrip(uint64_t size, uint64_t seq, Mode mode, const WaitOptions& wait) {
  if (mode == Mode::kSpin) return RoundTripSpin(size, seq);
  const MessageHeader ping{static_cast<uint32_t>(Kind::kPing), static_cast<uint32_t>(size), seq,
                           EncodeMode(mode, wait.spin_budget)};
  if (absl::Status s = SendMessage(sender_, ping, size, mode, wait.spin_budget); !s.ok()) return s;
  // Computed while the echo side works, not after its answer arrives.
  const uint64_t expected = HeaderSum(ping) + PayloadSum(size - sizeof(ping), seq);
  absl::StatusOr<MessageHeader> ack = ReceiveAck(mode, wait);
  if (!ack.ok()) return ack.status();
  if (ack->seq != seq || ack->value != expected) {
    return absl::DataLossError(absl::StrFormat(
        "echo side acknowledged round trip %d with checksum %#x, expected %d with %#x", ack->seq,
        ack->value, seq, expected));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint64_t>> Pinger::RunChannel(uint64_t size, uint64_t warmup,
                                                         uint64_t count, Mode mode,
                                                         uint32_t spin_budget) {
  if (size < kMinMessage || size > max_message_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "message size %d is outside [%d, %d] for this region", size, kMinMessage, max_message_));
  }
  const WaitOptions wait = WaitFor(mode, spin_budget);
  for (uint64_t i = 0; i < warmup; ++i) {
    if (absl::Status s = RoundTrip(size, ++seq_, mode, wait); !s.ok()) return s;
  }
  std::vector<uint64_t> samples;
  samples.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t t0 = NowNs();
    if (absl::Status s = RoundTrip(size, ++seq_, mode, wait); !s.ok()) return s;
    samples.push_back(NowNs() - t0);
  }
  return samples;
}

absl::StatusOr<std::vector<uint64_t>> Pinger::RunFloor(uint64_t size, uint64_t warmup,
                                                       uint64_t count, FloorKind kind) {
  if (size > floor_.size()) {
    return absl::InvalidArgumentError(absl::StrFormat("floor size %d exceeds the floor area", size));
  }
  const uint64_t total = warmup + count;
  const MessageHeader cmd{static_cast<uint32_t>(Kind::kFloor), static_cast<uint32_t>(size), total,
                          kind == FloorKind::kFutex ? 1u : 0u};
  if (absl::Status s = SendMessage(sender_, cmd, sizeof(cmd), Mode::kAdaptive, 4096); !s.ok()) {
    return s;
  }
  absl::StatusOr<MessageHeader> ack = ReceiveAck(Mode::kAdaptive, WaitFor(Mode::kAdaptive, 4096));
  if (!ack.ok()) return ack.status();
  if (ack->seq != total) {
    return absl::DataLossError(absl::StrFormat(
        "echo side acknowledged a floor of %d round trips, asked for %d", ack->seq, total));
  }
  std::vector<uint64_t> samples;
  samples.reserve(count);
  for (uint64_t i = 1; i <= total; ++i) {
    const uint32_t seq = static_cast<uint32_t>(++floor_seq_);
    const uint64_t t0 = NowNs();
    FillPayload(floor_.data(), size, seq);
    shared::StoreRelease(&control_->floor_seq, seq);
    absl::Status s;
    uint64_t slept = 0;
    if (kind == FloorKind::kFutex) {
      FutexWake(&control_->floor_seq);
      s = FutexWaitFor(&control_->floor_ack, seq, "floor", &slept);
    } else {
      s = SpinUntil([&] { return shared::LoadAcquire(&control_->floor_ack) == seq; }, "floor");
    }
    if (!s.ok()) return s;
    const uint64_t sum = shared::LoadRelaxed(&control_->floor_sum);
    if (i > warmup) {
      samples.push_back(NowNs() - t0);
      if (kind == FloorKind::kFutex) {
        ++floor_waits_.round_trips;
        if (slept) ++floor_waits_.slept;
      }
    }
    if (sum != PayloadSum(size, seq)) {
      return absl::DataLossError(absl::StrFormat("echo side's floor checksum %#x is wrong", sum));
    }
  }
  return samples;
}

absl::Status Pinger::Stop() {
  const MessageHeader stop{static_cast<uint32_t>(Kind::kStop), sizeof(MessageHeader), 0, 0};
  return SendMessage(sender_, stop, sizeof(stop), Mode::kAdaptive, 4096);
}

// -------------------------------------------------------------------- echo --

namespace {

absl::Status EchoFloor(ControlPage* control, std::span<std::byte> floor, uint64_t size,
                       uint64_t total, bool futex, uint64_t& floor_seq) {
  if (size > floor.size()) return absl::DataLossError("pinger asked for a floor beyond the area");
  for (uint64_t i = 0; i < total; ++i) {
    const uint32_t seq = static_cast<uint32_t>(++floor_seq);
    absl::Status s =
        futex ? FutexWaitFor(&control->floor_seq, seq, "floor")
              : SpinUntil([&] { return shared::LoadAcquire(&control->floor_seq) == seq; }, "floor");
    if (!s.ok()) return s;
    shared::StoreRelaxed(&control->floor_sum, Checksum(floor.data(), size));
    shared::StoreRelease(&control->floor_ack, seq);
    if (futex) FutexWake(&control->floor_ack);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunEcho(std::span<std::byte> region, const Layout& layout, Bells bells,
                     absl::Duration idle_timeout) {
  if (region.size() < layout.region_bytes) return absl::InvalidArgumentError("region too small");
  auto* control = reinterpret_cast<ControlPage*>(region.data());
  auto consumer = ChannelConsumer::Attach(region.subspan(layout.request_offset, layout.request_bytes));
  auto producer = ChannelProducer::Attach(region.subspan(layout.reply_offset, layout.reply_bytes));
  if (!consumer.ok()) return consumer.status();
  if (!producer.ok()) return producer.status();
  ChannelReceiver receiver(std::move(*consumer), std::move(bells.mine_for_receiver),
                           std::move(bells.peer_for_receiver));
  ChannelSender sender(std::move(*producer), std::move(bells.mine_for_sender),
                       std::move(bells.peer_for_sender));
  std::span<std::byte> floor = region.subspan(layout.floor_offset, layout.floor_bytes);
  uint64_t floor_seq = 0;
  // Answer in the pinger's mode: spin while it spins (it will not ring),
  // sleep on the doorbell while it uses doorbells.
  Mode mode = Mode::kAdaptive;
  uint32_t budget = 4096;
  for (;;) {
    ChannelMessage msg;
    if (mode == Mode::kSpin) {
      // The counterpart of Pinger::RoundTripSpin: a spin-mode ping is
      // answered straight through the endpoints; anything else (a mode
      // change, floor, stop) goes on to the general path below.
      ChannelConsumer& in = receiver.endpoint();
      RingResult r = RingResult::kWouldBlock;
      if (absl::Status s = SpinUntil(
              [&] { return (r = in.try_receive(msg)) != RingResult::kWouldBlock; },
              "waiting for a message", idle_timeout);
          !s.ok()) {
        return s;
      }
      if (r != RingResult::kOk) return in.last_fault();
      MessageHeader ping;
      if (msg.data.size() >= sizeof(ping)) {
        std::memcpy(&ping, msg.data.data(), sizeof(ping));  // read once, then checked
        if (ping.kind == static_cast<uint32_t>(Kind::kPing) && ping.size == msg.data.size() &&
            ping.value == EncodeMode(Mode::kSpin, 0)) {
          const MessageHeader ack{static_cast<uint32_t>(Kind::kAck), sizeof(MessageHeader),
                                  ping.seq, Checksum(msg.data.data(), msg.data.size())};
          if (absl::Status s = SendMessage(sender, ack, sizeof(ack), Mode::kSpin, 0); !s.ok()) {
            return s;
          }
          if (absl::Status s = in.release(msg); !s.ok()) return s;
          continue;
        }
      }
    } else {
      absl::StatusOr<ChannelMessage> received = ReceiveWithin(receiver, mode, budget, idle_timeout);
      if (!received.ok()) return received.status();
      msg = *received;
    }
    const ChannelMessage* m = &msg;
    absl::StatusOr<MessageHeader> h = ReadHeader(m->data);
    if (!h.ok()) return h.status();
    if (h->size != m->data.size() && h->kind != static_cast<uint32_t>(Kind::kFloor)) {
      return absl::DataLossError(absl::StrFormat("pinger's header says %d bytes, message has %d",
                                                 h->size, m->data.size()));
    }
    MessageHeader ack{static_cast<uint32_t>(Kind::kAck), sizeof(MessageHeader), h->seq, 0};
    switch (static_cast<Kind>(h->kind)) {
      case Kind::kPing: {
        ack.value = Checksum(m->data.data(), m->data.size());  // reads every byte
        mode = (h->value >> 32) ? (static_cast<uint32_t>(h->value) ? Mode::kAdaptive : Mode::kDoorbell)
                                : Mode::kSpin;
        budget = static_cast<uint32_t>(h->value);
        // Answer first, free the ping after: the pinger waits for the ack,
        // not for the space (the request arena holds two of the largest).
        if (absl::Status s = SendMessage(sender, ack, sizeof(ack), mode, budget); !s.ok()) return s;
        if (absl::Status s = ReleaseMessage(receiver, *m, mode); !s.ok()) return s;
        break;
      }
      case Kind::kFloor: {
        if (absl::Status s = ReleaseMessage(receiver, *m, mode); !s.ok()) return s;
        if (absl::Status s = SendMessage(sender, ack, sizeof(ack), Mode::kAdaptive, 4096); !s.ok()) {
          return s;
        }
        if (absl::Status s = EchoFloor(control, floor, h->size, h->seq, h->value == 1, floor_seq);
            !s.ok()) {
          return s;
        }
        mode = Mode::kAdaptive;
        break;
      }
      case Kind::kStop: return ReleaseMessage(receiver, *m, mode);
      default:
        return absl::DataLossError(absl::StrFormat("pinger sent unknown message kind %d", h->kind));
    }
  }
}

}  // namespace csm::ping
