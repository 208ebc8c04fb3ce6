#include "csm/ids.h"

#include <errno.h>
#include <stdlib.h>

namespace csm {

bool ParseId(const std::string& text, uint64_t* out) {
  if (text.empty() || text[0] == '-') return false;
  char* end = nullptr;
  errno = 0;
  uint64_t v = strtoull(text.c_str(), &end, 0);  // base 0: "0x..." or decimal
  if (errno != 0 || end == text.c_str() || *end != '\0' || v == 0) return false;
  *out = v;
  return true;
}

}  // namespace csm
