#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace slotplane::dataplane {

// Which code of the proxy answers a command that is not simply routed by its RouteClass. Stored
// in each CommandInfo, so that the dispatcher and the handlers switch on it instead of comparing
// names. A subcommand has its own id, or kNone (its parent's is CommandInfo::parent->handler).
enum class Handler : uint8_t {
  kNone,
  // Answered by the proxy (local/).
  kPing,
  kEcho,
  kQuit,
  kSelect,
  kHello,
  kAuth,
  kReset,
  kReadonly,
  kReadwrite,
  kClient,
  kCommand,
  kCluster,
  kProxy,
  // CLIENT subcommands (local/client_subcommands).
  kClientId,
  kClientGetname,
  kClientSetname,
  kClientInfo,
  kClientList,
  kClientKill,
  kClientSetinfo,
  kClientNoEvict,
  kClientReply,
  kClientHelp,
  kClientTracking,  // TRACKING, CACHING, GETREDIR, TRACKINGINFO
  kClientPause,     // PAUSE, UNPAUSE
  kClientUnblock,
  // CLUSTER subcommands the proxy serves.
  kClusterKeyslot,
  kClusterTopology,  // INFO, SLOTS, SHARDS, NODES: the cluster's own answer
  // Connection state (stateful/).
  kMulti,
  kExec,
  kDiscard,
  kWatch,
  kUnwatch,
  kSubscribe,
  kPsubscribe,
  kSsubscribe,
  kUnsubscribe,
  kPunsubscribe,
  kSunsubscribe,
  kPublish,
  kWait,
  kPubsub,      // the PUBSUB container itself
  kPubsubHelp,  // PUBSUB HELP
  kXread,       // XREAD and XREADGROUP: blocking only with BLOCK
  kScript,      // EVAL, EVALSHA, FCALL and their _RO forms: on a private connection
  kScriptLoad,  // SCRIPT LOAD and FLUSH: on every master, and the proxy's ScriptCache
  kScriptFlush,
  // CONFIG GET and SET keep the cluster's credentials in (config_secrets.h).
  kConfigGet,
  kConfigSet,
};

// The id for a lower-case command name ("get", "client|list"); kNone when it has none.
Handler HandlerFor(std::string_view lower_name);

// The names that have an id, in order. For tests (each must name a real command); not for the
// data path.
std::vector<std::string_view> HandlerNames();

}  // namespace slotplane::dataplane
