// The byte work the tools' two sides do on every message: the sender writes
// every byte, the receiver reads every byte. csm-ping and csm-compare put
// both their floors and the channel through these, so a ratio compares the
// machinery, not two ways of touching memory.
#pragma once

#include <cstddef>
#include <cstdint>

namespace csm::tools {

// Below this many bytes FillWords uses plain stores. REP STOSQ into lines
// the peer holds seems to finish their ownership transfers before the next
// store, where plain stores wait in the store buffer: csm-ping's 24-256 B
// round trips took 760-940 ns with it, 460-690 without. 2048 is also
// glibc's REP STOSB threshold for memset; 1024-4096 measured alike here.
inline constexpr std::size_t kStringFillFrom = 2048;

// Writes the word `w` over [p, p + n), n a multiple of 8. On x86-64, from
// kStringFillFrom bytes up, with REP STOSQ, as memset does for large sizes:
// string stores write whole lines without first fetching them. The plain
// loop of 8-byte stores was 5-9x slower there into lines the peer had
// cached (csm-compare, AMD EPYC family 26, 2026-12-06: 64 KiB in place cost
// the producer 20622 ticks against 3738).
inline void FillWords(std::byte* p, std::size_t n, uint64_t w) {
#if defined(__x86_64__)
  if (n >= kStringFillFrom) {
    std::size_t words = n / 8;
    asm volatile("rep stosq" : "+D"(p), "+c"(words) : "a"(w) : "memory");
    return;
  }
#endif
  for (std::size_t i = 0; i < n; i += 8) __builtin_memcpy(p + i, &w, 8);
}

// Sums the 64-bit words of [p, p + n), n a multiple of 8, a line at a time,
// prefetching 1 KiB ahead. A message read in place sits in lines the
// producer's core holds, each a cross-core transfer: the plain 8-byte loop
// kept too few in flight, and memcpy out of the same lines beat reading them
// in place (csm-compare ping-pong rx at 4 KiB: 1575-1617 ticks in place,
// 1386-1449 copied out; 1176-1197 with this; AMD EPYC family 26, 2026-12-06).
inline uint64_t SumWords(const std::byte* p, std::size_t n) {
  constexpr std::size_t kLine = 64, kAhead = 1024;
  for (std::size_t i = 0; i < n && i < kAhead; i += kLine) __builtin_prefetch(p + i);
  uint64_t sum = 0;
  std::size_t i = 0;
  for (; i + kLine <= n; i += kLine) {
    if (i + kAhead < n) __builtin_prefetch(p + i + kAhead);
    uint64_t w[kLine / 8];
    __builtin_memcpy(w, p + i, kLine);
    for (uint64_t x : w) sum += x;
  }
  for (; i < n; i += 8) {
    uint64_t w;
    __builtin_memcpy(&w, p + i, 8);
    sum += w;
  }
  return sum;
}

}  // namespace csm::tools
