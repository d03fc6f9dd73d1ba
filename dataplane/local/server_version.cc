#include "dataplane/local/server_version.h"

#include <utility>
#include <vector>

#include "dataplane/command/command_table.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/resp/reply_reader.h"
#include "dataplane/resp/request_encoder.h"
#include "dataplane/router/slot_router.h"
#include "dataplane/scatter/info_reply.h"
#include "dataplane/scatter/multi_request.h"
#include "dataplane/session/client_session.h"

namespace slotplane::dataplane {
namespace {

std::string_view KnownOrFallback(const ServerVersion::Cache& cache) {
  return cache.version.empty() ? std::string_view(CommandTable::RedisVersion())
                               : std::string_view(cache.version);
}

// INFO server on every master; the lowest version they report becomes the cache's and the
// reply's. A master that fails (an error, unreachable) is skipped.
class VersionRequest : public MultiRequest {
 public:
  VersionRequest(WorkerContext* worker, std::shared_ptr<ServerVersion::Cache> cache,
                 ServerVersion::BuildReply build)
      : MultiRequest(worker, /*pinned=*/true), cache_(std::move(cache)), build_(std::move(build)) {}

 private:
  void Reduce(const std::vector<std::string>& replies, std::string* out) override {
    std::vector<std::string_view> texts;
    for (const std::string& reply : replies) {
      std::string_view text;
      bool is_null = false;
      if (!resp::IsError(reply) && resp::ReadBulk(reply, &text, &is_null) && !is_null) {
        texts.push_back(text);
      }
    }
    const std::string lowest = LowestRedisVersion(texts);
    if (!lowest.empty()) {
      cache_->version = lowest;
      cache_->fetched_ms = worker()->loop().now_ms();
    }
    out->append(build_(KnownOrFallback(*cache_)));
  }

  std::shared_ptr<ServerVersion::Cache> cache_;
  ServerVersion::BuildReply build_;
};

}  // namespace

ServerVersion::ServerVersion(WorkerContext* worker)
    : worker_(worker), cache_(std::make_shared<Cache>()) {}

void ServerVersion::Reply(ClientSession* client, BuildReply build) {
  const int64_t now = worker_->loop().now_ms();
  const std::vector<BackendConn*>& masters = worker_->router().masters();
  const bool fresh = !cache_->version.empty() && now - cache_->fetched_ms < kVersionLifetimeMs;
  if (fresh || masters.empty()) {
    client->Reply(build(KnownOrFallback(*cache_)));
    return;
  }
  static const std::vector<std::string_view> kInfoServer = {"INFO", "server"};
  auto* request = new VersionRequest(worker_, cache_, std::move(build));
  request->Begin(client, masters.size());
  for (BackendConn* master : masters) {
    Request* part = request->AddPart(0);
    EncodeCommand(kInfoServer, &part->command);
    request->Send(part, master);
  }
  request->Launch();
}

}  // namespace slotplane::dataplane
