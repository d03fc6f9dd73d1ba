#include "dataplane/local/client_subcommands.h"

#include <algorithm>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "dataplane/command/client_command.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/local/client_tracking_commands.h"
#include "dataplane/local/cross_worker.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/net/socket.h"
#include "dataplane/request/request.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/session/client_registry.h"
#include "dataplane/session/client_session.h"
#include "dataplane/stateful/client_pause.h"
#include "dataplane/stateful/client_tracking.h"
#include "dataplane/stateful/session_state.h"

namespace slotplane::dataplane {
namespace {

constexpr const char* kHelpLines[] = {
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "GETNAME",
    "    Return the name of the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <LIB-NAME|LIB-VER> <value>",
    "    Set client library name or version of the current connection.",
    "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> [<id> ...]]",
    "    Return information about the client connections of this slotplane proxy.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections of this proxy. Options: ID, TYPE, USER, ADDR, LADDR, SKIPME.",
    "NO-EVICT (ON|OFF)",
    "    Accepted for compatibility (the proxy evicts nothing).",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients of this proxy for <timeout> milliseconds.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "HELP",
    "    Print this help.",
};

// Redis's client attribute rule (CLIENT SETNAME, SETINFO): printable, no spaces.
bool ValidAttribute(std::string_view value) {
  for (char c : value) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

// The user a client authenticated as; "default" before any AUTH, as Redis shows it.
std::string_view UserNameOf(ClientSession& client) {
  return client.user().empty() ? std::string_view("default") : std::string_view(client.user());
}

// What CLIENT KILL (filter form) and CLIENT LIST select. Plain values: copied to every worker.
struct ClientFilter {
  bool old_style = false;     // CLIENT KILL <addr>
  uint64_t id = 0;            // 0: any
  std::vector<uint64_t> ids;  // CLIENT LIST ID ...
  std::string addr, laddr;
  bool has_addr = false, has_laddr = false;
  bool only_special = false;  // TYPE master/replica/pubsub: no client of the proxy is one
  bool has_user = false;      // USER name: clients authenticated as that user
  std::string user;
  bool skipme = true;
  uint64_t caller = 0;  // the client that asked

  bool Matches(ClientSession& client) const {
    if (only_special) return false;
    if (has_user && UserNameOf(client) != user) return false;
    if (skipme && client.id() == caller && !old_style) return false;
    if (id != 0 && client.id() != id) return false;
    if (!ids.empty() && std::find(ids.begin(), ids.end(), client.id()) == ids.end()) return false;
    if (has_addr && client.peer() != addr) return false;
    if (has_laddr && LocalAddress(client.fd()) != laddr) return false;
    return true;
  }
};

// TYPE's value: false for a name Redis does not know; *special for types no proxy client has.
bool ParseType(std::string_view type, bool* special) {
  if (EqualsIgnoreCase(type, "normal")) {
    *special = false;
    return true;
  }
  for (const char* name : {"master", "replica", "slave", "pubsub"}) {
    if (EqualsIgnoreCase(type, name)) {
      *special = true;
      return true;
    }
  }
  return false;
}

// Takes the place of the reply in `client`'s queue; `done` completes it later (see Finish).
Request* Defer(ClientSession* client) { return client->NewRequest(); }

void Finish(WorkerContext* worker, Request* parent, std::string_view reply) {
  if (parent->client == nullptr) {
    worker->pool().Release(parent);  // the client left meanwhile
  } else {
    parent->client->Complete(parent, reply);
  }
}

void List(WorkerContext* worker, ClientSession* client, const std::vector<std::string_view>& args) {
  ClientFilter filter;
  filter.skipme = false;
  if (args.size() == 4 && EqualsIgnoreCase(args[2], "TYPE")) {
    if (!ParseType(args[3], &filter.only_special)) {
      client->Reply(errors::Generic(absl::StrCat("Unknown client type '", AbslView(args[3]), "'")));
      return;
    }
  } else if (args.size() >= 4 && EqualsIgnoreCase(args[2], "ID")) {
    for (size_t i = 3; i < args.size(); ++i) {
      uint64_t id;
      if (!absl::SimpleAtoi(AbslView(args[i]), &id) || id == 0) {
        client->Reply(errors::Generic("Invalid client ID"));
        return;
      }
      filter.ids.push_back(id);
    }
  } else if (args.size() != 2) {
    client->Reply(errors::Generic("syntax error"));
    return;
  }
  Request* parent = Defer(client);
  const bool resp3 = client->resp3();
  RunOnAllWorkers(
      worker,
      [filter](WorkerContext& w) {
        std::string lines;
        w.clients().ForEach([&](ClientSession& c) {
          if (filter.Matches(c)) lines += ClientListLine(w, c);
        });
        return lines;
      },
      [worker, parent, resp3](std::vector<std::string> parts) {
        std::string text;
        for (const std::string& part : parts) text += part;
        std::string reply;
        resp::AppendVerbatim(&reply, text, resp3);
        Finish(worker, parent, reply);
      });
}

// Whether `name` is a user of the proxy's clients: one of the policy's users, or `default`, which
// always exists (implicit without users, and never removed, as in Redis).
bool UserExists(const ProxyPolicy& policy, std::string_view name) {
  return name == "default" || policy.FindUser(name) != nullptr;
}

// Parses CLIENT KILL's arguments into `filter`; false after replying with the error, in Redis
// 7.0's words and order (the first bad option is the one reported).
bool ParseKill(WorkerContext* worker, ClientSession* client,
               const std::vector<std::string_view>& args, ClientFilter* filter) {
  if (args.size() == 3) {
    filter->old_style = true;
    filter->has_addr = true;
    filter->addr = std::string(args[2]);
    return true;
  }
  for (size_t i = 2; i < args.size(); i += 2) {
    const bool more = i + 1 < args.size();
    const std::string_view option = args[i];
    const std::string_view value = more ? args[i + 1] : std::string_view();
    if (more && EqualsIgnoreCase(option, "ID")) {
      int64_t id;
      if (!absl::SimpleAtoi(AbslView(value), &id) || id < 1) {
        client->Reply(errors::Generic("client-id should be greater than 0"));
        return false;
      }
      filter->id = static_cast<uint64_t>(id);
    } else if (more && EqualsIgnoreCase(option, "TYPE")) {
      if (!ParseType(value, &filter->only_special)) {
        client->Reply(errors::Generic(absl::StrCat("Unknown client type '", AbslView(value), "'")));
        return false;
      }
    } else if (more && EqualsIgnoreCase(option, "ADDR")) {
      filter->has_addr = true;
      filter->addr = std::string(value);
    } else if (more && EqualsIgnoreCase(option, "LADDR")) {
      filter->has_laddr = true;
      filter->laddr = std::string(value);
    } else if (more && EqualsIgnoreCase(option, "USER")) {
      if (!UserExists(worker->policy(), value)) {
        client->Reply(errors::Generic(absl::StrCat("No such user '", AbslView(value), "'")));
        return false;
      }
      filter->has_user = true;  // user names are case-sensitive, as in Redis
      filter->user = std::string(value);
    } else if (more && EqualsIgnoreCase(option, "SKIPME")) {
      if (EqualsIgnoreCase(value, "yes")) {
        filter->skipme = true;
      } else if (EqualsIgnoreCase(value, "no")) {
        filter->skipme = false;
      } else {
        client->Reply(errors::Generic("syntax error"));
        return false;
      }
    } else {
      client->Reply(errors::Generic("syntax error"));
      return false;
    }
  }
  return true;
}

void Kill(WorkerContext* worker, ClientSession* client, const std::vector<std::string_view>& args) {
  ClientFilter filter;
  filter.caller = client->id();
  if (!ParseKill(worker, client, args, &filter)) return;
  Request* parent = Defer(client);
  RunOnAllWorkers(
      worker,
      [filter](WorkerContext& w) {
        std::vector<ClientSession*> victims;
        w.clients().ForEach([&](ClientSession& c) {
          if (filter.Matches(c)) victims.push_back(&c);
        });
        for (ClientSession* victim : victims) {
          if (victim->id() == filter.caller) {
            victim->CloseAfterReplies();  // its own reply still goes out
          } else {
            victim->Close();
          }
        }
        return std::to_string(victims.size());
      },
      [worker, parent, old_style = filter.old_style](std::vector<std::string> parts) {
        int64_t killed = 0;
        for (const std::string& part : parts) killed += std::stoll(part);
        std::string reply;
        if (old_style) {
          reply = killed > 0 ? std::string(resp::kOk) : errors::Generic("No such client");
        } else {
          resp::AppendInteger(&reply, killed);
        }
        Finish(worker, parent, reply);
      });
}

// CLIENT UNBLOCK id [TIMEOUT|ERROR]: the client with that id, on whichever worker, blocked in a
// blocking command on a node (SessionState::Unblock). Checked in Redis's order: the reason, then
// the id.
void Unblock(WorkerContext* worker, ClientSession* client,
             const std::vector<std::string_view>& args) {
  if (args.size() > 4) {
    client->Reply(
        errors::Generic(absl::StrCat("unknown subcommand or wrong number of arguments for '",
                                     AbslView(args[1]), "'. Try CLIENT HELP.")));
    return;
  }
  bool error = false;
  if (args.size() == 4) {
    if (EqualsIgnoreCase(args[3], "error")) {
      error = true;
    } else if (!EqualsIgnoreCase(args[3], "timeout")) {
      client->Reply(errors::Generic("CLIENT UNBLOCK reason should be TIMEOUT or ERROR"));
      return;
    }
  }
  int64_t id;
  if (!absl::SimpleAtoi(AbslView(args[2]), &id)) {
    client->Reply(errors::Generic("value is not an integer or out of range"));
    return;
  }
  Request* parent = Defer(client);
  RunOnAllWorkers(
      worker,
      [id, error](WorkerContext& w) {
        bool unblocked = false;
        w.clients().ForEach([&](ClientSession& c) {
          if (static_cast<int64_t>(c.id()) != id || c.installed_state() == nullptr) return;
          unblocked = static_cast<SessionState*>(c.installed_state())->Unblock(error);
        });
        return std::string(unblocked ? "1" : "0");
      },
      [worker, parent](std::vector<std::string> parts) {
        bool unblocked = false;
        for (const std::string& part : parts) unblocked = unblocked || part == "1";
        Finish(worker, parent, unblocked ? ":1\r\n" : ":0\r\n");
      });
}

// CLIENT PAUSE timeout [WRITE|ALL] and CLIENT UNPAUSE, for every worker's clients
// (stateful/client_pause.h). Checked in Redis's order: the mode, then the timeout.
void Pause(WorkerContext* worker, ClientSession* client, const CommandInfo& cmd,
           const std::vector<std::string_view>& args) {
  if (SubcommandName(cmd) == "unpause") {
    ClientPause::Get().Unpause();
    client->Reply(resp::kOk);
    return;
  }
  if (args.size() > 4) {
    client->Reply(
        errors::Generic(absl::StrCat("unknown subcommand or wrong number of arguments for '",
                                     AbslView(args[1]), "'. Try CLIENT HELP.")));
    return;
  }
  bool writes_only = false;
  if (args.size() == 4) {
    if (EqualsIgnoreCase(args[3], "write")) {
      writes_only = true;
    } else if (!EqualsIgnoreCase(args[3], "all")) {
      client->Reply(errors::Generic("CLIENT PAUSE mode must be WRITE or ALL"));
      return;
    }
  }
  int64_t timeout_ms;
  if (!absl::SimpleAtoi(AbslView(args[2]), &timeout_ms)) {
    client->Reply(errors::Generic("timeout is not an integer or out of range"));
    return;
  }
  if (timeout_ms < 0) {
    client->Reply(errors::Generic("timeout is negative"));
    return;
  }
  ClientPause::Get().Pause(worker->loop().now_ms() + timeout_ms, writes_only);
  client->Reply(resp::kOk);
}

void SetInfo(ClientSession* client, const std::vector<std::string_view>& args) {
  if (args.size() != 4) {
    client->Reply(errors::WrongArity("client|setinfo"));
    return;
  }
  std::string* destination;
  if (EqualsIgnoreCase(args[2], "lib-name")) {
    destination = &client->attributes().lib_name;
  } else if (EqualsIgnoreCase(args[2], "lib-ver")) {
    destination = &client->attributes().lib_ver;
  } else {
    client->Reply(errors::Generic(absl::StrCat("Unrecognized option '", AbslView(args[2]), "'")));
    return;
  }
  if (!ValidAttribute(args[3])) {
    client->Reply(errors::Generic(absl::StrCat(
        AbslView(args[2]), " cannot contain spaces, newlines or special characters.")));
    return;
  }
  *destination = std::string(args[3]);
  client->Reply(resp::kOk);
}

void ReplyHelp(ClientSession* client) {
  std::string reply;
  resp::AppendArrayHeader(&reply, std::size(kHelpLines));
  for (const char* line : kHelpLines) resp::AppendSimple(&reply, line);
  client->Reply(reply);
}

}  // namespace

std::string ClientListLine(WorkerContext& worker, ClientSession& client) {
  const int64_t now = worker.loop().now_ms();
  const ClientSession::Attributes& a = client.attributes();
  const int64_t last = a.last_active_ms != 0 ? a.last_active_ms : client.created_ms();
  // Redis's flags and redir fields: t tracking, R broken redirect, B broadcast.
  std::string flags;
  int64_t redirect = -1;
  if (const TrackedClient* tracked = worker.tracking().Find(client.id())) {
    flags += 't';
    if (tracked->broken_redirect) flags += 'R';
    if (tracked->mode.bcast) flags += 'B';
    redirect = tracked->mode.redirect;
  }
  if (a.no_evict) flags += 'e';
  if (flags.empty()) flags = "N";
  return absl::StrCat(
      "id=", client.id(), " addr=", client.peer(), " laddr=", LocalAddress(client.fd()),
      " fd=", client.fd(), " name=", client.name(), " age=", (now - client.created_ms()) / 1000,
      " idle=", (now - last) / 1000, " flags=", flags,
      " db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=", client.input_buffered(),
      " qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=", client.pending(),
      " omem=", client.output_buffered(),
      " tot-mem=", client.input_buffered() + client.output_buffered(),
      " events=r cmd=", a.last_command, " user=", AbslView(UserNameOf(client)), " redir=", redirect,
      " resp=", client.resp3() ? 3 : 2, " lib-name=", a.lib_name, " lib-ver=", a.lib_ver, "\n");
}

void ExecuteClientCommand(WorkerContext* worker, ClientSession* client,
                          const ClientCommand& command) {
  const CommandInfo& cmd = command.info;
  const std::vector<std::string_view>& args = command.args;
  std::string reply;
  switch (cmd.handler) {
    case Handler::kClientId:
      resp::AppendInteger(&reply, static_cast<int64_t>(client->id()));
      break;
    case Handler::kClientGetname:
      if (client->name().empty()) {
        resp::AppendNull(&reply, client->resp3());
      } else {
        resp::AppendBulk(&reply, client->name());
      }
      break;
    case Handler::kClientSetname:
      if (!ValidAttribute(args[2])) {
        return client->Reply(
            errors::Generic("Client names cannot contain spaces, newlines or special characters."));
      }
      client->set_name(std::string(args[2]));
      reply = resp::kOk;
      break;
    case Handler::kClientInfo:
      resp::AppendVerbatim(&reply, ClientListLine(*worker, *client), client->resp3());
      break;
    case Handler::kClientList:
      return List(worker, client, args);
    case Handler::kClientKill:
      return Kill(worker, client, args);
    case Handler::kClientSetinfo:
      return SetInfo(client, args);
    case Handler::kClientNoEvict:
      if (EqualsIgnoreCase(args[2], "on") || EqualsIgnoreCase(args[2], "off")) {
        client->attributes().no_evict = EqualsIgnoreCase(args[2], "on");
        reply = resp::kOk;
      } else {
        reply = errors::Generic("syntax error");
      }
      break;
    case Handler::kClientReply:
      // Redis's CLIENT REPLY: the mode changes first, so OFF and SKIP drop their own +OK
      // (ClientSession::NewRequest) and ON sends it.
      if (EqualsIgnoreCase(args[2], "on")) {
        client->RepliesOn();
      } else if (EqualsIgnoreCase(args[2], "off")) {
        client->RepliesOff();
      } else if (EqualsIgnoreCase(args[2], "skip")) {
        client->SkipNextReply();
      } else {
        reply = errors::Generic("syntax error");
        break;
      }
      reply = resp::kOk;
      break;
    case Handler::kClientHelp:
      return ReplyHelp(client);
    case Handler::kClientUnblock:
      return Unblock(worker, client, args);
    case Handler::kClientTracking:
      return ExecuteTrackingCommand(worker, client, command);
    case Handler::kClientPause:
      return Pause(worker, client, cmd, args);
    default:
      worker->stats().CountError(ErrorKind::kUnsupported);
      reply = errors::NotYetSupported(cmd.name);
  }
  client->Reply(reply);
}

}  // namespace slotplane::dataplane
