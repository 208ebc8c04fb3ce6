// The byte work the tools' two sides do on every message: the sender writes
// every byte, the receiver reads every byte. csm-ping and csm-compare put
// both their floors and the channel through these, so a ratio compares the
// machinery, not two ways of touching memory.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace csm::tools {

// Every byte of message `seq` holds this value; never 0, so a zeroed
// record never passes for a message.
inline uint8_t PatternByte(uint64_t seq) { return static_cast<uint8_t>(seq % 255 + 1); }
// The 64-bit word a filled message is made of.
inline uint64_t PatternWord(uint64_t seq) { return PatternByte(seq) * 0x0101010101010101ull; }

// Writes every byte of [p, p + n) for message `seq`: with memset, as a
// program would. glibc's memset picks the store strategy by size (vector
// stores, REP STOSB from 2 KiB here), and both extremes did worse by hand:
// an 8-byte store loop was 5-9x slower at 64 KiB into lines the peer had
// cached (csm-compare, 20622 ticks against 3738), and REP STOSQ at every
// size made csm-ping's 24-256 B round trips 760-940 ns instead of 460-690
// (AMD EPYC family 26, 2026-12-06).
inline void FillPattern(std::byte* p, std::size_t n, uint64_t seq) {
  std::memset(p, PatternByte(seq), n);
}

// Sums the 64-bit words of [p, p + n), n a multiple of 8, a line at a time,
// prefetching 1 KiB ahead. A message read in place sits in lines the
// producer's core holds, each a cross-core transfer: the plain 8-byte loop
// kept too few in flight, and memcpy out of the same lines beat reading them
// in place (csm-compare ping-pong rx at 4 KiB: 1575-1617 ticks in place,
// 1386-1449 copied out; 1176-1197 with this; AMD EPYC family 26, 2026-12-06).
inline uint64_t SumWords(const std::byte* p, std::size_t n) {
  constexpr std::size_t kLine = 64, kAhead = 1024;
  // Every line [p, p + n) touches, from the line p starts in: a message in
  // a channel record starts 16 bytes into a line, so stepping from p would
  // leave its last line to a demand load at the end of the loop (csm-compare
  // ping-pong rx at 384-512 B: 798-882 ticks, against 609-630 at 496 and
  // 528 B, whose steps happened to reach it).
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p);
  const uintptr_t stop = begin + (n < kAhead ? n : kAhead);
  for (uintptr_t a = begin & ~uintptr_t{kLine - 1}; a < stop; a += kLine) {
    __builtin_prefetch(reinterpret_cast<const void*>(a));
  }
  uint64_t sum = 0;
  std::size_t i = 0;
  for (; i + kLine <= n; i += kLine) {
    // The line holding byte i + kAhead + 63 (for a misaligned p, the line
    // after the one holding i + kAhead, which the last step took).
    if (i + kAhead < n) __builtin_prefetch(p + std::min(i + kAhead + kLine - 1, n - 1));
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
