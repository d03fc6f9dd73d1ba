#include "common/node_connection_pool.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace slotplane {

std::unique_ptr<NodeConnection> NodeConnectionPool::Take(const NodeAddress& address,
                                                         const std::string& credentials) {
  SwitchCredentials(credentials);
  auto it = connections_.find(address.ToString());
  if (it == connections_.end()) return nullptr;
  std::unique_ptr<NodeConnection> connection = std::move(it->second);
  connections_.erase(it);
  return connection;
}

void NodeConnectionPool::Put(const NodeAddress& address, const std::string& credentials,
                             std::unique_ptr<NodeConnection> connection) {
  SwitchCredentials(credentials);
  connections_[address.ToString()] = std::move(connection);
}

void NodeConnectionPool::Retain(const std::vector<NodeAddress>& keep) {
  std::set<std::string> kept;
  for (const NodeAddress& address : keep) kept.insert(address.ToString());
  for (auto it = connections_.begin(); it != connections_.end();) {
    it = kept.count(it->first) != 0 ? std::next(it) : connections_.erase(it);
  }
}

std::string NodeConnectionPool::CredentialsKey(const std::string& user,
                                               const std::string& password) {
  if (password.empty()) return "";  // no AUTH
  return Sha256Hex(absl::StrCat(user.size(), ":", user, password));
}

void NodeConnectionPool::SwitchCredentials(const std::string& credentials) {
  if (credentials == credentials_) return;
  connections_.clear();
  credentials_ = credentials;
}

}  // namespace slotplane
