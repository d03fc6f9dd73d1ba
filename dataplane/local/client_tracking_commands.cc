#include "dataplane/local/client_tracking_commands.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "dataplane/command/client_command.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/local/cross_worker.h"
#include "dataplane/request/request.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/session/client_registry.h"
#include "dataplane/session/client_session.h"
#include "dataplane/stateful/client_tracking.h"
#include "dataplane/stateful/session_state.h"

namespace slotplane::dataplane {
namespace {

// CLIENT TRACKING's arguments as Redis parses them. Parsing stops at the first error; a REDIRECT
// parsed before it is checked first (Redis looks the id up as it parses).
struct TrackingArgs {
  bool on = false;
  TrackingMode mode;
  bool has_redirect = false;
  std::string error;  // the first parse error, or the on|off error; empty: none
};

TrackingArgs ParseTracking(const std::vector<std::string_view>& args) {
  TrackingArgs out;
  for (size_t j = 3; j < args.size(); ++j) {
    const bool more = j + 1 < args.size();
    const std::string_view option = args[j];
    if (EqualsIgnoreCase(option, "redirect") && more) {
      ++j;
      if (out.has_redirect) {
        out.error = errors::Generic("A client can only redirect to a single other client");
        return out;
      }
      if (!absl::SimpleAtoi(AbslView(args[j]), &out.mode.redirect)) {
        out.error = errors::Generic("value is not an integer or out of range");
        return out;
      }
      out.has_redirect = true;
    } else if (EqualsIgnoreCase(option, "bcast")) {
      out.mode.bcast = true;
    } else if (EqualsIgnoreCase(option, "optin")) {
      out.mode.optin = true;
    } else if (EqualsIgnoreCase(option, "optout")) {
      out.mode.optout = true;
    } else if (EqualsIgnoreCase(option, "noloop")) {
      out.mode.noloop = true;
    } else if (EqualsIgnoreCase(option, "prefix") && more) {
      out.mode.prefixes.emplace_back(args[++j]);
    } else {
      out.error = errors::Generic("syntax error");
      return out;
    }
  }
  if (EqualsIgnoreCase(args[2], "on")) {
    out.on = true;
  } else if (!EqualsIgnoreCase(args[2], "off")) {
    out.error = errors::Generic("syntax error");
  }
  return out;
}

// Redis's stringCheckPrefix: one is a prefix of the other.
bool Overlap(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  return a.substr(0, n) == b.substr(0, n);
}

// Redis's checks of an "on" against each other and against the client's current mode, in its
// order; empty when the mode may be enabled.
std::string CheckMode(const TrackingMode& mode, const TrackedClient* current) {
  if (!mode.bcast && !mode.prefixes.empty()) {
    return errors::Generic("PREFIX option requires BCAST mode to be enabled");
  }
  if (current != nullptr && current->mode.bcast != mode.bcast) {
    return errors::Generic(
        "You can't switch BCAST mode on/off before disabling tracking for this client, and then "
        "re-enabling it with a different mode.");
  }
  if (mode.bcast && (mode.optin || mode.optout)) {
    return errors::Generic("OPTIN and OPTOUT are not compatible with BCAST");
  }
  if (mode.optin && mode.optout) {
    return errors::Generic("You can't specify both OPTIN mode and OPTOUT mode");
  }
  if (current != nullptr &&
      ((mode.optin && current->mode.optout) || (mode.optout && current->mode.optin))) {
    return errors::Generic(
        "You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then "
        "re-enabling it with a different mode.");
  }
  if (!mode.bcast) return {};
  for (size_t i = 0; i < mode.prefixes.size(); ++i) {
    const std::string& prefix = mode.prefixes[i];
    if (current != nullptr) {
      for (const std::string& existing : current->mode.prefixes) {
        if (Overlap(existing, prefix)) {
          return errors::Generic(absl::StrCat("Prefix '", prefix,
                                              "' overlaps with an existing prefix '", existing,
                                              "'. Prefixes for a single client must not overlap."));
        }
      }
    }
    for (size_t j = i + 1; j < mode.prefixes.size(); ++j) {
      if (Overlap(prefix, mode.prefixes[j])) {
        return errors::Generic(
            absl::StrCat("Prefix '", prefix, "' overlaps with another provided prefix '",
                         mode.prefixes[j], "'. Prefixes for a single client must not overlap."));
      }
    }
  }
  return {};
}

void Finish(WorkerContext* worker, Request* reply, std::string_view text) {
  ClientSession* client = reply->client;
  if (client == nullptr) {
    worker->pool().Release(reply);
    return;
  }
  client->Complete(reply, text);
  client->Resume();
}

// Everything after the REDIRECT lookup: the parse error, the mode checks, then the change.
// `reply` is the client's queued place and the client is held until it is answered.
void Apply(WorkerContext* worker, Request* reply, TrackingArgs args) {
  ClientSession* client = reply->client;
  if (client == nullptr) return Finish(worker, reply, {});
  if (!args.error.empty()) return Finish(worker, reply, args.error);
  ClientTracking& tracking = worker->tracking();
  if (!args.on) {
    tracking.Disable(client);
    return Finish(worker, reply, resp::kOk);
  }
  if (std::string error = CheckMode(args.mode, tracking.Find(client->id())); !error.empty()) {
    return Finish(worker, reply, error);
  }
  tracking.Enable(client, std::move(args.mode), reply);  // answers once the links are up
}

void Tracking(WorkerContext* worker, ClientSession* client,
              const std::vector<std::string_view>& args) {
  TrackingArgs parsed = ParseTracking(args);
  if (!parsed.has_redirect && !parsed.error.empty()) return client->Reply(parsed.error);
  Request* reply = client->NewRequest();
  client->Hold();
  if (!parsed.has_redirect) return Apply(worker, reply, std::move(parsed));
  const uint64_t target = static_cast<uint64_t>(parsed.mode.redirect);
  // Found on which worker: registered there as a target (its close is then seen).
  RunOnAllWorkers(
      worker,
      [target](WorkerContext& w) {
        ClientSession* found = nullptr;
        w.clients().ForEach([&](ClientSession& c) {
          if (c.id() == target) found = &c;
        });
        if (found == nullptr) return std::string();
        w.tracking().AddTarget(found);
        return std::string("1");
      },
      [worker, reply, parsed = std::move(parsed)](std::vector<std::string> found) mutable {
        int at = -1;
        for (size_t i = 0; i < found.size(); ++i) {
          if (!found[i].empty()) at = static_cast<int>(i);
        }
        if (at < 0 || parsed.mode.redirect <= 0) {
          return Finish(worker, reply,
                        errors::Generic("The client ID you want redirect to does not exist"));
        }
        parsed.mode.redirect_worker = at;
        Apply(worker, reply, std::move(parsed));
      });
}

void Caching(WorkerContext* worker, ClientSession* client,
             const std::vector<std::string_view>& args) {
  TrackedClient* tracked = worker->tracking().Find(client->id());
  if (tracked == nullptr) {
    return client->Reply(
        errors::Generic("CLIENT CACHING can be called only when the client is in tracking mode "
                        "with OPTIN or OPTOUT mode enabled"));
  }
  if (EqualsIgnoreCase(args[2], "yes")) {
    if (!tracked->mode.optin) {
      return client->Reply(errors::Generic(
          "CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."));
    }
  } else if (EqualsIgnoreCase(args[2], "no")) {
    if (!tracked->mode.optout) {
      return client->Reply(errors::Generic(
          "CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."));
    }
  } else {
    return client->Reply(errors::Generic("syntax error"));
  }
  tracked->caching = true;
  client->Reply(resp::kOk);
}

void TrackingInfo(WorkerContext* worker, ClientSession* client) {
  const TrackedClient* tracked = worker->tracking().Find(client->id());
  const bool resp3 = client->resp3();
  std::vector<const char*> flags{tracked != nullptr ? "on" : "off"};
  if (tracked != nullptr) {
    const TrackingMode& mode = tracked->mode;
    if (mode.bcast) flags.push_back("bcast");
    if (mode.optin) flags.push_back("optin");
    if (mode.optin && tracked->caching) flags.push_back("caching-yes");
    if (mode.optout) flags.push_back("optout");
    if (mode.optout && tracked->caching) flags.push_back("caching-no");
    if (mode.noloop) flags.push_back("noloop");
    if (tracked->broken_redirect) flags.push_back("broken_redirect");
  }
  std::string reply;
  resp::AppendMapHeader(&reply, 3, resp3);
  resp::AppendBulk(&reply, "flags");
  resp::AppendSetHeader(&reply, flags.size(), resp3);
  for (const char* flag : flags) resp::AppendBulk(&reply, flag);
  resp::AppendBulk(&reply, "redirect");
  resp::AppendInteger(&reply, tracked != nullptr ? tracked->mode.redirect : -1);
  resp::AppendBulk(&reply, "prefixes");
  const size_t prefixes = tracked != nullptr ? tracked->mode.prefixes.size() : 0;
  resp::AppendArrayHeader(&reply, prefixes);
  for (size_t i = 0; i < prefixes; ++i) resp::AppendBulk(&reply, tracked->mode.prefixes[i]);
  client->Reply(reply);
}

}  // namespace

void ExecuteTrackingCommand(WorkerContext* worker, ClientSession* client,
                            const ClientCommand& command) {
  const std::string_view sub = SubcommandName(command.info);
  const std::vector<std::string_view>& args = command.args;
  if (sub == "tracking") return Tracking(worker, client, args);
  if (sub == "caching") return Caching(worker, client, args);
  if (sub == "trackinginfo") return TrackingInfo(worker, client);
  // GETREDIR
  const TrackedClient* tracked = worker->tracking().Find(client->id());
  std::string reply;
  resp::AppendInteger(&reply, tracked != nullptr ? tracked->mode.redirect : -1);
  client->Reply(reply);
}

}  // namespace slotplane::dataplane
