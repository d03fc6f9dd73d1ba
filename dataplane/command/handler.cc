#include "dataplane/command/handler.h"

#include <algorithm>
#include <iterator>

namespace slotplane::dataplane {
namespace {

struct HandlerEntry {
  const char* name;  // lower case; "parent|sub" for a subcommand
  Handler handler;
};

using H = Handler;

// Sorted by name (checked at compile time), so lookups are a binary search at table build time.
constexpr HandlerEntry kHandlers[] = {
    {"auth", H::kAuth},
    {"client", H::kClient},
    {"client|caching", H::kClientTracking},
    {"client|getname", H::kClientGetname},
    {"client|getredir", H::kClientTracking},
    {"client|help", H::kClientHelp},
    {"client|id", H::kClientId},
    {"client|info", H::kClientInfo},
    {"client|kill", H::kClientKill},
    {"client|list", H::kClientList},
    {"client|no-evict", H::kClientNoEvict},
    {"client|pause", H::kClientPause},
    {"client|reply", H::kClientReply},
    {"client|setinfo", H::kClientSetinfo},
    {"client|setname", H::kClientSetname},
    {"client|tracking", H::kClientTracking},
    {"client|trackinginfo", H::kClientTracking},
    {"client|unblock", H::kClientUnblock},
    {"client|unpause", H::kClientPause},
    {"cluster", H::kCluster},
    {"cluster|info", H::kClusterTopology},
    {"cluster|keyslot", H::kClusterKeyslot},
    {"cluster|nodes", H::kClusterTopology},
    {"cluster|shards", H::kClusterTopology},
    {"cluster|slots", H::kClusterTopology},
    {"command", H::kCommand},
    {"config|get", H::kConfigGet},
    {"config|set", H::kConfigSet},
    {"discard", H::kDiscard},
    {"echo", H::kEcho},
    {"eval", H::kScript},
    {"eval_ro", H::kScript},
    {"evalsha", H::kScript},
    {"evalsha_ro", H::kScript},
    {"exec", H::kExec},
    {"fcall", H::kScript},
    {"fcall_ro", H::kScript},
    {"hello", H::kHello},
    {"multi", H::kMulti},
    {"ping", H::kPing},
    {"proxy", H::kProxy},
    {"psubscribe", H::kPsubscribe},
    {"publish", H::kPublish},
    {"pubsub", H::kPubsub},
    {"pubsub|help", H::kPubsubHelp},
    {"punsubscribe", H::kPunsubscribe},
    {"quit", H::kQuit},
    {"readonly", H::kReadonly},
    {"readwrite", H::kReadwrite},
    {"reset", H::kReset},
    {"script|flush", H::kScriptFlush},
    {"script|load", H::kScriptLoad},
    {"select", H::kSelect},
    {"ssubscribe", H::kSsubscribe},
    {"subscribe", H::kSubscribe},
    {"sunsubscribe", H::kSunsubscribe},
    {"unsubscribe", H::kUnsubscribe},
    {"unwatch", H::kUnwatch},
    {"wait", H::kWait},
    {"watch", H::kWatch},
    {"xread", H::kXread},
    {"xreadgroup", H::kXread},
};

constexpr bool Sorted() {
  for (size_t i = 1; i < std::size(kHandlers); ++i) {
    if (std::string_view(kHandlers[i - 1].name) >= std::string_view(kHandlers[i].name)) {
      return false;
    }
  }
  return true;
}
static_assert(Sorted(), "kHandlers must be sorted by name, each name once");

}  // namespace

Handler HandlerFor(std::string_view lower_name) {
  auto it = std::lower_bound(
      std::begin(kHandlers), std::end(kHandlers), lower_name,
      [](const HandlerEntry& e, std::string_view name) { return std::string_view(e.name) < name; });
  return it != std::end(kHandlers) && it->name == lower_name ? it->handler : Handler::kNone;
}

std::vector<std::string_view> HandlerNames() {
  std::vector<std::string_view> names;
  for (const HandlerEntry& e : kHandlers) names.push_back(e.name);
  return names;
}

}  // namespace slotplane::dataplane
