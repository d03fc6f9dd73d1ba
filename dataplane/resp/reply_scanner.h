#pragma once

#include <cstddef>
#include <cstdint>

namespace slotplane::dataplane {

enum class ScanStatus {
  kComplete,  // one whole reply frame: see frame_size()
  kNeedMore,  // a valid prefix; call again with more bytes appended
  kError,     // the stream is not RESP; the connection is unusable
};

// Finds the boundaries of reply frames in a backend's byte stream without building objects.
// Handles RESP2 and the RESP3 types, nested to any depth in O(1) memory (it counts the elements
// still owed instead of keeping a stack). Incremental with the same contract as RequestParser:
// `data` is the start of the current frame; between kNeedMore calls bytes may only be appended
// (the buffer may move); after kComplete the caller drops frame_size() bytes.
//
// Types: simple lines + - : _ , # ( ; length-prefixed $ ! = ($-1 is a null); aggregates * ~ >
// (*-1 is a null), % (2N elements) and | (an attribute: 2N elements that precede, and do not
// replace, the element they annotate). Streamed RESP3 aggregates and strings ('?', ';', '.') are
// not supported: Redis never sends them. Only framing is checked: lengths and counts must be
// well-formed and every line and bulk payload must end in "\r\n"; line contents are not parsed.
//
// After kError the scanner stays failed until Reset(). Not thread-safe: owned by the backend
// connection's worker thread.
class ReplyScanner {
 public:
  ScanStatus Scan(const char* data, size_t size);

  size_t frame_size() const { return frame_size_; }
  // The first byte of the last complete frame ('+', '-', ':', '$', '*', ...).
  char frame_type() const { return frame_type_; }
  // After kError: a short static reason, e.g. "invalid bulk length".
  const char* error() const { return error_; }
  void Reset();

 private:
  enum class Step : uint8_t { kNext, kNeedMore, kError };

  // The fast path for the commonest replies; see reply_scanner.cc.
  bool ScanWholeSimple(const char* data, size_t size);
  Step ScanHeader(const char* data, size_t size);
  Step ScanBulkPayload(const char* data, size_t size);
  Step ApplyHeader(char type, const char* digits, size_t length);
  Step AddPending(int64_t count);
  Step Fail(const char* reason);
  void StartFrame();

  size_t pos_ = 0;               // resume offset relative to the frame start
  size_t scan_pos_ = 0;          // how far the line at pos_ was searched for '\r' (>= pos_)
  int64_t pending_ = 1;          // elements still owed before the frame is complete
  int64_t bulk_remaining_ = -1;  // >= 0 while inside a bulk payload (+2 for CRLF)
  size_t frame_size_ = 0;
  char frame_type_ = 0;
  bool failed_ = false;
  const char* error_ = "";
};

}  // namespace slotplane::dataplane
