// CBOR helpers for the CCA token verifier, over libcbor: ownership
// (CborPtr), a bounded load that refuses hostile encodings before libcbor
// allocates anything, and typed accessors that never trust a type or a
// length they have not checked.
#pragma once

#include <cbor.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace csm::cca {

struct CborFree {
  void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
using CborPtr = std::unique_ptr<cbor_item_t, CborFree>;

inline constexpr size_t kMaxCborInput = 64 * 1024;  // a token is a few KiB
inline constexpr size_t kMaxCborDepth = 16;

// Decodes exactly one definite-length CBOR item spanning all of `data`.
// Refuses (InvalidArgument, naming `what`) inputs above kMaxCborInput,
// indefinite lengths, nesting deeper than kMaxCborDepth, containers that
// claim more entries than bytes remain, truncation and trailing bytes.
absl::StatusOr<CborPtr> LoadCbor(std::span<const uint8_t> data, absl::string_view what);

// Borrowed views of a decoded item; nullopt when the type differs.
std::optional<std::span<const uint8_t>> CborBytes(const cbor_item_t* item);
std::optional<absl::string_view> CborText(const cbor_item_t* item);
std::optional<uint64_t> CborUint(const cbor_item_t* item);
// Integer value of an unsigned or negative integer item (nullopt beyond int64).
std::optional<int64_t> CborInt(const cbor_item_t* item);

// The value under integer key `key` of a definite map (borrowed), or null.
// Fails when the key appears twice.
absl::StatusOr<const cbor_item_t*> CborMapGet(const cbor_item_t* map, int64_t key,
                                              absl::string_view what);

// Serializes `item` (which the caller keeps).
absl::StatusOr<std::vector<uint8_t>> CborSerialize(const cbor_item_t* item);

}  // namespace csm::cca
