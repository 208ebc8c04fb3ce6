// The encrypting baseline: messages cross plain host-shared memory sealed
// with an AEAD (aead.h). The producer builds the message in a private buffer
// (the plaintext must never touch memory the host sees) and seals it into a
// channel record in host-shared memory; the consumer verifies and decrypts
// out of that record into a private buffer, releases the record, then reads
// the plaintext. Acks are sealed the same way in the other direction.
//
// The ring is the same csm channel format, laid in host-shared memory, so
// the difference to the CSM variants is the cryptography and the copies it
// implies, nothing else.
//
// Not charged to the baseline, so it is the fastest form of itself and the
// ratios conservative for CSM: OpenSSL works directly on host-shared memory
// on both sides. Sealing writes the ciphertext into the record and computes
// the tag by reading it back (ChaCha20-Poly1305 and the generic GCM path
// do), so a host rewriting ciphertext in between gets it authenticated;
// opening authenticates and decrypts the ciphertext in two passes, so what
// is checked and what is decrypted can differ. A hardened implementation
// seals into private memory and copies out, and copies the record in
// before opening: one more copy per side.
#include <cstring>

#include "cycle_counter.h"
#include "spin.h"
#include "variants.h"

namespace csm::compare {
namespace {

absl::Status NoHostMemory() {
  return absl::FailedPreconditionError(
      "the sealed variants need host-shared memory (--host_mem on both sides)");
}

class SealedSender : public DataSender {
 public:
  SealedSender(Ends& e, Sealer sealer, Opener opener)
      : e_(e), sealer_(std::move(sealer)), opener_(std::move(opener)) {}

  absl::StatusOr<uint64_t> Send(uint64_t seq, uint64_t size) override {
    ChannelLoan loan;
    RingResult r = RingResult::kWouldBlock;
    uint64_t t0 = 0;
    absl::Status s = SpinUntil(
        [&] {
          t0 = ReadCounter();
          return (r = e_.host_out->try_loan(SealedBytes(size), loan)) != RingResult::kWouldBlock;
        },
        "host-shared room");
    if (!s.ok()) return s;
    if (r != RingResult::kOk) return RingFailure(r, e_.host_out->last_fault());
    FillPayload(e_.private_out.data(), size, seq);
    if (absl::Status st = sealer_.Seal(kSealedData, e_.private_out.first(size), loan.data); !st.ok()) {
      return st;
    }
    if (absl::Status c = e_.host_out->commit(loan, SealedBytes(size)); !c.ok()) return c;
    return ReadCounter() - t0;
  }

  absl::StatusOr<uint64_t> AwaitAck(uint64_t seq) override {
    absl::StatusOr<ChannelMessage> m = AwaitMessage(*e_.host_in, "sealed ack", kPeerTimeout);
    if (!m.ok()) return m.status();
    AckMessage ack{};
    absl::StatusOr<Opened> o =
        opener_.Open(m->data, std::span(reinterpret_cast<std::byte*>(&ack), sizeof(ack)));
    if (absl::Status s = e_.host_in->release(*m); !s.ok()) return s;
    if (!o.ok()) return o.status();
    if (o->type != kSealedAck || o->length != sizeof(ack) || ack.seq != seq) {
      return absl::DataLossError(absl::StrFormat("responder sent a bad sealed ack for message %d", seq));
    }
    return ack.sum;
  }

 private:
  Ends& e_;
  Sealer sealer_;
  Opener opener_;
};

class SealedReceiver : public DataReceiver {
 public:
  SealedReceiver(Ends& e, Sealer sealer, Opener opener)
      : e_(e), sealer_(std::move(sealer)), opener_(std::move(opener)) {}

  absl::StatusOr<Received> Receive(uint64_t size) override {
    ChannelMessage m;
    RingResult r = RingResult::kWouldBlock;
    uint64_t t0 = 0;
    absl::Status s = SpinUntil(
        [&] {
          t0 = ReadCounter();
          return (r = e_.host_in->try_receive(m)) != RingResult::kWouldBlock;
        },
        "sealed message");
    if (!s.ok()) return s;
    if (r != RingResult::kOk) return e_.host_in->last_fault();
    absl::StatusOr<Opened> o = opener_.Open(m.data, e_.private_in);
    if (absl::Status rel = e_.host_in->release(m); !rel.ok()) return rel;
    if (!o.ok()) return o.status();
    if (o->type != kSealedData || o->length != size) {
      return absl::DataLossError(
          absl::StrFormat("driver sealed %d bytes of type %d, expected %d of data", o->length,
                          o->type, size));
    }
    const uint64_t sum = Checksum(e_.private_in.data(), size);
    return Received{ReadCounter() - t0, sum};
  }

  absl::Status Ack(uint64_t seq, uint64_t sum) override {
    absl::StatusOr<ChannelLoan> loan = AwaitLoan(*e_.host_out, SealedBytes(sizeof(AckMessage)), "sealed ack room");
    if (!loan.ok()) return loan.status();
    const AckMessage ack{seq, sum};
    if (absl::Status s = sealer_.Seal(
            kSealedAck, std::span(reinterpret_cast<const std::byte*>(&ack), sizeof(ack)), loan->data);
        !s.ok()) {
      return s;
    }
    return e_.host_out->commit(*loan, SealedBytes(sizeof(ack)));
  }

 private:
  Ends& e_;
  Sealer sealer_;
  Opener opener_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<DataSender>> MakeSealedSender(Ends& ends, AeadKind kind,
                                                             const AeadKey& key) {
  if (!ends.host_out || !ends.host_in) return NoHostMemory();
  absl::StatusOr<Sealer> sealer = Sealer::Create(kind, key, kToResponder);
  if (!sealer.ok()) return sealer.status();
  absl::StatusOr<Opener> opener = Opener::Create(kind, key, kToDriver);
  if (!opener.ok()) return opener.status();
  return std::make_unique<SealedSender>(ends, std::move(*sealer), std::move(*opener));
}

absl::StatusOr<std::unique_ptr<DataReceiver>> MakeSealedReceiver(Ends& ends, AeadKind kind,
                                                                 const AeadKey& key) {
  if (!ends.host_out || !ends.host_in) return NoHostMemory();
  absl::StatusOr<Sealer> sealer = Sealer::Create(kind, key, kToDriver);
  if (!sealer.ok()) return sealer.status();
  absl::StatusOr<Opener> opener = Opener::Create(kind, key, kToResponder);
  if (!opener.ok()) return opener.status();
  return std::make_unique<SealedReceiver>(ends, std::move(*sealer), std::move(*opener));
}

}  // namespace csm::compare
