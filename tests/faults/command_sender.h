#pragma once

// Sends batches of single-key commands for one load connection, either all to one address (a
// proxy) or, in cluster mode, each to the master that owns its slot, following MOVED and ASK as a
// cluster-aware client does (redis-cli -c semantics) and refreshing its slot map with CLUSTER
// SLOTS after a redirect or a lost node. Owned by one thread; blocking hiredis connections.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct redisContext;

namespace slotplane::faults {

struct SenderOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // the proxy, or a cluster node (the seed) in cluster mode
  bool cluster_mode = false;
  // Cluster mode: more nodes ("host:port") to ask for the slot map when the seed is down.
  std::vector<std::string> more_seeds;
  std::string password;  // AUTH after connecting when not empty
  std::chrono::milliseconds connect_timeout{2000};
  // Per reply: a command with no answer after this long is a transport error ("conn: timeout").
  std::chrono::milliseconds io_timeout{30000};
};

struct CommandResult {
  enum class Status { kOk, kErrorReply, kTransportError };
  Status status = Status::kOk;
  // kOk: the integer reply, or the integer a bulk reply spells (nil: 0); `is_nil` for nil.
  int64_t value = 0;
  bool is_nil = false;
  // kErrorReply / kTransportError: the error's kind (see error_kinds.h) and its full text.
  std::string kind;
  std::string message;
  int64_t latency_micros = 0;  // from the start of Send() to this reply
};

class CommandSender {
 public:
  explicit CommandSender(SenderOptions options);
  CommandSender(const CommandSender&) = delete;
  CommandSender& operator=(const CommandSender&) = delete;
  ~CommandSender();

  // Sends `commands` (argv[1] is the key), pipelined per destination, and returns one result per
  // command in order. In cluster mode redirects are followed (at most 5 hops) and counted in
  // redirects(), never reported as errors.
  std::vector<CommandResult> Send(const std::vector<std::vector<std::string>>& commands);

  int64_t redirects() const { return redirects_; }
  int64_t connects() const { return connects_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Link;  // one connection to one address
  struct Pending {
    size_t index;
    std::string address;  // "" : the slot map's owner
    bool asking = false;
  };

  Link& LinkTo(const std::string& address);
  std::string OwnerOf(const std::string& key) const;
  // Sends `group` (all for `address`) on one pipeline; fills results, queues redirects in `next`.
  void SendGroup(const std::string& address, const std::vector<Pending>& group,
                 const std::vector<std::vector<std::string>>& commands, Clock::time_point start,
                 std::vector<CommandResult>& results, std::vector<Pending>& next);
  void HandleRedirect(const std::string& message, const Pending& pending,
                      std::vector<Pending>& next);
  // CLUSTER SLOTS from the first node that answers; keeps the old map when none does.
  void RefreshSlotMap();

  SenderOptions options_;
  std::string seed_;
  std::vector<std::string> slot_owner_;  // cluster mode: slot -> "host:port"
  std::map<std::string, std::unique_ptr<Link>> links_;
  bool refresh_needed_ = false;
  int64_t redirects_ = 0;
  int64_t connects_ = 0;
};

}  // namespace slotplane::faults
