#include "csm/ids.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

namespace csm {

bool ParseId(const std::string& text, uint64_t* out) {
  // "0x" and hex digits, or decimal digits without a leading zero: never
  // octal ("010" is not 8), no sign, no spaces (strtoull takes all three).
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const std::string digits = hex ? text.substr(2) : text;
  if (digits.empty() || (!hex && digits[0] == '0')) return false;
  for (char c : digits) {
    if (!(hex ? isxdigit(static_cast<unsigned char>(c)) : isdigit(static_cast<unsigned char>(c)))) {
      return false;
    }
  }
  char* end = nullptr;
  errno = 0;
  const uint64_t v = strtoull(digits.c_str(), &end, hex ? 16 : 10);
  if (errno != 0 || *end != '\0' || v == 0) return false;
  *out = v;
  return true;
}

}  // namespace csm
