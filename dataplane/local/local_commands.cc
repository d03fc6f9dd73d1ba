#include "dataplane/local/local_commands.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/slot.h"
#include "common/strings.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/local/client_subcommands.h"
#include "dataplane/local/command_info_replies.h"
#include "dataplane/local/proxy_command.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/router/request_forwarder.h"
#include "dataplane/session/client_auth.h"
#include "dataplane/session/client_session.h"

namespace slotplane::dataplane {
namespace {

// HELLO's reply, as a standalone Redis 7.0 master gives it: a map in RESP3, a flat array of its
// 7 pairs in RESP2.
std::string HelloReply(std::string_view version, uint64_t client_id, bool resp3) {
  std::string reply;
  resp::AppendMapHeader(&reply, 7, resp3);
  resp::AppendBulk(&reply, "server");
  resp::AppendBulk(&reply, "redis");
  resp::AppendBulk(&reply, "version");
  resp::AppendBulk(&reply, version);
  resp::AppendBulk(&reply, "proto");
  resp::AppendInteger(&reply, resp3 ? 3 : 2);
  resp::AppendBulk(&reply, "id");
  resp::AppendInteger(&reply, static_cast<int64_t>(client_id));
  resp::AppendBulk(&reply, "mode");
  resp::AppendBulk(&reply, "standalone");
  resp::AppendBulk(&reply, "role");
  resp::AppendBulk(&reply, "master");
  resp::AppendBulk(&reply, "modules");
  resp::AppendArrayHeader(&reply, 0);
  return reply;
}

}  // namespace

void LocalCommands::Execute(ClientSession* client, const ClientCommand& command) {
  const CommandInfo& cmd = command.info;
  const std::vector<std::string_view>& args = command.args;
  // A subcommand is answered by its container's family (CLIENT, COMMAND, CLUSTER).
  switch (FamilyOf(cmd).handler) {
    case Handler::kPing:
      return Ping(client, args);
    case Handler::kEcho:
      reply_.clear();
      resp::AppendBulk(&reply_, args[1]);
      return client->Reply(reply_);
    case Handler::kQuit:
      client->Reply(resp::kOk);
      return client->CloseAfterReplies();
    case Handler::kSelect:
      return Select(client, args);
    case Handler::kHello:
      return Hello(client, args);
    case Handler::kAuth:
      return Auth(client, args);
    case Handler::kReset:
      client->ResetReplyMode();
      client->set_resp3(false);  // RESET goes back to RESP2, as Redis
      client->set_name("");
      client->set_authenticated(!worker_->policy().auth_required);
      BindUser(client, worker_->policy(), "");
      return client->Reply("+RESET\r\n");
    case Handler::kReadonly:
    case Handler::kReadwrite:
      return client->Reply(resp::kOk);
    case Handler::kClient:
      return ExecuteClientCommand(worker_, client, command);
    case Handler::kCommand:
      return ExecuteCommandCommand(worker_, client, SubcommandName(cmd), args);
    case Handler::kCluster:
      return Cluster(client, cmd, args);
    case Handler::kProxy:
      return ExecuteProxyCommand(worker_, client, args);
    default:
      worker_->stats().CountError(ErrorKind::kUnsupported);
      return client->Reply(errors::NotYetSupported(cmd.name));
  }
}

void LocalCommands::Ping(ClientSession* client, const std::vector<std::string_view>& args) {
  if (args.size() > 2) {
    client->Reply(errors::WrongArity("ping"));
    return;
  }
  if (args.size() == 1) {
    client->Reply(resp::kPong);
    return;
  }
  reply_.clear();
  resp::AppendBulk(&reply_, args[1]);
  client->Reply(reply_);
}

void LocalCommands::Select(ClientSession* client, const std::vector<std::string_view>& args) {
  int64_t db;
  if (!absl::SimpleAtoi(AbslView(args[1]), &db)) {
    client->Reply(errors::Generic("value is not an integer or out of range"));
  } else if (db != 0) {
    // What every cluster node answers: a cluster has database 0 only.
    client->Reply(errors::Generic("SELECT is not allowed in cluster mode"));
  } else {
    client->Reply(resp::kOk);
  }
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]. The protocol changes once
// the command succeeded (after AUTH), and its own reply is already in the new protocol, as Redis.
// Without protover the client keeps its protocol.
void LocalCommands::Hello(ClientSession* client, const std::vector<std::string_view>& args) {
  bool resp3 = client->resp3();
  if (args.size() >= 2) {
    int64_t version;
    if (!absl::SimpleAtoi(AbslView(args[1]), &version)) {
      client->Reply(errors::Generic("Protocol version is not an integer or out of range"));
      return;
    }
    if (version != 2 && version != 3) {
      worker_->stats().CountError(ErrorKind::kCommand);
      client->Reply("-NOPROTO unsupported protocol version\r\n");
      return;
    }
    resp3 = version == 3;
  }
  std::string name = client->name();
  const std::string_view* auth = nullptr;  // user, password
  for (size_t i = 2; i < args.size(); ++i) {
    bool more = i + 1 < args.size();
    if (EqualsIgnoreCase(args[i], "AUTH") && i + 2 < args.size()) {
      auth = &args[i + 1];
      i += 2;
    } else if (EqualsIgnoreCase(args[i], "SETNAME") && more) {
      name = std::string(args[++i]);
    } else {
      client->Reply(
          errors::Generic(absl::StrCat("Syntax error in HELLO option '", AbslView(args[i]), "'")));
      return;
    }
  }
  if (auth != nullptr && !AuthenticateForHello(worker_, client, auth[0], auth[1])) return;
  if (!client->authenticated()) {
    worker_->stats().CountError(ErrorKind::kAuth);
    client->Reply(errors::HelloNoAuth());
    return;
  }
  client->set_name(name);
  client->set_resp3(resp3);
  // The version is the masters' (server_version.h), as INFO reports it.
  version_.Reply(client, [id = client->id(), resp3](std::string_view version) {
    return HelloReply(version, id, resp3);
  });
}

void LocalCommands::Auth(ClientSession* client, const std::vector<std::string_view>& args) {
  ExecuteAuth(worker_, client, args);
}

void LocalCommands::Cluster(ClientSession* client, const CommandInfo& cmd,
                            const std::vector<std::string_view>& args) {
  switch (cmd.handler) {
    case Handler::kClusterKeyslot:
      reply_.clear();
      resp::AppendInteger(&reply_, KeyHashSlot(args[2]));
      return client->Reply(reply_);
    case Handler::kClusterTopology:
      // The cluster's own answer describes the real topology; cluster-aware tools read it.
      return worker_->forwarder().ForwardToAnyMaster(client, args);
    default:
      worker_->stats().CountError(ErrorKind::kUnsupported);
      return client->Reply(
          errors::Unsupported(cmd.name, "the proxy hides the cluster's administration"));
  }
}

}  // namespace slotplane::dataplane
