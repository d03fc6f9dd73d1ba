#include "dataplane/resp/request_parser.h"

#include <algorithm>
#include <cstring>
#include <limits>

// Mirrors Redis 7.0 networking.c (processMultibulkBuffer, processInlineBuffer) and sds.c
// (sdssplitargs, shared with config files in common/split_args.h). Deliberate differences, all on
// inputs Redis itself handles badly:
//  - Redis finds line ends with strchr, so a NUL before the terminator hides it and Redis waits
//    until the "too big" limit. We use memchr: the line is found and then judged like Redis would
//    judge a C string (a count with a NUL is invalid; an inline line ends at its first NUL).
//  - Redis decides "too big ... request/count string" from how much happened to be buffered when
//    no terminator was seen, so the outcome depends on how the bytes were split into reads. Here a
//    line is too big iff its terminator is not within the first limit+1 bytes, whatever the split.
// Like Redis, the byte after a header's '\r' and the two bytes after a bulk payload are skipped
// without checking that they are "\n" / "\r\n"; backends accept the same bytes, so forwarding a
// multibulk command verbatim stays equivalent.

namespace slotplane::dataplane {
namespace {

// Redis's LONG_STR_SIZE: string2ll rejects strings this long or longer.
constexpr size_t kLongStrSize = 21;
// After a command with more arguments than this, the argument vectors are released instead of
// kept, so one huge command does not pin its memory for the connection's lifetime.
constexpr size_t kRetainedArgCapacity = 16 * 1024;
// Redis reserves argv for at most this many arguments up front; a client's count is not trusted.
constexpr int64_t kMaxReservedArgs = 1024;

// Redis's string2ll: optional '-', no '+', no leading zeros, no "-0", no spaces, must fit int64.
bool ParseRedisInt(const char* s, size_t len, int64_t* value) {
  if (len == 0 || len >= kLongStrSize) return false;
  if (len == 1 && s[0] == '0') {
    *value = 0;
    return true;
  }
  size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative) i = 1;
  if (i == len || s[i] < '1' || s[i] > '9') return false;
  uint64_t v = 0;
  for (; i < len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    v = v * 10 + digit;
  }
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (v > kMax + 1) return false;
    *value = -static_cast<int64_t>(v - 1) - 1;  // v >= 1; avoids overflow for INT64_MIN
  } else {
    if (v > kMax) return false;
    *value = static_cast<int64_t>(v);
  }
  return true;
}

// The digits of a short header: its number cannot overflow and is below every limit's type.
constexpr size_t kMaxDigits = 9;

// The common header — "*N" or "$N" with 1 to 9 plain digits, then '\r' and one more byte
// buffered — read in one pass. Returns false for anything else (longer or signed numbers, leading
// zeros, a missing terminator, a line longer than `max_line`), which then takes the general path
// with Redis's exact rules.
bool ReadShortHeader(const char* data, size_t size, size_t pos, size_t max_line, int64_t* value,
                     size_t* cr) {
  if (max_line < kMaxDigits + 1) return false;
  size_t i = pos + 1;
  const size_t digits_end = std::min(size, i + kMaxDigits);
  if (i >= digits_end || data[i] < '1' || data[i] > '9') {
    // A lone "0" is the only number allowed to start with '0'.
    if (i + 2 < size && data[i] == '0' && data[i + 1] == '\r') {
      *value = 0;
      *cr = i + 1;
      return true;
    }
    return false;
  }
  int64_t v = 0;
  for (; i < digits_end && data[i] >= '0' && data[i] <= '9'; ++i) v = v * 10 + (data[i] - '0');
  if (i + 1 >= size || data[i] != '\r') return false;
  *value = v;
  *cr = i;
  return true;
}

// The fast path's header reader: exactly the headers ReadShortHeader accepts (the caller checked
// max_line once), inlined; on success *next is the offset after the line's "\r\n".
inline bool ReadFastHeader(const char* data, size_t size, size_t pos, int64_t* value,
                           size_t* next) {
  // The type byte, up to kMaxDigits digits, '\r' and the byte after it: with that many bytes
  // buffered, the digits are read without a bound check per byte (the usual case in a pipeline).
  constexpr size_t kLongestHeader = 1 + kMaxDigits + 2;
  const auto digit_at = [data](size_t i) {
    return static_cast<unsigned>(static_cast<unsigned char>(data[i])) - '0';
  };
  size_t i = pos + 1;
  if (size - pos >= kLongestHeader) {
    unsigned digit = digit_at(i);
    if (digit > 9) return false;
    uint64_t v = digit;
    ++i;
    // One and two digits, the usual counts and lengths, without a loop.
    if (data[i] != '\r') {
      if (digit == 0) return false;  // a lone "0" is the only number allowed to start with '0'
      digit = digit_at(i);
      if (digit > 9) return false;
      v = v * 10 + digit;
      ++i;
      const size_t digits_end = pos + 1 + kMaxDigits;
      while (i < digits_end && (digit = digit_at(i)) <= 9) {
        v = v * 10 + digit;
        ++i;
      }
      if (data[i] != '\r') return false;
    }
    *value = static_cast<int64_t>(v);
    *next = i + 2;
    return true;
  }
  if (i >= size) return false;
  unsigned digit = digit_at(i);
  if (digit > 9) return false;
  uint64_t v = digit;
  ++i;
  if (digit != 0) {
    const size_t digits_end = std::min(size, pos + 1 + kMaxDigits);
    while (i < digits_end && (digit = digit_at(i)) <= 9) {
      v = v * 10 + digit;
      ++i;
    }
  }
  if (i + 1 >= size || data[i] != '\r') return false;
  *value = static_cast<int64_t>(v);
  *next = i + 2;
  return true;
}

}  // namespace

ParseStatus RequestParser::Parse(const char* data, size_t size) {
  skipped_bytes_ = 0;
  command_size_ = 0;
  args_.clear();
  if (mode_ == Mode::kFailed) return ParseStatus::kError;
  if (size < scan_pos_) return Fail("internal error: request buffer shrank between calls");
  for (;;) {
    const char* command = data + skipped_bytes_;
    const size_t available = size - skipped_bytes_;
    if (mode_ == Mode::kIdle) {
      if (available == 0) return ParseStatus::kNeedMore;
      if (command[0] == '*' && ParseWholeMultibulk(command, available)) {
        return ParseStatus::kCommand;
      }
      // Unless the fast path handed an incomplete command over (mode_ is kMultibulk then).
      if (mode_ == Mode::kIdle) BeginCommand(command[0] == '*');
    }
    const ParseStatus status = mode_ == Mode::kMultibulk ? ParseMultibulk(command, available)
                                                         : ParseInline(command, available);
    if (status != ParseStatus::kCommand) return status;
    mode_ = Mode::kIdle;
    pos_ = scan_pos_ = 0;  // the next command starts at the caller's new buffer start
    if (!offsets_.empty()) {
      MaterializeArgs(command);
      return ParseStatus::kCommand;
    }
    // No arguments: Redis resets the client without running anything; so do we.
    skipped_bytes_ += command_size_;
    command_size_ = 0;
  }
}

void RequestParser::Reset() {
  mode_ = Mode::kIdle;
  args_.clear();
  offsets_.clear();
  inline_scratch_.clear();
  error_.clear();
  command_size_ = 0;
  skipped_bytes_ = 0;
  pos_ = 0;
  scan_pos_ = 0;
}

void RequestParser::BeginCommand(bool multibulk) {
  mode_ = multibulk ? Mode::kMultibulk : Mode::kInline;
  is_inline_ = !multibulk;
  header_done_ = false;
  expected_args_ = 0;
  bulk_len_ = -1;
  pos_ = 0;
  scan_pos_ = 0;
  if (offsets_.capacity() > kRetainedArgCapacity) {
    std::vector<ArgSpan>().swap(offsets_);
    std::vector<std::string_view>().swap(args_);
  }
  offsets_.clear();
  inline_scratch_.clear();
}

// Accepts only what the general path accepts in one call from the command's start, with the same
// result: the headers ReadShortHeader reads, the same limits, every byte buffered. Counts
// above kMaxReservedArgs are left to the general path, which bounds what the vectors keep (and
// releases them after a huge command: hence the capacity check).
bool RequestParser::ParseWholeMultibulk(const char* data, size_t size) {
  int64_t count = 0;
  size_t pos = 0;
  if (MaxLine() < kMaxDigits + 1 || args_.capacity() > kRetainedArgCapacity ||
      !ReadFastHeader(data, size, 0, &count, &pos) || count <= 0 ||
      count > limits_.max_multibulk_len || count > kMaxReservedArgs) {
    return false;
  }
  for (int64_t i = 0; i < count; ++i) {
    int64_t length = 0;
    if (pos >= size) {  // the buffer ends between two arguments
      ResumeInGeneralPath(data, count, count - i, -1, pos);
      return false;
    }
    if (data[pos] != '$' || !ReadFastHeader(data, size, pos, &length, &pos) ||
        length > limits_.max_bulk_len) {
      args_.clear();
      return false;
    }
    const size_t needed = static_cast<size_t>(length) + 2;  // payload and its CRLF
    if (size - pos < needed) {  // the buffer ends in this argument's payload
      ResumeInGeneralPath(data, count, count - i, length, pos);
      return false;
    }
    args_.emplace_back(data + pos, static_cast<size_t>(length));
    pos += needed;
  }
  is_inline_ = false;
  command_size_ = pos;
  return true;
}

// The state the general path reaches on the same bytes: count header read (`count` arguments),
// the arguments so far recorded as offsets, `remaining` still to read, and at `pos` either the
// next "$" header (bulk_len -1) or the payload of a bulk of bulk_len bytes. So a command split
// over reads is not parsed again from its start.
void RequestParser::ResumeInGeneralPath(const char* data, int64_t count, int64_t remaining,
                                        int64_t bulk_len, size_t pos) {
  mode_ = Mode::kMultibulk;
  is_inline_ = false;
  header_done_ = true;
  expected_args_ = remaining;
  bulk_len_ = bulk_len;
  pos_ = scan_pos_ = pos;
  inline_scratch_.clear();
  offsets_.clear();
  offsets_.reserve(static_cast<size_t>(count));
  for (std::string_view arg : args_) {
    offsets_.push_back({static_cast<size_t>(arg.data() - data), arg.size()});
  }
  args_.clear();
}

ParseStatus RequestParser::ParseMultibulk(const char* data, size_t size) {
  if (!header_done_) {
    const Step step = ParseCountHeader(data, size);
    if (step != Step::kDone) return StatusOf(step);
    if (expected_args_ == 0) {  // "*0", "*-1" (any negative count, like Redis): empty command
      command_size_ = pos_;
      return ParseStatus::kCommand;
    }
  }
  while (expected_args_ > 0) {
    if (bulk_len_ < 0) {
      const Step step = ParseBulkHeader(data, size);
      if (step != Step::kDone) return StatusOf(step);
    }
    const uint64_t needed = static_cast<uint64_t>(bulk_len_) + 2;  // payload and its CRLF
    if (size - pos_ < needed) return ParseStatus::kNeedMore;
    offsets_.push_back({pos_, static_cast<size_t>(bulk_len_)});
    pos_ = scan_pos_ = pos_ + needed;
    bulk_len_ = -1;
    --expected_args_;
  }
  command_size_ = pos_;
  return ParseStatus::kCommand;
}

// Parses the "*<count>" line at the command start into expected_args_ (0 for an empty command).
RequestParser::Step RequestParser::ParseCountHeader(const char* data, size_t size) {
  size_t cr = 0;
  int64_t count = 0;
  bool valid = ReadShortHeader(data, size, 0, MaxLine(), &count, &cr);
  if (!valid) {
    const Step found =
        FindHeaderLine(data, size, "Protocol error: too big mbulk count string", &cr);
    if (found != Step::kDone) return found;
    valid = ParseRedisInt(data + 1, cr - 1, &count);
  }
  if (!valid || count > limits_.max_multibulk_len) {
    Fail("Protocol error: invalid multibulk length");
    return Step::kFailed;
  }
  pos_ = scan_pos_ = cr + 2;
  header_done_ = true;
  expected_args_ = std::max<int64_t>(count, 0);
  offsets_.reserve(static_cast<size_t>(std::min(expected_args_, kMaxReservedArgs)));
  return Step::kDone;
}

// Parses the "$<len>" line at pos_ into bulk_len_.
RequestParser::Step RequestParser::ParseBulkHeader(const char* data, size_t size) {
  size_t cr = 0;
  int64_t length = 0;
  bool valid = pos_ < size && data[pos_] == '$' &&
               ReadShortHeader(data, size, pos_, MaxLine(), &length, &cr);
  if (!valid) {
    const Step found = FindHeaderLine(data, size, "Protocol error: too big bulk count string", &cr);
    if (found != Step::kDone) return found;
    if (data[pos_] != '$') {
      FailExpectedDollar(data[pos_]);
      return Step::kFailed;
    }
    valid = ParseRedisInt(data + pos_ + 1, cr - pos_ - 1, &length);
  }
  if (!valid || length < 0 || length > limits_.max_bulk_len) {
    Fail("Protocol error: invalid bulk length");
    return Step::kFailed;
  }
  bulk_len_ = length;
  pos_ = scan_pos_ = cr + 2;
  return Step::kDone;
}

// A header line is complete once its '\r' and one byte after it are buffered; like Redis, that
// byte is assumed to be '\n'.
RequestParser::Step RequestParser::FindHeaderLine(const char* data, size_t size,
                                                  const char* too_big, size_t* cr) {
  switch (FindLineEnd(data, size, '\r', cr)) {
    case LineStatus::kNeedMore:
      return Step::kNeedMore;
    case LineStatus::kTooLong:
      Fail(too_big);
      return Step::kFailed;
    case LineStatus::kFound:
      break;
  }
  return *cr + 1 < size ? Step::kDone : Step::kNeedMore;
}

ParseStatus RequestParser::ParseInline(const char* data, size_t size) {
  size_t newline = 0;
  switch (FindLineEnd(data, size, '\n', &newline)) {
    case LineStatus::kNeedMore:
      return ParseStatus::kNeedMore;
    case LineStatus::kTooLong:
      return Fail("Protocol error: too big inline request");
    case LineStatus::kFound:
      break;
  }
  size_t length = newline;
  if (length > 0 && data[length - 1] == '\r') --length;  // "\r\n" and a bare "\n" both end lines
  if (!SplitInlineArgs(data, length)) {
    return Fail("Protocol error: unbalanced quotes in request");
  }
  command_size_ = newline + 1;
  return ParseStatus::kCommand;
}

// Looks for `terminator` in the line starting at pos_, resuming at scan_pos_. The line may be at
// most max_inline_len bytes before its terminator, as in Redis (PROTO_INLINE_MAX_SIZE).
size_t RequestParser::MaxLine() const {
  return static_cast<size_t>(std::max<int64_t>(limits_.max_inline_len, 0));
}

RequestParser::LineStatus RequestParser::FindLineEnd(const char* data, size_t size, char terminator,
                                                     size_t* end) {
  const size_t max_line = MaxLine();
  const size_t available = size - pos_;
  const bool too_long = available > max_line;
  const size_t window_end = pos_ + (too_long ? max_line + 1 : available);
  if (scan_pos_ < window_end) {
    const void* hit = std::memchr(data + scan_pos_, terminator, window_end - scan_pos_);
    if (hit != nullptr) {
      *end = static_cast<size_t>(static_cast<const char*>(hit) - data);
      scan_pos_ = *end;  // found again at once if the caller needs one more byte
      return LineStatus::kFound;
    }
    scan_pos_ = window_end;
  }
  return too_long ? LineStatus::kTooLong : LineStatus::kNeedMore;
}

// sdssplitargs on the line; tokens are decoded into inline_scratch_ and recorded in offsets_.
bool RequestParser::SplitInlineArgs(const char* line, size_t length) {
  return SplitArgs(std::string_view(line, length), &inline_scratch_, &offsets_);
}

void RequestParser::MaterializeArgs(const char* data) {
  const char* base = is_inline_ ? inline_scratch_.data() : data;
  args_.reserve(offsets_.size());
  for (const ArgSpan& arg : offsets_) args_.emplace_back(base + arg.offset, arg.length);
}

ParseStatus RequestParser::StatusOf(Step step) {
  return step == Step::kNeedMore ? ParseStatus::kNeedMore : ParseStatus::kError;
}

ParseStatus RequestParser::Fail(const char* message) {
  error_ = message;
  mode_ = Mode::kFailed;
  return ParseStatus::kError;
}

// Redis formats this with "%c" through sdscatvprintf, which stops at a NUL, and then maps CR and
// LF to spaces so the error stays one line; reproduce the exact text.
void RequestParser::FailExpectedDollar(char got) {
  error_ = "Protocol error: expected '$', got '";
  if (got != '\0') {
    error_.push_back(got == '\r' || got == '\n' ? ' ' : got);
    error_.push_back('\'');
  }
  mode_ = Mode::kFailed;
}

}  // namespace slotplane::dataplane
