#include "dataplane/backend/private_pool.h"

#include <algorithm>

#include "common/logging.h"
#include "dataplane/net/event_loop.h"

namespace slotplane::dataplane {
namespace {

std::string IdleKey(std::string key, bool resp3) {
  if (resp3) key += "#3";
  return key;
}

}  // namespace

PrivatePool::PrivatePool(EventLoop* loop, WorkerStats* stats, BackendOptions options,
                         int max_idle_per_node)
    : loop_(loop),
      stats_(stats),
      options_(std::move(options)),
      max_idle_per_node_(max_idle_per_node) {}

PrivatePool::~PrivatePool() {
  graveyard_.clear();
  conns_.clear();
}

PrivateConn* PrivatePool::Acquire(const NodeAddress& address, PrivateConnUser* user, bool resp3) {
  auto it = idle_.find(IdleKey(address.ToString(), resp3));
  while (it != idle_.end() && !it->second.empty()) {
    PrivateConn* conn = it->second.back();
    it->second.pop_back();
    conn->idle = false;
    if (conn->quiet()) {
      conn->user = user;
      return conn;
    }
    Discard(conn);
  }
  BackendOptions options = options_;
  options.resp3 = resp3;
  auto owned = std::make_unique<PrivateConn>(this, address, options);
  PrivateConn* conn = owned.get();
  conns_.emplace(conn, std::move(owned));
  conn->user = user;
  conn->Connect();
  return conn;
}

void PrivatePool::Release(PrivateConn* conn, int max_idle) {
  conn->user = nullptr;
  if (conn->discarded || conn->idle) return;
  std::vector<PrivateConn*>& idle = idle_[IdleKey(conn->address_text(), conn->resp3())];
  if (!conn->quiet() || static_cast<int>(idle.size()) >= max_idle) {
    Discard(conn);
    return;
  }
  conn->idle = true;
  idle.push_back(conn);
}

void PrivatePool::ReleaseAfter(PrivateConn* conn, size_t frames) {
  if (frames == 0) {
    Release(conn);
    return;
  }
  conn->user = nullptr;
  if (conn->dead()) {
    Discard(conn);
    return;
  }
  conn->frames_to_drain = frames;
}

void PrivatePool::Discard(PrivateConn* conn) {
  if (conn->discarded) return;
  conn->user = nullptr;
  conn->discarded = true;
  conn->flush_scheduled = false;  // skipped by the flush list, erased from it before deletion
  if (conn->idle) RemoveFromIdle(conn);
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  // Closing the socket now keeps the fd count honest; the object waits for the end of the pass.
  conn->Close();
  graveyard_.push_back(std::move(it->second));
  conns_.erase(it);
}

void PrivatePool::RemoveFromIdle(PrivateConn* conn) {
  conn->idle = false;
  auto it = idle_.find(IdleKey(conn->address_text(), conn->resp3()));
  if (it == idle_.end()) return;
  auto& list = it->second;
  list.erase(std::remove(list.begin(), list.end(), conn), list.end());
}

void PrivatePool::OnOrphanFrame(PrivateConn* conn) {
  SP_LOG(kDebug) << "closing idle private connection to " << conn->address_text()
                 << ": unexpected data from the node";
  Discard(conn);
}

void PrivatePool::ScheduleFlush(PrivateConn* conn) { to_flush_.Schedule(conn); }

void PrivatePool::CollectGarbage() {
  if (graveyard_.empty()) return;
  // A discarded connection may still sit in to_flush_ when it was discarded after the last
  // flush round; drop those entries before the objects go.
  to_flush_.EraseIf([](PrivateConn* c) { return c->discarded; });
  graveyard_.clear();
}

}  // namespace slotplane::dataplane
