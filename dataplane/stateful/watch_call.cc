#include "dataplane/stateful/watch_call.h"

#include <string>

#include "absl/strings/match.h"
#include "dataplane/backend/private_pool.h"
#include "dataplane/command/client_command.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/session/client_session.h"

namespace slotplane::dataplane {
namespace {

constexpr std::string_view kUnwatch = "*1\r\n$7\r\nUNWATCH\r\n";

}  // namespace

void ReleaseUnwatched(PrivatePool* pool, PrivateConn* conn, size_t owed) {
  conn->Write(kUnwatch);
  pool->ReleaseAfter(conn, owed + 1);
}

void WatchedConn::Drop(PrivatePool* pool) {
  if (conn != nullptr) {
    ReleaseUnwatched(pool, conn, 0);
    conn = nullptr;
  }
  asking = false;
  broken = false;
}

bool WatchCall::Start(int slot, const ClientCommand& command) {
  std::string error = txn_->CheckWatch(slot);
  if (!error.empty()) {
    ReplyError(absl::StartsWith(error, "-CROSSSLOT") ? ErrorKind::kCrossSlot : ErrorKind::kCommand,
               error);
    return false;
  }
  if (watches_->broken) {  // EXEC answers nil whatever else is watched
    client()->Reply(resp::kOk);
    return false;
  }
  Prepare(slot);
  SetCommand(command);
  if (watches_->conn != nullptr) UseConn(watches_->conn, watches_->asking);
  return true;
}

std::string_view WatchCall::PinnedReply() {
  watches_->broken = true;
  return resp::kOk;
}

void WatchCall::Settle(std::string_view reply) {
  if (reply == resp::kOk) {
    if (watches_->conn == nullptr) {
      watches_->conn = conn();
      watches_->asking = asking();
    }
    txn_->Watched(slot());
  } else if (watches_->conn == nullptr && conn() != nullptr) {
    worker()->private_pool().Release(conn());  // nothing is watched on it
  }
}

void WatchCall::Leave() {
  if (conn() == nullptr) return;
  ReleaseUnwatched(&worker()->private_pool(), conn(), frames_left());
  if (conn() == watches_->conn) watches_->conn = nullptr;
}

}  // namespace slotplane::dataplane
