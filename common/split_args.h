#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace slotplane {

// Where one argument lies in the decoded bytes.
struct ArgSpan {
  size_t offset;
  size_t length;
};

// Splits `line` into arguments exactly like Redis's sdssplitargs, which Redis uses for inline
// commands and for redis.conf lines: blanks separate arguments; "double quotes" decode \n \r \t
// \b \a \\ \" and \xHH; 'single quotes' decode \'; a quote inside an argument opens a quoted part
// of the same argument; a closing quote must be followed by a blank or the end of the line. The
// line is read as a C string: it ends at its first NUL.
//
// Decoded bytes are appended to `decoded` and each argument's place in it to `spans` (neither is
// cleared). Returns false on unbalanced quotes. Standard library only, so the RESP layer and
// its fuzzers can use it.
bool SplitArgs(std::string_view line, std::string* decoded, std::vector<ArgSpan>* spans);

}  // namespace slotplane
