#include "dataplane/session/client_auth.h"

#include "common/logging.h"
#include "common/password_digest.h"
#include "common/sha256.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/session/client_registry.h"
#include "dataplane/session/client_session.h"

namespace slotplane::dataplane {
namespace {

constexpr std::string_view kDefaultUser = "default";

void Reject(WorkerContext* worker, ClientSession* client) {
  worker->stats().CountError(ErrorKind::kAuth);
  client->Reply(errors::WrongPass());
}

}  // namespace

bool CheckCredentials(const ProxyPolicy& policy, std::string_view user, std::string_view password) {
  if (policy.users.empty()) {
    // The implicit default user: enabled, nopass. Nobody else exists.
    return user == kDefaultUser;
  }
  const ClientUser* found = policy.FindUser(user);
  if (found == nullptr || !found->enabled) return false;
  if (found->nopass) return true;
  std::string hash = Sha256Hex(password);
  if (!found->password_salt.empty()) hash = SaltedDigestOfSha256(found->password_salt, hash);
  bool match = false;
  // Every hash is compared, so the time does not tell which one matched.
  for (const std::string& candidate : found->password_sha256) {
    match = ConstantTimeEquals(hash, candidate) || match;
  }
  return match;
}

void ExecuteAuth(WorkerContext* worker, ClientSession* client,
                 const std::vector<std::string_view>& args) {
  const ProxyPolicy& policy = worker->policy();
  if (args.size() > 3) {
    worker->stats().CountError(ErrorKind::kCommand);
    client->Reply(errors::Generic("syntax error"));
    return;
  }
  if (args.size() == 2) {
    // Redis keeps the old error for the one-argument form when the default user has no password.
    const ClientUser* user = policy.FindUser(kDefaultUser);
    if (policy.users.empty() || (user != nullptr && user->nopass)) {
      worker->stats().CountError(ErrorKind::kCommand);
      client->Reply(errors::AuthWithoutPassword());
      return;
    }
  }
  std::string_view user = args.size() == 3 ? args[1] : kDefaultUser;
  std::string_view password = args.back();
  if (!CheckCredentials(policy, user, password)) {
    Reject(worker, client);
    return;
  }
  client->set_authenticated(true);
  BindUser(client, policy, user);
  client->Reply(resp::kOk);
}

bool AuthenticateForHello(WorkerContext* worker, ClientSession* client, std::string_view user,
                          std::string_view password) {
  if (!CheckCredentials(worker->policy(), user, password)) {
    Reject(worker, client);
    return false;
  }
  client->set_authenticated(true);
  BindUser(client, worker->policy(), user);
  return true;
}

UserAclPtr UserAclOf(const ProxyPolicy& policy, std::string_view user) {
  const ClientUser* found = policy.FindUser(user.empty() ? kDefaultUser : user);
  return found != nullptr ? found->acl : nullptr;
}

void BindUser(ClientSession* client, const ProxyPolicy& policy, std::string_view user) {
  client->set_user(std::string(user));
  client->set_acl(UserAclOf(policy, user));
}

void RebindClientAcls(WorkerContext* worker) {
  const ProxyPolicy& policy = worker->policy();
  worker->clients().ForEach(
      [&](ClientSession& client) { client.set_acl(UserAclOf(policy, client.user())); });
}

void CloseClientsOfRemovedUsers(WorkerContext* worker, const ProxyPolicy& before,
                                const ProxyPolicy& after) {
  std::vector<std::string_view> removed;
  for (const ClientUser& user : before.users) {
    if (user.name != kDefaultUser && after.FindUser(user.name) == nullptr) {
      removed.push_back(user.name);
    }
  }
  if (removed.empty()) return;
  std::vector<ClientSession*> doomed;  // closed after the walk: Close() edits the client map
  worker->clients().ForEach([&](ClientSession& client) {
    for (std::string_view name : removed) {
      if (client.user() == name) doomed.push_back(&client);
    }
  });
  for (ClientSession* client : doomed) {
    SP_LOG(kInfo) << "closing client " << client->peer() << ": its user '" << client->user()
                  << "' was removed";
    client->Close();
  }
}

}  // namespace slotplane::dataplane
