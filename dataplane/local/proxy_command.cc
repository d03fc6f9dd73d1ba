#include "dataplane/local/proxy_command.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "common/strings.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/local/proxy_command_table.h"
#include "dataplane/local/proxy_subcommands.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/session/client_session.h"
#include "dataplane/stateful/session_state.h"

namespace slotplane::dataplane {
namespace {

constexpr const char* kHelpLines[] = {
    "PROXY <subcommand> [<arg> ...]. Subcommands are:",
    "PING",
    "    Return PONG.",
    "INFO [<section>]",
    "    Proxy information; sections: proxy, clients, cluster, stats, errorstats, fleet.",
    "CONFIG GET <pattern> [<pattern> ...]",
    "    Options matching the glob patterns, with their values in force.",
    "CONFIG SET <option> <value> [<option> <value> ...]",
    "    Change fleet-wide options: through the control plane (every proxy gets them), or on",
    "    this proxy when it runs standalone. Replies once the change is in force here.",
    "CLIENT ID|THREAD",
    "    This client's id, or the index of the worker thread serving it.",
    "COMMAND [UNSUPPORTED|CROSSSLOTS-UNSUPPORTED]",
    "    The command table: name, arity, first key, last key, key step, handling. UNSUPPORTED:",
    "    the commands slotplane refuses, and why; CROSSSLOTS-UNSUPPORTED: the multi-key",
    "    commands whose keys must share a slot even with enable-cross-slot.",
    "CLUSTER [INFO|STATUS|CONNECTION|NODES|UPDATE]",
    "    The topology this proxy routes by; UPDATE refreshes it (via the control plane if any).",
    "FLEET",
    "    The proxies the control plane sees, with the versions they acknowledged.",
    "MULTIPLEXING STATUS|OFF",
    "    Whether this client uses shared connections (on) or connections of its own (off);",
    "    OFF gives it connections of its own for good.",
    "LOG [<level>] <message>",
    "    Write a line to the proxy's log (level debug|info|success|warning|error; info).",
    "SHUTDOWN [ASAP]",
    "    Stop the proxy.",
    "HELP",
    "    Print this help.",
};

void ReplyHelp(ClientSession* client) {
  std::string reply;
  resp::AppendArrayHeader(&reply, std::size(kHelpLines));
  for (const char* line : kHelpLines) resp::AppendSimple(&reply, line);
  client->Reply(reply);
}

void ReplyInteger(ClientSession* client, int64_t value) {
  std::string reply;
  resp::AppendInteger(&reply, value);
  client->Reply(reply);
}

void ClientSubcommand(WorkerContext* worker, ClientSession* client,
                      const std::vector<std::string_view>& args) {
  if (args.size() == 3 && EqualsIgnoreCase(args[2], "id")) {
    ReplyInteger(client, static_cast<int64_t>(client->id()));
  } else if (args.size() == 3 && EqualsIgnoreCase(args[2], "thread")) {
    ReplyInteger(client, worker->index());
  } else {
    client->Reply(errors::Generic("PROXY CLIENT takes ID or THREAD"));
  }
}

// LOG [level] message...: the level is optional; the rest of the arguments is the message.
void LogSubcommand(ClientSession* client, const std::vector<std::string_view>& args) {
  if (args.size() < 3) {
    client->Reply(errors::WrongArity("proxy|log"));
    return;
  }
  LogLevel level = LogLevel::kInfo;
  size_t first = 2;
  if (args.size() > 3 && ParseLogLevel(absl::AsciiStrToLower(AbslView(args[2])), &level)) {
    first = 3;
  }
  std::vector<absl::string_view> words;
  for (size_t i = first; i < args.size(); ++i) words.push_back(AbslView(args[i]));
  std::string message = absl::StrJoin(words, " ");
  for (char& c : message) {
    if (c == '\r' || c == '\n') c = ' ';  // one log line per call
  }
  switch (level) {
    case LogLevel::kDebug:
      SP_LOG(kDebug) << message;
      break;
    case LogLevel::kInfo:
      SP_LOG(kInfo) << message;
      break;
    case LogLevel::kSuccess:
      SP_LOG(kSuccess) << message;
      break;
    case LogLevel::kWarning:
      SP_LOG(kWarning) << message;
      break;
    case LogLevel::kError:
      SP_LOG(kError) << message;
      break;
  }
  client->Reply(resp::kOk);
}

// True for a client connected over loopback (127.0.0.0/8, ::1) or the unix socket (its peer is
// "PATH:0"), as Redis's islocalClient.
bool IsLocalPeer(const ClientSession& client, const std::string& unixsocket) {
  const std::string& peer = client.peer();
  if (!unixsocket.empty() && peer == unixsocket + ":0") return true;
  return absl::StartsWith(AbslView(peer), "127.") || absl::StartsWith(AbslView(peer), "[::1]") ||
         absl::StartsWith(AbslView(peer), "::1");
}

// PROXY SHUTDOWN stops the proxy for every client, so it needs more than a connection:
// `enable-proxy-shutdown` (no / yes / local, as Redis's enable-debug-command, default local)
// and, once the proxy has client users, a user allowed every @admin command.
bool ShutdownAllowed(WorkerContext* worker, ClientSession* client) {
  const std::string& mode = worker->options().enable_proxy_shutdown;
  if (mode == "no" || (mode == "local" && !IsLocalPeer(*client, worker->options().unixsocket))) {
    worker->stats().CountError(ErrorKind::kAuth);
    client->Reply(errors::Generic(
        "PROXY SHUTDOWN not allowed. If the enable-proxy-shutdown option is set to \"local\", "
        "you can run it from a local connection, otherwise you need to set this option in the "
        "configuration file, and then restart the proxy."));
    return false;
  }
  const UserAcl* acl = client->acl();
  if (!worker->policy().users.empty() && acl != nullptr && !acl->AllowsCategory(kAclAdmin)) {
    worker->stats().CountError(ErrorKind::kAuth);
    client->Reply(errors::NoPermCommand("proxy|shutdown"));
    return false;
  }
  return true;
}

void ShutdownSubcommand(WorkerContext* worker, ClientSession* client,
                        const std::vector<std::string_view>& args) {
  if (args.size() > 3 || (args.size() == 3 && !EqualsIgnoreCase(args[2], "asap"))) {
    client->Reply(errors::Generic("PROXY SHUTDOWN takes no argument or ASAP"));
    return;
  }
  if (!ShutdownAllowed(worker, client)) return;
  client->Reply(resp::kOk);
  SP_LOG(kInfo) << "PROXY SHUTDOWN from client " << client->peer();
  if (worker->proxy().request_shutdown) worker->proxy().request_shutdown();
}

}  // namespace

void ExecuteProxyCommand(WorkerContext* worker, ClientSession* client,
                         const std::vector<std::string_view>& args) {
  std::string sub = absl::AsciiStrToLower(AbslView(args[1]));
  if (sub == "ping" && args.size() == 2) {
    client->Reply(resp::kPong);
  } else if (sub == "help" && args.size() == 2) {
    ReplyHelp(client);
  } else if (sub == "info" && args.size() <= 3) {
    ReplyBulkText(client, ProxyInfoText(worker, args.size() > 2 ? args[2] : ""));
  } else if (sub == "config") {
    ProxyConfigCommand(worker, client, args);
  } else if (sub == "client") {
    ClientSubcommand(worker, client, args);
  } else if (sub == "cluster") {
    ProxyClusterCommand(worker, client, args);
  } else if (sub == "fleet") {
    ProxyFleetCommand(worker, client, args);
  } else if (sub == "command" && args.size() <= 3) {
    std::string reply;
    if (!ProxyCommandTableReply(args.size() == 3 ? absl::AsciiStrToLower(AbslView(args[2])) : "",
                                &reply)) {
      reply = errors::Generic("PROXY COMMAND takes UNSUPPORTED or CROSSSLOTS-UNSUPPORTED");
    }
    client->Reply(reply);
  } else if (sub == "multiplexing") {
    ExecuteProxyMultiplexing(worker, client, args);
  } else if (sub == "log") {
    LogSubcommand(client, args);
  } else if (sub == "shutdown") {
    ShutdownSubcommand(worker, client, args);
  } else if (sub == "ping" || sub == "help" || sub == "info") {
    client->Reply(errors::WrongArity(absl::StrCat("proxy|", sub)));
  } else {
    client->Reply(errors::Generic(
        absl::StrCat("Unknown PROXY subcommand '", AbslView(args[1]), "'. Try PROXY HELP.")));
  }
}

}  // namespace slotplane::dataplane
