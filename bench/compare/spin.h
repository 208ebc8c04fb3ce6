// Busy-waiting on the peer, as the benchmark's two sides always do (the
// CAEC measurements poll too): the tools' shared SpinUntil.
#pragma once

#include "spin_until.h"

namespace csm::compare {

using tools::kPeerTimeout;
using tools::SpinUntil;

}  // namespace csm::compare
