#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace slotplane::dataplane {

class ClientSession;
class WorkerContext;

// The Redis version the proxy reports as its own (HELLO): the lowest redis_version among the
// masters — what every node of the cluster supports, and what merged INFO shows
// (scatter/info_fields.h). Asked with INFO server on every master when a reply needs it, then
// kept for kVersionLifetimeMs on this worker, so a burst of new connections costs one round
// trip. Until any master answered, the release whose command table slotplane carries
// (CommandTable::RedisVersion()). Worker thread only.
class ServerVersion {
 public:
  static constexpr int64_t kVersionLifetimeMs = 60'000;

  // Builds the reply from the version; runs now or when the masters answered.
  using BuildReply = std::function<std::string(std::string_view version)>;

  explicit ServerVersion(WorkerContext* worker);

  // Replies to `client` with `build(version)`, at once when the version is fresh, otherwise after
  // asking the masters; the reply keeps its place in the client's reply queue either way.
  void Reply(ClientSession* client, BuildReply build);

  // Shared with requests in flight, which may finish after this object is gone.
  struct Cache {
    std::string version;  // empty: no master answered yet
    int64_t fetched_ms = 0;
  };

 private:
  WorkerContext* worker_;
  std::shared_ptr<Cache> cache_;
};

}  // namespace slotplane::dataplane
