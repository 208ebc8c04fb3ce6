// The floor: the same byte work over bare shared memory, no channel. A ring
// of fixed slots (round_up(size, 64) bytes each, as many as fit the floor
// area, which is as large as the channel's arena) and one published count per
// side, plus an ack line for ping-pong. No record headers, no validation
// beyond what keeps accesses inside the area.
#include "cycle_counter.h"
#include "spin.h"
#include "variants.h"

namespace csm::compare {
namespace {

uint64_t SlotBytes(uint64_t size) { return (size + 63) / 64 * 64; }

class FloorSender : public DataSender {
 public:
  explicit FloorSender(Ends& e) : e_(e) {}

  absl::StatusOr<uint64_t> Send(uint64_t seq, uint64_t size) override {
    const uint64_t slot = SlotBytes(size), slots = e_.floor.size() / slot;
    if (slots < 1) return absl::InvalidArgumentError("message larger than the floor area");
    const uint64_t t = e_.floor_position;
    uint64_t t0 = ReadCounter();
    // Like any good SPSC ring, reload the consumer's count only when the
    // cached one says the ring is full.
    if (t - e_.floor_head_cache >= slots) {
      uint64_t head = 0;
      absl::Status s = SpinUntil(
          [&] {
            t0 = ReadCounter();
            head = shared::LoadAcquire(&e_.control->floor_head.value);
            return t - head < slots || head > t;
          },
          "floor room");
      if (!s.ok()) return s;
      if (head > t || head < e_.floor_head_cache) {
        return absl::DataLossError("responder published an impossible floor position");
      }
      e_.floor_head_cache = head;
    }
    FillPayload(e_.floor.data() + (t % slots) * slot, size, seq);
    e_.floor_position = t + 1;
    shared::StoreRelease(&e_.control->floor_tail.value, t + 1);
    return ReadCounter() - t0;
  }

  absl::StatusOr<uint64_t> AwaitAck(uint64_t) override {
    const uint64_t want = e_.floor_position;
    absl::Status s = SpinUntil(
        [&] { return shared::LoadAcquire(&e_.control->floor_ack.value) == want; }, "floor ack");
    if (!s.ok()) return s;
    return shared::LoadRelaxed(&e_.control->floor_ack.sum);
  }

 private:
  Ends& e_;
};

class FloorReceiver : public DataReceiver {
 public:
  explicit FloorReceiver(Ends& e) : e_(e) {}

  absl::StatusOr<Received> Receive(uint64_t size) override {
    const uint64_t slot = SlotBytes(size), slots = e_.floor.size() / slot;
    if (slots < 1) return absl::InvalidArgumentError("message larger than the floor area");
    const uint64_t h = e_.floor_position;
    uint64_t t0 = 0, tail = 0;
    absl::Status s = SpinUntil(
        [&] {
          t0 = ReadCounter();
          tail = shared::LoadAcquire(&e_.control->floor_tail.value);
          return tail != h;
        },
        "floor message");
    if (!s.ok()) return s;
    if (tail < h || tail - h > slots) {
      return absl::DataLossError("driver published an impossible floor position");
    }
    const uint64_t sum = Checksum(e_.floor.data() + (h % slots) * slot, size);
    e_.floor_position = h + 1;
    shared::StoreRelease(&e_.control->floor_head.value, h + 1);
    return Received{ReadCounter() - t0, sum};
  }

  absl::Status Ack(uint64_t, uint64_t sum) override {
    shared::StoreRelaxed(&e_.control->floor_ack.sum, sum);
    shared::StoreRelease(&e_.control->floor_ack.value, e_.floor_position);
    return absl::OkStatus();
  }

 private:
  Ends& e_;
};

}  // namespace

std::unique_ptr<DataSender> MakeFloorSender(Ends& ends) { return std::make_unique<FloorSender>(ends); }
std::unique_ptr<DataReceiver> MakeFloorReceiver(Ends& ends) {
  return std::make_unique<FloorReceiver>(ends);
}

}  // namespace csm::compare
