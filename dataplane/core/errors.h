#pragma once

#include <string>
#include <string_view>
#include <vector>

// Every error reply slotplane-proxy writes itself is built here, with a kind that metrics count.
// Wording follows Redis's own where Redis has one, so clients that match on it keep working.
// Each function returns the full RESP line ("-...\r\n").
namespace slotplane::dataplane {

enum class ErrorKind {
  kProtocol,  // malformed RESP; the connection is closed after the reply
  kUnknownCommand,
  kWrongArity,
  kCrossSlot,
  kClusterDown,         // slot not served, or no topology yet
  kBackendUnavailable,  // node unreachable, connection lost
  kRedirectLimit,       // too many MOVED/ASK hops
  kUnsupported,         // no meaning through a proxy, or not implemented yet
  kLimit,               // maxclients and similar
  kCommand,             // a local command's argument errors (SELECT, HELLO, ...)
  kAuth,                // NOAUTH, WRONGPASS, NOPERM
  kCount
};

const char* ErrorKindName(ErrorKind kind);

namespace errors {

std::string Protocol(std::string_view message);  // message from RequestParser::error()
std::string UnknownCommand(const std::vector<std::string_view>& args);
std::string UnknownSubcommand(std::string_view command, std::string_view subcommand);
std::string WrongArity(std::string_view full_name);
std::string CrossSlot();
std::string SlotNotServed();
std::string NoTopology();
std::string NodeUnreachable(std::string_view address, std::string_view reason);
std::string ConnectionLost(std::string_view address);
// A node that left a request unanswered for `timeout_ms` (backend-timeout).
std::string BackendTimeout(std::string_view address, int timeout_ms);
// `error` (a full RESP error line naming the node) for a request that was held for a failover
// (failover-hold-timeout) and saw no new master in `hold_ms`.
std::string HoldExpired(std::string_view error, int hold_ms);
std::string TooManyRedirects(int slot);
// A part of a split or fanned-out command got a reply of a type the merge cannot use.
std::string UnexpectedReply(std::string_view command);
// The error frame a cluster node answered to a command sent to every node, naming the node and
// how many of the `total` nodes succeeded.
std::string FromNode(std::string_view error_frame, std::string_view address, size_t succeeded,
                     size_t total);
std::string InvalidCursor();  // SCAN with a cursor the proxy did not hand out
std::string Unsupported(std::string_view command, std::string_view why);
std::string NotYetSupported(std::string_view command);
// CONFIG SET of a secret parameter (config_secrets.h), named as the client spelled it; the value
// is never echoed.
std::string ConfigSetSecretRefused(std::string_view parameter);
// CONFIG SET of a node-specific parameter (config_node_settings.h), named as the client spelled it.
std::string ConfigSetNodeSpecificRefused(std::string_view parameter);
std::string MaxClients();
std::string Generic(std::string_view message);  // "-ERR <message>"
// Client authentication, in Redis's words.
std::string NoAuth();
std::string WrongPass();
std::string HelloNoAuth();
std::string AuthWithoutPassword();
// ACL denials, in Redis 7.0's words; `full_name` as "get" or "config|set".
std::string NoPermCommand(std::string_view full_name);
std::string NoPermKey();
std::string NoPermChannel();

// Transactions and subscribed mode (connection state), in Redis's words.
std::string MultiNested();
std::string ExecWithoutMulti();
std::string DiscardWithoutMulti();
std::string WatchInsideMulti();
std::string ExecAbort();
std::string NotAllowedInMulti();
// A command other than (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT or RESET while subscribed.
std::string NotAllowedSubscribed(std::string_view full_name);

}  // namespace errors
}  // namespace slotplane::dataplane
