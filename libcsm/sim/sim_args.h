// Argument checks shared by the simulator's command handlers.
#pragma once

#include <algorithm>
#include <cstddef>

namespace csm::sim {

// True if every word of a UAPI reserved array is zero.
template <typename T, size_t N>
bool AllZero(const T (&words)[N]) {
  return std::all_of(words, words + N, [](T w) { return w == 0; });
}

}  // namespace csm::sim
