// libFuzzer target for ReplyScanner. The input is a backend reply stream. It is scanned once in
// one piece and once in chunks whose sizes are derived from the input; both must agree exactly,
// and both must agree with a small recursive reference parser on every frame boundary and on
// whether the stream ends in a partial frame or in an error. Every complete frame's RESP2 form
// (resp::AppendResp2Form, used on RESP3 parts of merged replies) must be one complete frame.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/resp/reply_scanner.h"
#include "dataplane/resp/resp2_form.h"

namespace {

using slotplane::dataplane::ReplyScanner;
using slotplane::dataplane::ScanStatus;

void Check(bool condition, const char* invariant) {
  if (condition) return;
  std::fprintf(stderr, "reply_scanner_fuzz: invariant violated: %s\n", invariant);
  std::abort();
}

struct Result {
  std::vector<size_t> frames;
  std::string types;  // frame_type() of each frame
  ScanStatus last = ScanStatus::kNeedMore;
  std::string error;
};

class Chunker {
 public:
  explicit Chunker(uint64_t seed) : state_(seed | 1) {}
  size_t Next(size_t remaining) {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    size_t n = remaining;
    switch (state_ % 4) {
      case 0:
        n = 1;
        break;
      case 1:
        n = 1 + (state_ >> 8) % 8;
        break;
      case 2:
        n = 1 + (state_ >> 8) % 128;
        break;
      default:
        break;
    }
    return n < remaining ? n : remaining;
  }

 private:
  uint64_t state_;
};

uint64_t Hash(const uint8_t* data, size_t size) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ULL;
  return h;
}

// A complete frame scanned on its own, and with bytes after it, has the same size.
void CheckFrameAlone(const char* frame, size_t size) {
  ReplyScanner scanner;
  Check(scanner.Scan(frame, size) == ScanStatus::kComplete, "a frame alone is complete");
  Check(scanner.frame_size() == size, "a frame alone has the same size");
  std::string followed(frame, size);
  followed += "+x\r\n";
  Check(scanner.Scan(followed.data(), followed.size()) == ScanStatus::kComplete,
        "a frame followed by another is complete");
  Check(scanner.frame_size() == size, "trailing bytes do not change the frame size");
}

// The RESP2 form of a complete frame is itself one complete frame, of every byte written.
void CheckResp2Form(const char* frame, size_t size) {
  std::string resp2;
  slotplane::dataplane::resp::AppendResp2Form(std::string_view(frame, size), &resp2);
  ReplyScanner scanner;
  Check(scanner.Scan(resp2.data(), resp2.size()) == ScanStatus::kComplete,
        "the RESP2 form of a frame is complete");
  Check(scanner.frame_size() == resp2.size(), "the RESP2 form is one frame");
}

// Each call sees an exactly sized fresh copy of the pending bytes (ASan catches over-reads).
Result Run(const uint8_t* data, size_t size, Chunker* chunker) {
  ReplyScanner scanner;
  std::string pending;
  Result result;
  size_t fed = 0;
  do {
    const size_t n = chunker != nullptr ? chunker->Next(size - fed) : size - fed;
    pending.append(reinterpret_cast<const char*>(data) + fed, n);
    fed += n;
    for (;;) {
      std::unique_ptr<char[]> copy(new char[pending.size()]);
      pending.copy(copy.get(), pending.size());
      const ScanStatus status = scanner.Scan(copy.get(), pending.size());
      if (status == ScanStatus::kNeedMore) break;
      if (status == ScanStatus::kError) {
        Check(std::strlen(scanner.error()) > 0, "an error has a reason");
        result.last = status;
        result.error = scanner.error();
        return result;
      }
      Check(scanner.frame_size() > 0 && scanner.frame_size() <= pending.size(),
            "frame_size within the buffer");
      Check(scanner.frame_type() == pending[0], "frame_type is the first byte");
      if (chunker == nullptr) {
        CheckFrameAlone(copy.get(), scanner.frame_size());
        CheckResp2Form(copy.get(), scanner.frame_size());
      }
      result.frames.push_back(scanner.frame_size());
      result.types.push_back(scanner.frame_type());
      pending.erase(0, scanner.frame_size());
    }
  } while (fed < size);
  return result;
}

// The reference: plain recursive descent with the same acceptance rules as the scanner.
class Reference {
 public:
  enum Outcome { kOk, kMore, kBad, kTooDeep };

  Reference(const char* data, size_t size) : data_(data), size_(size) {}

  Outcome Element(size_t* pos, int depth) {
    if (depth > kMaxDepth) return kTooDeep;
    if (*pos >= size_) return kMore;
    const char type = data_[*pos];
    const bool line = std::strchr("+-:_,#(", type) != nullptr && type != '\0';
    const bool bulk = std::strchr("$!=", type) != nullptr && type != '\0';
    const bool aggregate = std::strchr("*~>%|", type) != nullptr && type != '\0';
    if (!line && !bulk && !aggregate) return kBad;
    size_t cr = 0;
    const Outcome found = FindCrlf(*pos, line, &cr);
    if (found != kOk) return found;
    const size_t start = *pos;
    *pos = cr + 2;
    if (line) return kOk;
    int64_t n = 0;
    if (!Length(data_ + start + 1, cr - start - 1, &n)) return kBad;
    if (n == -1) return type == '$' || type == '*' ? kOk : kBad;
    if (bulk) return Payload(pos, n);
    if (n > (int64_t{1} << 40)) return kBad;
    const int64_t children = type == '%' || type == '|' ? 2 * n : n;
    for (int64_t i = 0; i < children; ++i) {
      const Outcome child = Element(pos, depth + 1);
      if (child != kOk) return child;
    }
    return type == '|' ? Element(pos, depth + 1) : kOk;  // the annotated element follows
  }

 private:
  static constexpr int kMaxDepth = 5000;

  Outcome FindCrlf(size_t start, bool line, size_t* cr) const {
    size_t end = size_;
    if (!line && end - start > 20) end = start + 21;  // a length line is at most 20 bytes
    for (size_t i = start; i < end; ++i) {
      if (data_[i] != '\r') continue;
      if (i + 1 >= size_) return kMore;
      if (data_[i + 1] != '\n') return kBad;
      *cr = i;
      return kOk;
    }
    return !line && size_ - start > 20 ? kBad : kMore;  // 21 bytes and no '\r': too long
  }

  static bool Length(const char* s, size_t len, int64_t* n) {
    if (len == 2 && s[0] == '-' && s[1] == '1') {
      *n = -1;
      return true;
    }
    if (len == 0 || len > 18) return false;
    *n = 0;
    for (size_t i = 0; i < len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      *n = *n * 10 + (s[i] - '0');
    }
    return true;
  }

  Outcome Payload(size_t* pos, int64_t n) const {
    if (n > (int64_t{1} << 50)) return kBad;
    if (size_ - *pos < static_cast<uint64_t>(n) + 2) return kMore;
    *pos += static_cast<size_t>(n) + 2;
    return data_[*pos - 2] == '\r' && data_[*pos - 1] == '\n' ? kOk : kBad;
  }

  const char* data_;
  size_t size_;
};

void CheckAgainstReference(const uint8_t* data, size_t size, const Result& result) {
  const char* bytes = reinterpret_cast<const char*>(data);
  size_t pos = 0;
  for (size_t i = 0;; ++i) {
    Reference reference(bytes + pos, size - pos);
    size_t frame = 0;
    const Reference::Outcome outcome = reference.Element(&frame, 0);
    if (outcome == Reference::kTooDeep) return;  // beyond what the reference recurses into
    if (outcome != Reference::kOk) {
      Check(i == result.frames.size(), "reference and scanner find the same number of frames");
      Check((outcome == Reference::kBad) == (result.last == ScanStatus::kError),
            "reference and scanner agree on errors");
      return;
    }
    Check(i < result.frames.size() && result.frames[i] == frame,
          "reference and scanner agree on frame boundaries");
    pos += frame;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Result whole = Run(data, size, nullptr);
  Chunker chunker(Hash(data, size));
  const Result chunked = Run(data, size, &chunker);
  Check(whole.frames == chunked.frames, "chunking does not change frame boundaries");
  Check(whole.types == chunked.types, "chunking does not change frame types");
  Check(whole.last == chunked.last, "chunking does not change the final status");
  Check(whole.error == chunked.error, "chunking does not change the error reason");
  CheckAgainstReference(data, size, whole);
  return 0;
}
