#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/cluster_view.h"
#include "common/node_connection.h"

namespace slotplane {

// Authenticated NodeConnections kept between topology discoveries, at most one per node address,
// so that a poller does not open a TCP (and TLS) connection per poll. A connection is lent out
// (Take) for one discovery and given back (Put) only when it worked; one that failed is closed,
// so the next discovery reconnects. Connections are made for one set of credentials: taking one
// with other credentials closes them all (a changed backend password reconnects). Owned by one
// thread at a time (the poller's).
class NodeConnectionPool {
 public:
  // The kept connection to `address` authenticated with `credentials` (see CredentialsKey), or
  // null when there is none.
  std::unique_ptr<NodeConnection> Take(const NodeAddress& address, const std::string& credentials);
  // Keeps `connection` to `address` (authenticated with `credentials`) for the next Take.
  void Put(const NodeAddress& address, const std::string& credentials,
           std::unique_ptr<NodeConnection> connection);
  // Closes the connections to every address not in `keep` (nodes gone from the topology).
  void Retain(const std::vector<NodeAddress>& keep);

  size_t size() const { return connections_.size(); }

  // A digest of a user and password, so that the pool never holds the password itself.
  static std::string CredentialsKey(const std::string& user, const std::string& password);

 private:
  void SwitchCredentials(const std::string& credentials);

  std::string credentials_;                                             // of every kept connection
  std::map<std::string, std::unique_ptr<NodeConnection>> connections_;  // by "host:port"
};

}  // namespace slotplane
