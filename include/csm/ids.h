// Strong ID types of the CSM model: a realm, a region and a share are each
// named by an opaque nonzero 64-bit value (see uapi/csm.h). Distinct types
// keep a share ID from being passed where a region ID is expected.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"

namespace csm {

template <typename Tag>
class Id {
 public:
  constexpr Id() = default;
  constexpr explicit Id(uint64_t value) : value_(value) {}
  constexpr uint64_t value() const { return value_; }
  constexpr bool valid() const { return value_ != 0; }
  friend constexpr bool operator==(Id, Id) = default;
  friend constexpr auto operator<=>(Id, Id) = default;
  template <typename H>
  friend H AbslHashValue(H h, Id id) { return H::combine(std::move(h), id.value_); }
  // Printed as "0x1122", the form error messages and tools use; works with
  // absl::StrFormat("%s", id).
  std::string ToString() const { return absl::StrFormat("0x%x", value_); }
  friend absl::FormatConvertResult<absl::FormatConversionCharSet::kString> AbslFormatConvert(
      Id id, const absl::FormatConversionSpec&, absl::FormatSink* sink) {
    sink->Append(id.ToString());
    return {true};
  }

 private:
  uint64_t value_ = 0;
};

struct RealmTag {};
struct RegionTag {};
struct ShareTag {};
using RealmId = Id<RealmTag>;
using RegionId = Id<RegionTag>;
using ShareId = Id<ShareTag>;

// Parses "0x1122" or "4386" (as typed on a command line); false for 0, a
// sign, spaces, a leading zero without "x" (not octal) or anything else.
bool ParseId(const std::string& text, uint64_t* out);

}  // namespace csm
