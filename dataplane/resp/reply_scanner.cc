#include "dataplane/resp/reply_scanner.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace slotplane::dataplane {
namespace {

enum class Kind : uint8_t {
  kInvalid,
  kLine,       // + - : _ , # (   the whole element is one line
  kBulk,       // $ ! =           "<len>\r\n<payload>\r\n"
  kArray,      // * ~ >           N elements
  kMap,        // %               N key/value pairs
  kAttribute,  // |               N pairs, then the annotated element itself
};

constexpr std::array<Kind, 256> MakeKindTable() {
  std::array<Kind, 256> table{};  // all kInvalid
  for (const unsigned char c : {'+', '-', ':', '_', ',', '#', '('}) table[c] = Kind::kLine;
  for (const unsigned char c : {'$', '!', '='}) table[c] = Kind::kBulk;
  for (const unsigned char c : {'*', '~', '>'}) table[c] = Kind::kArray;
  table['%'] = Kind::kMap;
  table['|'] = Kind::kAttribute;
  return table;
}
constexpr std::array<Kind, 256> kKinds = MakeKindTable();

Kind KindOf(char type) { return kKinds[static_cast<unsigned char>(type)]; }

// A length or count line holds at most a sign and 18 digits; a longer one is malformed, so it is
// rejected without waiting for its '\r'.
constexpr size_t kMaxLengthLine = 1 + 1 + 18;
// Caps that keep the pending-element arithmetic far from int64 overflow: no real reply comes near
// a trillion elements or a petabyte bulk.
constexpr int64_t kMaxCount = int64_t{1} << 40;
constexpr int64_t kMaxBulkLen = int64_t{1} << 50;
constexpr int64_t kMaxPending = int64_t{1} << 62;

// Parses "-1" or decimal digits (leading zeros tolerated). Returns false if malformed.
bool ParseLength(const char* s, size_t length, int64_t* value) {
  if (length == 2 && s[0] == '-' && s[1] == '1') {
    *value = -1;
    return true;
  }
  if (length == 0 || length > 18) return false;
  int64_t v = 0;
  for (size_t i = 0; i < length; ++i) {
    const unsigned digit = static_cast<unsigned char>(s[i]) - '0';
    if (digit > 9) return false;
    v = v * 10 + digit;
  }
  *value = v;
  return true;
}

// The longest simple line and the most length digits the fast path reads; anything longer takes
// the general path.
constexpr size_t kFastLineMax = 64;
constexpr size_t kFastDigitsMax = 9;

}  // namespace

ScanStatus ReplyScanner::Scan(const char* data, size_t size) {
  if (failed_) return ScanStatus::kError;
  if (pos_ == 0 && bulk_remaining_ < 0 && ScanWholeSimple(data, size)) {
    scan_pos_ = 0;  // an earlier call may have searched part of this frame's first line
    return ScanStatus::kComplete;
  }
  if (size < scan_pos_) {
    Fail("reply buffer shrank between calls");
    return ScanStatus::kError;
  }
  for (;;) {
    const Step step = bulk_remaining_ >= 0 ? ScanBulkPayload(data, size) : ScanHeader(data, size);
    if (step == Step::kNeedMore) return ScanStatus::kNeedMore;
    if (step == Step::kError) return ScanStatus::kError;
    if (pending_ == 0) {
      frame_size_ = pos_;
      frame_type_ = data[0];
      StartFrame();
      return ScanStatus::kComplete;
    }
  }
}

// Accepts only frames the general path completes in one call from the frame's start, with the same
// frame size: a simple line of at most kFastLineMax bytes ("+OK", ":1", "-ERR ...") or a bulk
// string with a short plain length ("$3\r\nabc\r\n") or null ("$-1"), wholly buffered and
// CRLF-terminated.
// Anything else — other types, a null, a partial or malformed frame — returns false with nothing
// changed, and the general path scans it (and reports its errors) from the start.
bool ReplyScanner::ScanWholeSimple(const char* data, size_t size) {
  if (size < 4) return false;
  const char type = data[0];
  if (type == '$') {
    if (data[1] == '-') {  // the null bulk string "$-1\r\n" (a GET of a missing key)
      if (size < 5 || data[2] != '1' || data[3] != '\r' || data[4] != '\n') return false;
      frame_size_ = 5;
      frame_type_ = type;
      return true;
    }
    size_t i = 1;
    uint64_t length = 0;
    const size_t digits_end = std::min(size, 1 + kFastDigitsMax);
    unsigned digit = 0;
    while (i < digits_end &&
           (digit = static_cast<unsigned>(static_cast<unsigned char>(data[i])) - '0') <= 9) {
      length = length * 10 + digit;
      ++i;
    }
    if (i == 1 || i + 1 >= size || data[i] != '\r' || data[i + 1] != '\n') return false;
    const uint64_t frame = i + 2 + length + 2;
    if (size < frame || data[frame - 2] != '\r' || data[frame - 1] != '\n') return false;
    frame_size_ = static_cast<size_t>(frame);
    frame_type_ = type;
    return true;
  }
  if (type != '+' && type != ':' && type != '-') return false;
  if (size >= 5 && std::memcmp(data, "+OK\r\n", 5) == 0) {  // a write's usual reply
    frame_size_ = 5;
    frame_type_ = type;
    return true;
  }
  const size_t end = std::min(size - 1, kFastLineMax);
  for (size_t cr = 1; cr < end; ++cr) {
    if (data[cr] != '\r') continue;
    if (data[cr + 1] != '\n') return false;
    frame_size_ = cr + 2;
    frame_type_ = type;
    return true;
  }
  return false;
}

void ReplyScanner::Reset() {
  StartFrame();
  frame_size_ = 0;
  frame_type_ = 0;
  failed_ = false;
  error_ = "";
}

void ReplyScanner::StartFrame() {
  pos_ = 0;
  scan_pos_ = 0;
  pending_ = 1;
  bulk_remaining_ = -1;
}

// Reads the header line at pos_: a whole simple element, or the length/count of a bulk or an
// aggregate. The type byte is checked as soon as it arrives so garbage fails fast.
ReplyScanner::Step ReplyScanner::ScanHeader(const char* data, size_t size) {
  if (pos_ >= size) return Step::kNeedMore;
  const char type = data[pos_];
  const Kind kind = KindOf(type);
  if (kind == Kind::kInvalid) return Fail("unknown reply type byte");
  // A length line is searched only within its maximum size, so the outcome does not depend on
  // how the stream was split; a simple line may be as long as the backend likes.
  const bool capped = kind != Kind::kLine && size - pos_ > kMaxLengthLine;
  const size_t window_end = capped ? pos_ + kMaxLengthLine + 1 : size;
  const void* hit = std::memchr(data + scan_pos_, '\r', window_end - scan_pos_);
  if (hit == nullptr) {
    scan_pos_ = window_end;
    return capped ? Fail("length line too long") : Step::kNeedMore;
  }
  const size_t cr = static_cast<size_t>(static_cast<const char*>(hit) - data);
  if (cr + 1 >= size) {
    scan_pos_ = cr;  // found again at once when the '\n' arrives
    return Step::kNeedMore;
  }
  if (data[cr + 1] != '\n') return Fail("line not terminated by CRLF");
  const size_t line = pos_;
  pos_ = scan_pos_ = cr + 2;
  if (kind == Kind::kLine) {
    --pending_;
    return Step::kNext;
  }
  return ApplyHeader(type, data + line + 1, cr - line - 1);
}

// Applies a bulk or aggregate header whose length digits are [digits, digits + length).
ReplyScanner::Step ReplyScanner::ApplyHeader(char type, const char* digits, size_t length) {
  int64_t n = 0;
  const Kind kind = KindOf(type);
  if (kind == Kind::kBulk) {
    if (!ParseLength(digits, length, &n) || n < -1 || n > kMaxBulkLen || (n == -1 && type != '$')) {
      return Fail("invalid bulk length");
    }
    if (n == -1) {  // RESP2 null bulk string
      --pending_;
    } else {
      bulk_remaining_ = n + 2;
    }
    return Step::kNext;
  }
  if (!ParseLength(digits, length, &n) || n < -1 || n > kMaxCount || (n == -1 && type != '*')) {
    return Fail("invalid aggregate length");
  }
  if (n == -1) {  // RESP2 null array
    --pending_;
    return Step::kNext;
  }
  switch (kind) {
    case Kind::kArray:
      return AddPending(n - 1);  // this element is delivered, its n children are owed
    case Kind::kMap:
      return AddPending(2 * n - 1);
    default:  // Kind::kAttribute: annotates the element that follows, which is still owed
      return AddPending(2 * n);
  }
}

ReplyScanner::Step ReplyScanner::AddPending(int64_t count) {
  if (count > 0 && pending_ > kMaxPending - count) return Fail("too many nested elements");
  pending_ += count;
  return Step::kNext;
}

ReplyScanner::Step ReplyScanner::ScanBulkPayload(const char* data, size_t size) {
  const uint64_t remaining = static_cast<uint64_t>(bulk_remaining_);
  if (size - pos_ < remaining) return Step::kNeedMore;
  pos_ += remaining;
  if (data[pos_ - 2] != '\r' || data[pos_ - 1] != '\n') {
    return Fail("bulk payload not terminated by CRLF");
  }
  scan_pos_ = pos_;
  bulk_remaining_ = -1;
  --pending_;
  return Step::kNext;
}

ReplyScanner::Step ReplyScanner::Fail(const char* reason) {
  failed_ = true;
  error_ = reason;
  return Step::kError;
}

}  // namespace slotplane::dataplane
