#include "cbor_util.h"

#include <cstdlib>
#include <limits>

#include "absl/strings/str_cat.h"

namespace csm::cca {
namespace {

// A pre-pass over the encoding with libcbor's streaming decoder: libcbor's
// cbor_load allocates a container's slots from the count in its header, so
// a 5-byte header claiming 2^28 entries would cost gigabytes. Checking every
// header against the bytes that remain bounds all allocations by the input.
struct Scan {
  size_t remaining = 0;            // bytes after the header just decoded
  std::vector<uint64_t> open;      // items still owed by each open container
  size_t top_items = 0;
  const char* error = nullptr;

  void ItemDone() {
    if (open.empty()) {
      ++top_items;
      return;
    }
    --open.back();
    while (!open.empty() && open.back() == 0) {
      open.pop_back();
      if (open.empty()) {
        ++top_items;
      } else {
        --open.back();
      }
    }
  }
  void Container(uint64_t entries) {
    if (entries > remaining) {
      error = "a container claims more entries than there are bytes";
    } else if (entries == 0) {
      ItemDone();
    } else if (open.size() >= kMaxCborDepth) {
      error = "nesting too deep";
    } else {
      open.push_back(entries);
    }
  }
  void Indefinite() { error = "indefinite-length items are not accepted"; }
};

Scan* S(void* ctx) { return static_cast<Scan*>(ctx); }

cbor_callbacks ScanCallbacks() {
  cbor_callbacks cb = cbor_empty_callbacks;
  cb.uint8 = [](void* c, uint8_t) { S(c)->ItemDone(); };
  cb.uint16 = [](void* c, uint16_t) { S(c)->ItemDone(); };
  cb.uint32 = [](void* c, uint32_t) { S(c)->ItemDone(); };
  cb.uint64 = [](void* c, uint64_t) { S(c)->ItemDone(); };
  cb.negint8 = [](void* c, uint8_t) { S(c)->ItemDone(); };
  cb.negint16 = [](void* c, uint16_t) { S(c)->ItemDone(); };
  cb.negint32 = [](void* c, uint32_t) { S(c)->ItemDone(); };
  cb.negint64 = [](void* c, uint64_t) { S(c)->ItemDone(); };
  cb.byte_string = [](void* c, cbor_data, size_t) { S(c)->ItemDone(); };
  cb.string = [](void* c, cbor_data, size_t) { S(c)->ItemDone(); };
  cb.byte_string_start = [](void* c) { S(c)->Indefinite(); };
  cb.string_start = [](void* c) { S(c)->Indefinite(); };
  cb.indef_array_start = [](void* c) { S(c)->Indefinite(); };
  cb.indef_map_start = [](void* c) { S(c)->Indefinite(); };
  cb.indef_break = [](void* c) { S(c)->Indefinite(); };
  cb.array_start = [](void* c, size_t n) { S(c)->Container(n); };
  cb.map_start = [](void* c, size_t n) {
    // A map of n pairs owes 2n items; n > remaining fails either way.
    S(c)->Container(n > std::numeric_limits<size_t>::max() / 2 ? n : 2 * n);
  };
  cb.tag = [](void*, uint64_t) {};  // the tagged item that follows counts
  cb.float2 = [](void* c, float) { S(c)->ItemDone(); };
  cb.float4 = [](void* c, float) { S(c)->ItemDone(); };
  cb.float8 = [](void* c, double) { S(c)->ItemDone(); };
  cb.undefined = [](void* c) { S(c)->ItemDone(); };
  cb.null = [](void* c) { S(c)->ItemDone(); };
  cb.boolean = [](void* c, bool) { S(c)->ItemDone(); };
  return cb;
}

absl::Status Bad(absl::string_view what, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": malformed CBOR: ", why));
}

}  // namespace

absl::StatusOr<CborPtr> LoadCbor(std::span<const uint8_t> data, absl::string_view what) {
  if (data.empty()) return Bad(what, "empty");
  if (data.size() > kMaxCborInput) {
    return Bad(what, absl::StrCat(data.size(), " bytes, more than the ", kMaxCborInput,
                                  " accepted"));
  }
  static const cbor_callbacks kCallbacks = ScanCallbacks();
  Scan scan;
  size_t off = 0;
  while (off < data.size()) {
    if (scan.top_items == 1) return Bad(what, "trailing bytes after the item");
    scan.remaining = data.size() - off;  // the callbacks see this header's bytes too
    cbor_decoder_result r =
        cbor_stream_decode(data.data() + off, data.size() - off, &kCallbacks, &scan);
    if (r.status == CBOR_DECODER_NEDATA) return Bad(what, "truncated");
    if (r.status != CBOR_DECODER_FINISHED || r.read == 0) return Bad(what, "invalid encoding");
    off += r.read;
    scan.remaining = data.size() - off;
    // Recheck a container just opened against the bytes after its header.
    if (!scan.error && !scan.open.empty() && scan.open.back() > scan.remaining) {
      scan.error = "a container claims more entries than there are bytes";
    }
    if (scan.error) return Bad(what, scan.error);
  }
  if (scan.top_items != 1 || !scan.open.empty()) return Bad(what, "truncated");

  cbor_load_result res{};
  CborPtr item(cbor_load(data.data(), data.size(), &res));
  if (!item || res.error.code != CBOR_ERR_NONE) return Bad(what, "libcbor refused it");
  if (res.read != data.size()) return Bad(what, "trailing bytes after the item");
  return item;
}

std::optional<std::span<const uint8_t>> CborBytes(const cbor_item_t* item) {
  if (!item || !cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item)) {
    return std::nullopt;
  }
  return std::span<const uint8_t>(cbor_bytestring_handle(item), cbor_bytestring_length(item));
}

std::optional<absl::string_view> CborText(const cbor_item_t* item) {
  if (!item || !cbor_isa_string(item) || !cbor_string_is_definite(item)) return std::nullopt;
  return absl::string_view(reinterpret_cast<const char*>(cbor_string_handle(item)),
                          cbor_string_length(item));
}

std::optional<uint64_t> CborUint(const cbor_item_t* item) {
  if (!item || !cbor_isa_uint(item)) return std::nullopt;
  return cbor_get_int(item);
}

std::optional<int64_t> CborInt(const cbor_item_t* item) {
  if (!item) return std::nullopt;
  const uint64_t v = (cbor_isa_uint(item) || cbor_isa_negint(item)) ? cbor_get_int(item) : 0;
  if (!(cbor_isa_uint(item) || cbor_isa_negint(item)) ||
      v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return std::nullopt;
  }
  return cbor_isa_uint(item) ? static_cast<int64_t>(v) : -1 - static_cast<int64_t>(v);
}

absl::StatusOr<const cbor_item_t*> CborMapGet(const cbor_item_t* map, int64_t key,
                                              absl::string_view what) {
  if (!map || !cbor_isa_map(map) || !cbor_map_is_definite(map)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": expected a CBOR map"));
  }
  const cbor_pair* pairs = cbor_map_handle(map);
  const cbor_item_t* found = nullptr;
  for (size_t i = 0; i < cbor_map_size(map); ++i) {
    std::optional<int64_t> k = CborInt(pairs[i].key);
    if (!k || *k != key) continue;
    if (found) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": key ", key, " appears twice"));
    }
    found = pairs[i].value;
  }
  return found;
}

absl::StatusOr<std::vector<uint8_t>> CborSerialize(const cbor_item_t* item) {
  unsigned char* buf = nullptr;
  size_t cap = 0;
  size_t len = cbor_serialize_alloc(item, &buf, &cap);
  if (len == 0) {
    free(buf);
    return absl::ResourceExhaustedError("CBOR serialization failed");
  }
  std::vector<uint8_t> out(buf, buf + len);
  free(buf);
  return out;
}

}  // namespace csm::cca
