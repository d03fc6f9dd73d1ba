#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/split_args.h"

namespace slotplane::dataplane {

// Limits with Redis's defaults; a request past one is a protocol error.
struct RequestLimits {
  int64_t max_bulk_len = 512LL * 1024 * 1024;  // proto-max-bulk-len
  // PROTO_INLINE_MAX_SIZE. Like Redis, it also bounds the "*<count>" and "$<len>" header lines.
  int64_t max_inline_len = 64 * 1024;
  int64_t max_multibulk_len = 1024 * 1024;  // count of arguments in one command
};

enum class ParseStatus {
  kCommand,   // one whole command parsed: see args(), command_size()
  kNeedMore,  // the bytes so far are a valid prefix; call again with more appended
  kError,     // protocol error: reply "-ERR <error()>" and close the connection
};

// Incremental, zero-copy RESP2 request parser (multibulk and inline) for one client connection.
// It accepts exactly what Redis 7.0's processMultibulkBuffer/processInlineBuffer accept and fails
// with their error texts (see request_parser.cc for the few deliberate differences).
//
// Contract: `data` points at the first byte of the command being parsed. Between calls that return
// kNeedMore the caller may only append bytes (the buffer may move: the parser stores offsets, never
// pointers), so it resumes where it stopped instead of rescanning. After kCommand the caller drops
// command_size() bytes and the next call starts a new command. Steady-state parsing allocates
// nothing: vectors keep their capacity.
//
// Empty commands are skipped like Redis does: blank inline lines ("\r\n", "\n", "  \r\n") and
// "*0\r\n" / "*-1\r\n" are consumed and reported in skipped_bytes(). After EVERY call the caller
// first drops skipped_bytes() bytes (then command_size() more after kCommand); when nothing else is
// buffered the result is kNeedMore with skipped_bytes() > 0.
//
// After kError the parser stays failed (every call returns kError) until Reset().
// Not thread-safe: owned by the connection's worker thread.
class RequestParser {
 public:
  explicit RequestParser(const RequestLimits& limits = RequestLimits()) : limits_(limits) {}

  ParseStatus Parse(const char* data, size_t size);

  // Valid after kCommand until the next Parse call or until the caller's buffer changes.
  const std::vector<std::string_view>& args() const { return args_; }
  // Bytes of the command including its framing; the caller removes exactly these. They start
  // skipped_bytes() after `data`.
  size_t command_size() const { return command_size_; }
  // True if the command was written inline (telnet style). Inline arguments may point into the
  // parser's own scratch (quotes and escapes are decoded), so the caller must re-encode it as
  // multibulk to forward it; multibulk commands may be forwarded byte for byte.
  bool is_inline() const { return is_inline_; }
  // Bytes of blank lines consumed before the command (caller drops them too); reset each call.
  size_t skipped_bytes() const { return skipped_bytes_; }

  // After kError: Redis's own text without the "-ERR " prefix, e.g.
  // "Protocol error: invalid bulk length".
  const std::string& error() const { return error_; }

  // Forget any partial command (used after the caller dropped its buffer).
  void Reset();

 private:
  // Where an argument lies: relative to the command start for multibulk, to inline_scratch_ for
  // inline. Offsets, not pointers, because the caller's buffer may move between calls.
  enum class Mode : uint8_t { kIdle, kMultibulk, kInline, kFailed };
  enum class LineStatus : uint8_t { kFound, kNeedMore, kTooLong };
  // Outcome of one parsing step inside a command; kFailed has already set error_.
  enum class Step : uint8_t { kDone, kNeedMore, kFailed };

  // The fast path: a whole "*N\r\n$len\r\n..." command already buffered, read in one pass straight
  // into args_. False when the command is incomplete (then, if the buffer simply ends between or
  // inside arguments, the general path's state is set to resume there) or anything is unusual
  // (then nothing changed, and the general path parses the command from its start with Redis's
  // exact rules and errors).
  bool ParseWholeMultibulk(const char* data, size_t size);
  void ResumeInGeneralPath(const char* data, int64_t count, int64_t remaining, int64_t bulk_len,
                           size_t pos);
  // Both return kCommand for a complete command, possibly with zero arguments (to be skipped).
  ParseStatus ParseMultibulk(const char* data, size_t size);
  ParseStatus ParseInline(const char* data, size_t size);
  Step ParseCountHeader(const char* data, size_t size);
  Step ParseBulkHeader(const char* data, size_t size);
  Step FindHeaderLine(const char* data, size_t size, const char* too_big, size_t* cr);
  LineStatus FindLineEnd(const char* data, size_t size, char terminator, size_t* end);
  // The longest header or inline line, as in Redis (PROTO_INLINE_MAX_SIZE).
  size_t MaxLine() const;
  bool SplitInlineArgs(const char* line, size_t length);
  void BeginCommand(bool multibulk);
  void MaterializeArgs(const char* data);
  static ParseStatus StatusOf(Step step);
  ParseStatus Fail(const char* message);
  void FailExpectedDollar(char got);

  RequestLimits limits_;
  std::vector<std::string_view> args_;
  std::vector<ArgSpan> offsets_;
  std::string inline_scratch_;
  std::string error_;
  size_t command_size_ = 0;
  size_t skipped_bytes_ = 0;
  bool is_inline_ = false;
  Mode mode_ = Mode::kIdle;
  // Multibulk resume state.
  bool header_done_ = false;   // the "*<count>" line was parsed
  int64_t expected_args_ = 0;  // arguments still to read
  int64_t bulk_len_ = -1;      // length of the current argument once its "$<len>" line is parsed
  size_t pos_ = 0;             // offset of the next unread byte relative to the command start
  // How far the line starting at pos_ was already searched for its terminator; keeps a line fed
  // byte by byte linear. Invariant: pos_ <= scan_pos_ <= bytes seen.
  size_t scan_pos_ = 0;
};

}  // namespace slotplane::dataplane
