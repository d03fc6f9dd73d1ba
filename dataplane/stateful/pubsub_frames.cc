#include "dataplane/stateful/pubsub_frames.h"

#include <charconv>

#include "dataplane/resp/reply_writer.h"

namespace slotplane::dataplane {
namespace {

// Reads "<type><number>\r\n" at `*pos`; false when malformed.
bool ReadHeader(std::string_view frame, size_t* pos, char type, int64_t* value) {
  if (*pos >= frame.size() || frame[*pos] != type) return false;
  size_t end = frame.find("\r\n", *pos);
  if (end == std::string_view::npos) return false;
  auto [ptr, ec] = std::from_chars(frame.data() + *pos + 1, frame.data() + end, *value);
  if (ec != std::errc() || ptr != frame.data() + end) return false;
  *pos = end + 2;
  return true;
}

// Reads a bulk string at `*pos`; a null bulk gives `null`.
bool ReadBulk(std::string_view frame, size_t* pos, std::string_view* out, bool* null) {
  int64_t length;
  if (!ReadHeader(frame, pos, '$', &length)) return false;
  *null = length < 0;
  if (length < 0) {
    *out = {};
    return true;
  }
  if (*pos + static_cast<size_t>(length) + 2 > frame.size()) return false;
  *out = frame.substr(*pos, static_cast<size_t>(length));
  *pos += static_cast<size_t>(length) + 2;
  return true;
}

struct Word {
  std::string_view text;
  PubSubFrameKind kind;
  SubscriptionType type;
};

constexpr Word kWords[] = {
    {"message", PubSubFrameKind::kMessage, SubscriptionType::kChannel},
    {"pmessage", PubSubFrameKind::kMessage, SubscriptionType::kPattern},
    {"smessage", PubSubFrameKind::kMessage, SubscriptionType::kShard},
    {"subscribe", PubSubFrameKind::kSubscribed, SubscriptionType::kChannel},
    {"psubscribe", PubSubFrameKind::kSubscribed, SubscriptionType::kPattern},
    {"ssubscribe", PubSubFrameKind::kSubscribed, SubscriptionType::kShard},
    {"unsubscribe", PubSubFrameKind::kUnsubscribed, SubscriptionType::kChannel},
    {"punsubscribe", PubSubFrameKind::kUnsubscribed, SubscriptionType::kPattern},
    {"sunsubscribe", PubSubFrameKind::kUnsubscribed, SubscriptionType::kShard},
};

std::string_view ConfirmationWord(SubscriptionType type, bool subscribe) {
  switch (type) {
    case SubscriptionType::kChannel:
      return subscribe ? "subscribe" : "unsubscribe";
    case SubscriptionType::kPattern:
      return subscribe ? "psubscribe" : "punsubscribe";
    case SubscriptionType::kShard:
      return subscribe ? "ssubscribe" : "sunsubscribe";
  }
  return "";
}

}  // namespace

PubSubFrame ParsePubSubFrame(std::string_view frame) {
  PubSubFrame out;
  size_t pos = 0;
  int64_t count;
  if (!ReadHeader(frame, &pos, '*', &count) || count < 2) return out;
  std::string_view word, name;
  bool null_word, null_name;
  if (!ReadBulk(frame, &pos, &word, &null_word) || null_word) return out;
  if (!ReadBulk(frame, &pos, &name, &null_name)) return out;
  for (const Word& w : kWords) {
    if (w.text == word) {
      out.kind = w.kind;
      out.type = w.type;
      out.name = name;
      if (w.kind == PubSubFrameKind::kMessage && w.type == SubscriptionType::kPattern) {
        std::string_view channel;
        if (count < 4 || !ReadBulk(frame, &pos, &channel, &null_name)) return PubSubFrame{};
        out.channel = channel;
      }
      return out;
    }
  }
  return out;
}

void AppendSubscriptionReply(std::string* out, SubscriptionType type, bool subscribe,
                             std::string_view name, bool null_name, int64_t count, bool resp3) {
  resp::AppendPushHeader(out, 3, resp3);
  resp::AppendBulk(out, ConfirmationWord(type, subscribe));
  if (null_name) {
    resp::AppendNull(out, resp3);
  } else {
    resp::AppendBulk(out, name);
  }
  resp::AppendInteger(out, count);
}

void AssignMessagePush(std::string* out, std::string_view frame) {
  out->assign(frame.data(), frame.size());
  if (!out->empty()) (*out)[0] = '>';  // same elements: only the aggregate type differs
}

void AppendSubscribedPong(std::string* out, std::string_view message) {
  resp::AppendArrayHeader(out, 2);
  resp::AppendBulk(out, "pong");
  resp::AppendBulk(out, message);
}

std::string_view SubscriptionCommand(SubscriptionType type, bool subscribe) {
  switch (type) {
    case SubscriptionType::kChannel:
      return subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";
    case SubscriptionType::kPattern:
      return subscribe ? "PSUBSCRIBE" : "PUNSUBSCRIBE";
    case SubscriptionType::kShard:
      return subscribe ? "SSUBSCRIBE" : "SUNSUBSCRIBE";
  }
  return "";
}

}  // namespace slotplane::dataplane
