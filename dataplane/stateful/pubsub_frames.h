#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace slotplane::dataplane {

// The three kinds of subscription; each has its own commands, confirmation words and message
// word in RESP2.
enum class SubscriptionType : uint8_t { kChannel, kPattern, kShard };

// The frames a node sends on a subscribed connection, told apart by their first element.
enum class PubSubFrameKind : uint8_t {
  kOther,         // not a pub/sub frame (an error, a plain reply)
  kMessage,       // message / pmessage / smessage: delivered to the client
  kSubscribed,    // subscribe / psubscribe / ssubscribe confirmation
  kUnsubscribed,  // unsubscribe / punsubscribe / sunsubscribe confirmation (or, for sunsubscribe,
                  // the node telling that the shard channel's slot moved away)
};

struct PubSubFrame {
  PubSubFrameKind kind = PubSubFrameKind::kOther;
  SubscriptionType type = SubscriptionType::kChannel;
  // The channel, pattern (pmessage) or shard channel the frame is about; empty when null.
  std::string_view name;
  // For a pmessage, the channel the message was published to; empty otherwise.
  std::string_view channel;
};

// Reads the first two elements of a RESP2 pub/sub frame ("*3 $7 message $<channel> $<payload>",
// "*4 $8 pmessage $<pattern> $<channel> $<payload>", "*3 $9 subscribe $<channel> :<count>", ...)
// and, for a pmessage, the third (the channel). `frame` is one whole frame; the result points
// into it.
PubSubFrame ParsePubSubFrame(std::string_view frame);

// The confirmation Redis sends per channel: "*3 $<word> $<name> :<count>" (`name` null when
// `null_name`, as in an UNSUBSCRIBE with nothing to unsubscribe); for a RESP3 client a push frame,
// ">3 ...", with a RESP3 null.
void AppendSubscriptionReply(std::string* out, SubscriptionType type, bool subscribe,
                             std::string_view name, bool null_name, int64_t count, bool resp3);

// A message frame from a node (RESP2, "*3 $7 message ...") as a RESP3 client gets it: the same
// frame as a push (">3 ..."). Replaces `out`.
void AssignMessagePush(std::string* out, std::string_view frame);

// RESP2 PING in subscribed mode: "*2 $4 pong $<message>" (empty message without an argument).
void AppendSubscribedPong(std::string* out, std::string_view message);

// The command name for a subscription type, as sent to a node ("SUBSCRIBE", "PUNSUBSCRIBE", ...).
std::string_view SubscriptionCommand(SubscriptionType type, bool subscribe);

}  // namespace slotplane::dataplane
