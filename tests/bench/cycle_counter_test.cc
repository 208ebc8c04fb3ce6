// csm-compare's cycle counter calibration (bench/compare/cycle_counter.h):
// the step it reports must divide every difference the counter shows, or a
// report would state a resolution the numbers do not have.
#include "cycle_counter.h"

#include <gtest/gtest.h>

namespace csm::compare {
namespace {

TEST(CycleCounterTest, StepDividesEveryDifference) {
  const CounterInfo info = CalibrateCounter(20);
  ASSERT_GT(info.resolution, 0u);
  EXPECT_GT(info.hz, 1e6);
  EXPECT_EQ(info.overhead % info.resolution, 0u);
  volatile uint64_t sink = 0;
  for (int i = 0; i < 2000; ++i) {
    const uint64_t a = ReadCounter();
    for (int k = 0; k < i % 53; ++k) sink = sink + static_cast<uint64_t>(k);
    const uint64_t d = ReadCounter() - a;
    ASSERT_EQ(d % info.resolution, 0u) << "a difference of " << d << " ticks, step "
                                       << info.resolution;
  }
}

TEST(CycleCounterTest, CountsForward) {
  const uint64_t a = ReadCounter();
  const uint64_t b = ReadCounter();
  EXPECT_GE(b, a);
}

}  // namespace
}  // namespace csm::compare
