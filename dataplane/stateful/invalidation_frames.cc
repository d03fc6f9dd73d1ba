#include "dataplane/stateful/invalidation_frames.h"

#include "absl/strings/numbers.h"
#include "common/strings.h"
#include "dataplane/resp/reply_writer.h"

namespace slotplane::dataplane {
namespace {

constexpr std::string_view kPushHead = ">2\r\n$10\r\ninvalidate\r\n";

// Reads "<type><n>\r\n" at `*pos`; false when it is not there.
bool ReadHeader(std::string_view frame, size_t* pos, char type, int64_t* n) {
  if (*pos >= frame.size() || frame[*pos] != type) return false;
  const size_t end = frame.find("\r\n", *pos);
  if (end == std::string_view::npos) return false;
  if (!absl::SimpleAtoi(AbslView(frame.substr(*pos + 1, end - *pos - 1)), n)) return false;
  *pos = end + 2;
  return true;
}

}  // namespace

bool ParseInvalidation(std::string_view frame, bool* flush, std::vector<std::string_view>* keys) {
  keys->clear();
  *flush = false;
  if (frame.substr(0, kPushHead.size()) != kPushHead) return false;
  size_t pos = kPushHead.size();
  if (frame.substr(pos) == "_\r\n") {
    *flush = true;
    return true;
  }
  int64_t count;
  if (!ReadHeader(frame, &pos, '*', &count) || count < 0) return false;
  for (int64_t i = 0; i < count; ++i) {
    int64_t len;
    if (!ReadHeader(frame, &pos, '$', &len) || len < 0) return false;
    if (pos + static_cast<size_t>(len) + 2 > frame.size()) return false;
    keys->push_back(frame.substr(pos, static_cast<size_t>(len)));
    pos += static_cast<size_t>(len) + 2;
  }
  return pos == frame.size();
}

void AppendInvalidation(std::string* out, bool resp3, const std::vector<std::string_view>& keys,
                        bool flush) {
  if (resp3) {
    resp::AppendPushHeader(out, 2, true);
    resp::AppendBulk(out, "invalidate");
  } else {
    resp::AppendArrayHeader(out, 3);
    resp::AppendBulk(out, "message");
    resp::AppendBulk(out, "__redis__:invalidate");
  }
  if (flush) {
    resp::AppendNull(out, resp3);
    return;
  }
  resp::AppendArrayHeader(out, keys.size());
  for (std::string_view key : keys) resp::AppendBulk(out, key);
}

void AppendRedirectBroken(std::string* out, int64_t redirect) {
  resp::AppendPushHeader(out, 2, true);
  resp::AppendBulk(out, "tracking-redir-broken");
  resp::AppendInteger(out, redirect);
}

}  // namespace slotplane::dataplane
