#pragma once

#include <cstdint>
#include <string_view>

#include "dataplane/stateful/pubsub_frames.h"

namespace slotplane::dataplane {

// Where slotplane keeps a subscription, so that a client sees what one Redis would show it.
//
// Redis Cluster sends every PUBLISH over the cluster bus to every node, so a channel or pattern
// subscribed on any node receives every message; but PUBLISH counts, PUBSUB NUMSUB/NUMPAT/CHANNELS
// and the order of "message" before "pmessage" are per node. slotplane therefore keeps every
// classic channel and pattern of all its clients on one **home** node, the master of
// `kPubSubHomeSlot`, and sends PUBLISH and those PUBSUB queries there: one node sees all the
// subscriptions, as one Redis does.
//
// Keyspace notifications never cross the bus: a node publishes the events of its own keys only.
// Channels of keyspace notifications and patterns that can match one live on every master (the
// home one first); the proxy passes a published message on from the home node only, and a
// keyspace notification from whichever node sent it.
//
// Shard channels live on their slot's master, as Redis requires.

// The slot whose master is the home node of classic subscriptions, PUBLISH and PUBSUB queries.
// Every slotplane proxy with the same topology picks the same node.
inline constexpr uint16_t kPubSubHomeSlot = 0;

// A channel whose messages may be keyspace notifications: "__keyspace@..." or "__keyevent@...".
bool IsKeyspaceChannel(std::string_view channel);

// Whether a subscription must live on every master: a keyspace-notification channel, or a pattern
// that can match one (for example "*", "__key*", "__k?yspace@0__:*", "[_]*").
bool LivesOnEveryMaster(SubscriptionType type, std::string_view name);

// Whether some string that starts with `prefix` matches the glob `pattern`, with Redis's glob
// rules (`*`, `?`, `[...]` with `^` and ranges, `\` escapes; case-sensitive). Errs on the side of
// true for a malformed class. Linear in |pattern| x |prefix|.
bool PatternCanMatchPrefix(std::string_view pattern, std::string_view prefix);

}  // namespace slotplane::dataplane
