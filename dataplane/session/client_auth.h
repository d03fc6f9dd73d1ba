#pragma once

#include <string_view>
#include <vector>

#include "dataplane/core/policy.h"

namespace slotplane::dataplane {

class ClientSession;
class WorkerContext;

// Client authentication with Redis's rules and replies: a connection starts authenticated when
// the policy requires no password (ProxyPolicy::auth_required); otherwise only commands flagged
// no-auth (AUTH, HELLO, QUIT, RESET) run until AUTH or HELLO ... AUTH succeeds, and the others
// get `-NOAUTH Authentication required.` (CommandDispatcher checks the session's flag, nothing
// else, on the request path). A connection keeps its authentication when the policy changes
// later (a new password, a disabled user), as Redis does; when its user is removed from the
// policy the connection is closed, as Redis's ACL DELUSER does.

// True when `password` is valid for `user` under `policy`: the user exists and is enabled, and is
// nopass or one of its SHA-256 hashes matches (compared in constant time).
bool CheckCredentials(const ProxyPolicy& policy, std::string_view user, std::string_view password);

// AUTH <password> | AUTH <username> <password>. Arity is already checked (at least 2).
void ExecuteAuth(WorkerContext* worker, ClientSession* client,
                 const std::vector<std::string_view>& args);

// The AUTH part of HELLO: authenticates the client, or replies WRONGPASS and returns false.
bool AuthenticateForHello(WorkerContext* worker, ClientSession* client, std::string_view user,
                          std::string_view password);

// The compiled ACL of `user` under `policy` ("" or "default": the default user, implicit when
// the policy has no users); null when the user may run everything or does not exist.
UserAclPtr UserAclOf(const ProxyPolicy& policy, std::string_view user);

// Makes `client` the user `user` ("" before any AUTH: the default user), with its ACL.
void BindUser(ClientSession* client, const ProxyPolicy& policy, std::string_view user);

// After a policy change on `worker` (its thread): gives every client its user's new ACL, so a
// change of rules applies to connections already authenticated, as in Redis.
void RebindClientAcls(WorkerContext* worker);

// After a policy change on `worker` (its thread): closes the connections that authenticated as a
// user `after` no longer has. The implicit default user is never removed (as in Redis, it can
// only be given a password or disabled). Cheap when the user names did not change.
void CloseClientsOfRemovedUsers(WorkerContext* worker, const ProxyPolicy& before,
                                const ProxyPolicy& after);

}  // namespace slotplane::dataplane
