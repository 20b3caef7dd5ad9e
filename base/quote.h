// A value taken from a request, quoted for an error message. Errors name what was wrong, but
// echoing an unbounded value (a 10 MB model name) makes the status itself too large to send:
// every echo goes through Quote, which keeps at most max_bytes (cut at a UTF-8 character
// boundary) and then says how long the value was.
//
//   Quote("sasrec")              -> 'sasrec'
//   Quote(ten_megabytes_of_x)    -> 'xxxx...xxxx'... (10485760 bytes)
#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace recsys {

inline std::string Quote(absl::string_view value, size_t max_bytes = 64) {
  if (value.size() <= max_bytes) return absl::StrCat("'", value, "'");
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat("'", value.substr(0, cut), "'... (", value.size(), " bytes)");
}

}  // namespace recsys
