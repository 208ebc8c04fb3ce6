// Turning a fuzzer's bytes into a script of peer actions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "csm/ring/shared_span.h"

namespace csm::fuzz {

class Input {
 public:
  Input(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  template <typename T>
  T Take() {
    T v{};
    const std::size_t n = std::min(sizeof(T), size_ - std::min(pos_, size_));
    if (n != 0) std::memcpy(&v, data_ + pos_, n);
    pos_ += sizeof(T);
    return v;
  }

 private:
  const uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// A span fenced by PROT_NONE guard pages, made once per fuzzing process:
// an out-of-span access by the code under test faults immediately.
inline std::span<std::byte> GuardedSpan(std::size_t bytes) {
  static SharedView view = [bytes] {
    auto file = SharedFile::Create(bytes, "csm-fuzz");
    auto v = file->Map(/*guard_pages=*/true);
    return std::move(*v);
  }();
  return view.span();
}

// Writes one peer-chosen 8-byte word at a peer-chosen 8-aligned offset.
inline void Scribble(std::span<std::byte> span, Input& in) {
  const uint32_t word = in.Take<uint32_t>() % (span.size() / 8);
  const uint64_t value = in.Take<uint64_t>();
  std::memcpy(span.data() + word * 8, &value, 8);
}

}  // namespace csm::fuzz
