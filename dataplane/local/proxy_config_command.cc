// PROXY CONFIG GET|SET. Policy options (policy.h) are read from the policy in force on this
// worker and changed fleet-wide: through the control plane's Admin.UpdatePolicy when there is
// one, else on every worker of this process. The reply waits, without blocking the worker, until
// the change is in force here.

#include <fnmatch.h>

#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "dataplane/control/config_applier.h"
#include "dataplane/control/control_plane.h"
#include "dataplane/control/snapshot_convert.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/local/proxy_subcommands.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/session/client_registry.h"
#include "dataplane/session/client_session.h"

namespace slotplane::dataplane {
namespace {

std::string Lower(std::string_view text) { return absl::AsciiStrToLower(AbslView(text)); }

// Redis 7's CONFIG GET: every option matching any of the glob patterns, as name/value pairs.
void ConfigGet(WorkerContext* worker, ClientSession* client,
               const std::vector<std::string_view>& args) {
  std::vector<std::string> patterns;
  for (size_t i = 3; i < args.size(); ++i) patterns.push_back(Lower(args[i]));
  std::vector<std::pair<std::string, std::string>> found;
  for (const std::string& name : OptionNames()) {
    bool match = false;
    for (const std::string& pattern : patterns) {
      match = match || fnmatch(pattern.c_str(), name.c_str(), FNM_CASEFOLD) == 0;
    }
    if (!match) continue;
    auto value = IsPolicyOption(name) ? GetPolicyOption(worker->policy(), name)
                                      : GetOption(worker->options(), name);
    if (value.ok()) found.emplace_back(name, *value);
  }
  std::string reply;
  resp::AppendMapHeader(&reply, found.size(), client->resp3());  // as CONFIG GET
  for (const auto& [name, value] : found) {
    resp::AppendBulk(&reply, name);
    resp::AppendBulk(&reply, value);
  }
  client->Reply(reply);
}

// Checks every option/value pair as the config file would, on a copy of this worker's policy.
// Returns the error reply, or an empty string when every pair is valid.
std::string CheckConfigSet(WorkerContext* worker,
                           const std::vector<std::pair<std::string, std::string>>& options) {
  ProxyPolicy scratch = worker->policy();
  for (const auto& [name, value] : options) {
    if (!GetOption(worker->options(), name).ok()) {
      return errors::Generic(
          absl::StrCat("Unknown option or number of arguments for CONFIG SET - '", name, "'"));
    }
    if (!IsPolicyOption(name)) {
      return errors::Generic(absl::StrCat("option '", name,
                                          "' is per proxy process and cannot be changed at "
                                          "runtime (restart the proxy with the new value)"));
    }
    if (name == "requirepass" && worker->proxy().control != nullptr) {
      return errors::Generic(
          "with a control plane, client passwords are the fleet's users: change them with "
          "slotplanectl users");
    }
    if (absl::Status s = SetPolicyOption(&scratch, name, value); !s.ok()) {
      return errors::Generic(StdView(s.message()));
    }
  }
  // Redis's own refusal: more clients than the open-files limit allows.
  int64_t possible =
      MaxClientsForOpenFiles(OpenFilesLimit(), static_cast<int>(worker->proxy().workers.size()));
  if (OpenFilesLimit() > 0 && scratch.maxclients > possible &&
      scratch.maxclients != worker->policy().maxclients) {
    return errors::Generic(absl::StrCat(
        "The operating system is not able to handle the specified number of clients, try with ",
        possible));
  }
  return std::string();
}

void ConfigSet(WorkerContext* worker, ClientSession* client,
               const std::vector<std::string_view>& args) {
  if (args.size() < 5 || (args.size() - 3) % 2 != 0) {
    client->Reply(errors::WrongArity("proxy|config|set"));
    return;
  }
  std::vector<std::pair<std::string, std::string>> options;
  for (size_t i = 3; i + 1 < args.size(); i += 2) {
    options.emplace_back(Lower(args[i]), std::string(args[i + 1]));
  }
  if (std::string error = CheckConfigSet(worker, options); !error.empty()) {
    worker->stats().CountError(ErrorKind::kCommand);
    client->Reply(error);
    return;
  }
  Request* request = worker->clients().BeginAsync(client);
  ControlPlane* control = worker->proxy().control;
  if (control == nullptr) {
    absl::Status s = worker->proxy().applier->SetOptions(options, [worker, request] {
      worker->clients().FinishAsync(request, std::string(resp::kOk));
    });
    if (!s.ok()) worker->clients().FinishAsync(request, errors::Generic(StdView(s.message())));
    return;
  }
  std::map<std::string, std::string> changes(options.begin(), options.end());
  std::string origin = absl::StrCat("PROXY CONFIG SET on proxy ", control->Status().proxy_id,
                                    " from client ", client->peer());
  control->UpdatePolicy(
      std::move(changes), std::move(origin), [worker, request](absl::StatusOr<uint64_t> version) {
        worker->clients().FinishAsync(
            request, version.ok() ? std::string(resp::kOk)
                                  : errors::Generic(StdView(version.status().message())));
      });
}

}  // namespace

void ProxyConfigCommand(WorkerContext* worker, ClientSession* client,
                        const std::vector<std::string_view>& args) {
  if (args.size() >= 4 && EqualsIgnoreCase(args[2], "GET")) {
    ConfigGet(worker, client, args);
  } else if (args.size() >= 3 && EqualsIgnoreCase(args[2], "SET")) {
    ConfigSet(worker, client, args);
  } else {
    client->Reply(errors::Generic(
        "PROXY CONFIG takes GET <pattern> [<pattern> ...] or SET <option> <value> [...]"));
  }
}

}  // namespace slotplane::dataplane
