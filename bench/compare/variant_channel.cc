// CSM channel variants over the region's request channel, acks on its reply
// channel. Zero-copy: the message is built in the loaned record and read in
// place. Copy: built in a private buffer and copied in (what try_send does,
// split so that waiting for room is not counted), copied out by
// try_receive_copy and read from the private copy.
#include <cstring>

#include "cycle_counter.h"
#include "spin.h"
#include "variants.h"

namespace csm::compare {
namespace {

class ChannelDataSender : public DataSender {
 public:
  ChannelDataSender(Ends& e, bool zero_copy) : e_(e), zero_copy_(zero_copy) {}

  absl::StatusOr<uint64_t> Send(uint64_t seq, uint64_t size) override {
    ChannelLoan loan;
    RingResult r = RingResult::kWouldBlock;
    uint64_t t0 = 0;
    absl::Status s = SpinUntil(
        [&] {
          t0 = ReadCounter();
          return (r = e_.csm_out->try_loan(size, loan)) != RingResult::kWouldBlock;
        },
        "channel room");
    if (!s.ok()) return s;
    if (r != RingResult::kOk) return RingFailure(r, e_.csm_out->last_fault());
    if (zero_copy_) {
      FillPayload(loan.data.data(), size, seq);
    } else {
      FillPayload(e_.private_out.data(), size, seq);
      std::memcpy(loan.data.data(), e_.private_out.data(), size);
    }
    if (absl::Status c = e_.csm_out->commit(loan, size); !c.ok()) return c;
    return ReadCounter() - t0;
  }

  absl::StatusOr<uint64_t> AwaitAck(uint64_t seq) override {
    absl::StatusOr<ChannelMessage> m = AwaitMessage(*e_.csm_in, "ack", kPeerTimeout);
    if (!m.ok()) return m.status();
    AckMessage ack{};
    const bool sized = m->data.size() == sizeof(ack);
    if (sized) std::memcpy(&ack, m->data.data(), sizeof(ack));
    if (absl::Status s = e_.csm_in->release(*m); !s.ok()) return s;
    if (!sized || ack.seq != seq) {
      return absl::DataLossError(absl::StrFormat("responder sent a bad ack for message %d", seq));
    }
    return ack.sum;
  }

 private:
  Ends& e_;
  bool zero_copy_;
};

class ChannelDataReceiver : public DataReceiver {
 public:
  ChannelDataReceiver(Ends& e, bool zero_copy) : e_(e), zero_copy_(zero_copy) {}

  absl::StatusOr<Received> Receive(uint64_t size) override {
    uint64_t t0 = 0, sum = 0;
    RingResult r = RingResult::kWouldBlock;
    if (zero_copy_) {
      ChannelMessage m;
      absl::Status s = SpinUntil(
          [&] {
            t0 = ReadCounter();
            return (r = e_.csm_in->try_receive(m)) != RingResult::kWouldBlock;
          },
          "message");
      if (!s.ok()) return s;
      if (r != RingResult::kOk) return e_.csm_in->last_fault();
      if (m.data.size() != size) return WrongSize(m.data.size(), size);
      sum = Checksum(m.data.data(), size);
      if (absl::Status rel = e_.csm_in->release(m); !rel.ok()) return rel;
    } else {
      std::size_t bytes = 0;
      absl::Status s = SpinUntil(
          [&] {
            t0 = ReadCounter();
            return (r = e_.csm_in->try_receive_copy(e_.private_in, bytes)) !=
                   RingResult::kWouldBlock;
          },
          "message");
      if (!s.ok()) return s;
      if (r == RingResult::kTooLarge) {
        return absl::DataLossError("driver sent a message larger than the largest size");
      }
      if (r != RingResult::kOk) return e_.csm_in->last_fault();
      if (bytes != size) return WrongSize(bytes, size);
      sum = Checksum(e_.private_in.data(), size);
    }
    return Received{ReadCounter() - t0, sum};
  }

  absl::Status Ack(uint64_t seq, uint64_t sum) override {
    absl::StatusOr<ChannelLoan> loan = AwaitLoan(*e_.csm_out, sizeof(AckMessage), "ack room");
    if (!loan.ok()) return loan.status();
    const AckMessage ack{seq, sum};
    std::memcpy(loan->data.data(), &ack, sizeof(ack));
    return e_.csm_out->commit(*loan, sizeof(ack));
  }

 private:
  static absl::Status WrongSize(std::size_t got, uint64_t want) {
    return absl::DataLossError(absl::StrFormat("driver sent %d bytes, expected %d", got, want));
  }
  Ends& e_;
  bool zero_copy_;
};

}  // namespace

std::unique_ptr<DataSender> MakeChannelSender(Ends& ends, bool zero_copy) {
  return std::make_unique<ChannelDataSender>(ends, zero_copy);
}
std::unique_ptr<DataReceiver> MakeChannelReceiver(Ends& ends, bool zero_copy) {
  return std::make_unique<ChannelDataReceiver>(ends, zero_copy);
}

}  // namespace csm::compare
