#include "dataplane/stateful/client_tracking.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "common/logging.h"
#include "common/strings.h"
#include "dataplane/backend/backend_conn.h"
#include "dataplane/backend/private_pool.h"
#include "dataplane/command/client_command.h"
#include "dataplane/command/key_extractor.h"
#include "dataplane/core/proxy_context.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/request/request.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/router/slot_router.h"
#include "dataplane/session/client_session.h"
#include "dataplane/stateful/invalidation_frames.h"
#include "dataplane/stateful/session_state.h"

namespace slotplane::dataplane {
namespace {

constexpr std::string_view kBcastCommand =
    "*4\r\n$6\r\nCLIENT\r\n$8\r\nTRACKING\r\n$2\r\non\r\n$5\r\nBCAST\r\n";
constexpr int64_t kMaxRelinkDelayMs = 1000;
// BCAST + NOLOOP: at most this many written keys awaiting their invalidation per client.
constexpr size_t kMaxWrittenKeys = 4096;

bool MatchesPrefix(const TrackedClient& client, std::string_view key) {
  for (const std::string& prefix : client.mode.prefixes) {
    if (absl::StartsWith(AbslView(key), prefix)) return true;
  }
  return false;
}

}  // namespace

ClientTracking::ClientTracking(WorkerContext* worker) : worker_(worker) {}

ClientTracking::~ClientTracking() {
  if (relink_timer_ != 0) worker_->loop().Cancel(relink_timer_);
}

TrackedClient* ClientTracking::Find(uint64_t id) {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second.get();
}

void ClientTracking::Enable(ClientSession* client, TrackingMode mode, Request* reply) {
  SessionState::Of(client, worker_);  // its OnClientClosed tells us when the client leaves
  std::unique_ptr<TrackedClient>& slot = clients_[client->id()];
  if (slot == nullptr) {
    slot = std::make_unique<TrackedClient>();
  } else {
    if (slot->mode.bcast) --bcast_clients_;
    for (std::string& prefix : slot->mode.prefixes) mode.prefixes.push_back(std::move(prefix));
  }
  if (mode.bcast && mode.prefixes.empty()) mode.prefixes.emplace_back();
  std::sort(mode.prefixes.begin(), mode.prefixes.end());
  mode.prefixes.erase(std::unique(mode.prefixes.begin(), mode.prefixes.end()), mode.prefixes.end());
  slot->session = client;
  slot->mode = std::move(mode);
  slot->broken_redirect = false;
  if (slot->mode.bcast) ++bcast_clients_;
  client->set_tracking(true);
  links_open_ = true;
  EnsureLinks();
  waiters_.push_back(Waiter{client, reply});
  SettleWaiters();
}

void ClientTracking::Disable(ClientSession* client) {
  auto it = clients_.find(client->id());
  if (it == clients_.end()) return;
  if (it->second->mode.bcast) --bcast_clients_;
  clients_.erase(it);
  client->set_tracking(false);
  if (clients_.empty()) CloseLinks();
}

void ClientTracking::OnClientClosed(ClientSession* client) {
  targets_.erase(client->id());
  waiters_.erase(std::remove_if(waiters_.begin(), waiters_.end(),
                                [client](const Waiter& w) { return w.client == client; }),
                 waiters_.end());
  Disable(client);
}

void ClientTracking::AddTarget(ClientSession* target) {
  SessionState::Of(target, worker_);
  targets_[target->id()] = target;
}

// --- what clients read and write ---

void ClientTracking::OnCommand(ClientSession* client, const ClientCommand& command) {
  TrackedClient* tracked = Find(client->id());
  if (tracked == nullptr) return;
  EnsureLinks();
  const CommandInfo& cmd = command.info;
  const bool caching = tracked->caching;
  // Redis clears the CACHING flag after the next command that is not a CLIENT subcommand.
  if (!absl::StartsWith(cmd.name, "client|")) tracked->caching = false;
  const bool reads = (cmd.flags & kCmdReadonly) != 0;
  const bool writes = (cmd.flags & kCmdWrite) != 0;
  const TrackingMode& mode = tracked->mode;
  if (!(reads && !mode.bcast) && !(writes && mode.noloop)) return;
  if (reads && ((mode.optin && !caching) || (mode.optout && caching))) return;
  if (!ExtractKeyPositions(cmd, command.args, &positions_)) return;
  for (int position : positions_) {
    const std::string_view key = command.args[position];
    if (reads) {
      Remember(key, client->id());
    } else if (!mode.bcast) {
      ForgetReader(key, client->id());  // NOLOOP: its own write is not reported to it
    } else if (MatchesPrefix(*tracked, key) && tracked->written.size() < kMaxWrittenKeys) {
      ++tracked->written[AbslView(key)];
    }
  }
}

void ClientTracking::Remember(std::string_view key, uint64_t id) {
  auto [it, inserted] = table_.try_emplace(AbslView(key));
  if (std::find(it->second.begin(), it->second.end(), id) == it->second.end()) {
    it->second.push_back(id);
  }
  if (inserted && table_.size() > MaxKeys()) Evict();
}

void ClientTracking::ForgetReader(std::string_view key, uint64_t id) {
  auto it = table_.find(AbslView(key));
  if (it == table_.end()) return;
  auto& ids = it->second;
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
  if (ids.empty()) table_.erase(it);
}

size_t ClientTracking::MaxKeys() const {
  const size_t workers = std::max<size_t>(1, worker_->proxy().workers.size());
  const size_t limit = static_cast<size_t>(std::max(1, worker_->policy().tracking_table_max_keys));
  return std::max<size_t>(1, limit / workers);
}

// Redis's trackingLimitUsedSlots: keys beyond the limit are invalidated for their readers.
void ClientTracking::Evict() {
  const size_t max_keys = MaxKeys();
  while (table_.size() > max_keys) {
    auto it = table_.begin();
    const std::string key = it->first;
    const absl::InlinedVector<uint64_t, 2> ids = it->second;
    table_.erase(it);
    one_.assign(1, key);
    for (uint64_t id : ids) {
      if (TrackedClient* tracked = Find(id)) Send(*tracked, one_, false);
    }
  }
}

// --- invalidations ---

void ClientTracking::OnInvalidation(const std::vector<std::string_view>& keys, bool flush) {
  if (flush) return FlushAll();
  for (std::string_view key : keys) {
    auto it = table_.find(AbslView(key));
    if (it == table_.end()) continue;
    const absl::InlinedVector<uint64_t, 2> ids = std::move(it->second);
    table_.erase(it);
    one_.assign(1, key);
    for (uint64_t id : ids) {
      TrackedClient* tracked = Find(id);
      if (tracked != nullptr && !tracked->mode.bcast) Send(*tracked, one_, false);
    }
  }
  if (bcast_clients_ == 0) return;
  for (auto& [id, tracked] : clients_) {
    if (!tracked->mode.bcast) continue;
    std::vector<std::string_view> matched;
    for (std::string_view key : keys) {
      if (!MatchesPrefix(*tracked, key)) continue;
      if (auto w = tracked->written.find(AbslView(key)); w != tracked->written.end()) {
        if (--w->second == 0) tracked->written.erase(w);
        continue;  // NOLOOP: the client wrote it itself
      }
      matched.push_back(key);
    }
    if (!matched.empty()) Send(*tracked, matched, false);
  }
}

void ClientTracking::FlushAll() {
  table_.clear();
  for (auto& [id, tracked] : clients_) {
    tracked->written.clear();
    Send(*tracked, {}, true);
  }
}

void ClientTracking::Send(TrackedClient& tracked, const std::vector<std::string_view>& keys,
                          bool flush) {
  const TrackingMode& mode = tracked.mode;
  if (mode.redirect == 0) {
    if (!tracked.session->resp3()) return;  // Redis: a RESP2 client without REDIRECT gets none
    frame_.clear();
    AppendInvalidation(&frame_, true, keys, flush);
    tracked.session->Reply(frame_);
    return;
  }
  if (mode.redirect_worker == worker_->index()) {
    if (targets_.find(static_cast<uint64_t>(mode.redirect)) == targets_.end()) {
      tracked.broken_redirect = true;
      if (tracked.session->resp3()) {
        frame_.clear();
        AppendRedirectBroken(&frame_, mode.redirect);
        tracked.session->Reply(frame_);
      }
      return;
    }
    DeliverToTarget(static_cast<uint64_t>(mode.redirect), keys, flush);
    return;
  }
  // The target lives on another worker: its own thread writes the frame (its protocol is its).
  WorkerContext* other = worker_->proxy().workers[mode.redirect_worker];
  std::vector<std::string> copy(keys.begin(), keys.end());
  other->loop().Post([other, target = mode.redirect, copy = std::move(copy), flush] {
    std::vector<std::string_view> views(copy.begin(), copy.end());
    other->tracking().DeliverToTarget(static_cast<uint64_t>(target), views, flush);
  });
}

void ClientTracking::DeliverToTarget(uint64_t target, const std::vector<std::string_view>& keys,
                                     bool flush) {
  auto it = targets_.find(target);
  if (it == targets_.end() || it->second->closed()) return;
  ClientSession* session = it->second;
  // Redis: a RESP3 target gets the push; a RESP2 one only while it is subscribed (to
  // __redis__:invalidate, as client libraries do).
  if (!session->resp3() && !session->subscribed()) return;
  std::string frame;
  AppendInvalidation(&frame, session->resp3(), keys, flush);
  session->Reply(frame);
}

// --- the links ---

void ClientTracking::EnsureLinks() {
  if (!links_open_) return;
  const ClusterViewPtr& view = worker_->router().view();
  if (view.get() == seen_view_) return;
  seen_view_ = view.get();
  absl::flat_hash_map<std::string, const BackendConn*> wanted;
  for (const BackendConn* master : worker_->router().masters()) {
    wanted.emplace(master->address_text(), master);
  }
  bool dropped = false;
  for (auto it = links_.begin(); it != links_.end();) {
    auto next = std::next(it);
    if (!wanted.contains(it->first)) {
      link_of_.erase(it->second.conn);
      worker_->private_pool().Discard(it->second.conn);
      dropped = dropped || it->second.ready;
      links_.erase(it);
    }
    it = next;
  }
  for (const auto& [text, master] : wanted) {
    if (!links_.contains(text)) OpenLink(text, master->address());
  }
  if (dropped) FlushAll();
}

void ClientTracking::OpenLink(const std::string& address_text, const NodeAddress& address) {
  PrivateConn* conn = worker_->private_pool().Acquire(address, this, /*resp3=*/true);
  conn->Write(kBcastCommand);
  // A link opened once clients were answered is late: it is settled at once (nobody waits for
  // it) and flushes every client when it comes up.
  links_[address_text] = Link{conn, false, confirmed_};
  link_of_[conn] = address_text;
}

void ClientTracking::CloseLinks() {
  for (auto& [text, link] : links_) worker_->private_pool().Discard(link.conn);
  links_.clear();
  link_of_.clear();
  table_.clear();
  links_open_ = false;
  confirmed_ = false;
  seen_view_ = nullptr;
  if (relink_timer_ != 0) worker_->loop().Cancel(relink_timer_);
  relink_timer_ = 0;
}

void ClientTracking::SettleWaiters() {
  for (const auto& [text, link] : links_) {
    if (!link.settled) return;
  }
  if (waiters_.empty()) return;
  confirmed_ = true;
  std::vector<Waiter> waiters = std::move(waiters_);
  waiters_.clear();
  for (const Waiter& waiter : waiters) {
    if (waiter.reply->client == nullptr) {
      worker_->pool().Release(waiter.reply);
      continue;
    }
    waiter.client->Complete(waiter.reply, resp::kOk);
    waiter.client->Resume();
  }
}

void ClientTracking::OnPrivateFrame(PrivateConn* conn, std::string_view frame) {
  auto at = link_of_.find(conn);
  if (at == link_of_.end()) return;
  Link& link = links_[at->second];
  if (!link.ready) {
    if (frame != resp::kOk) {
      SP_LOG(kWarning) << "client tracking on " << conn->address_text()
                       << " refused: " << frame.substr(0, frame.find('\r'));
      return OnPrivateConnLost(conn, std::string(frame));
    }
    const bool late = link.settled;  // clients tracked while this node was not reporting
    link.ready = link.settled = true;
    relink_delay_ms_ = 100;
    if (late) FlushAll();
    SettleWaiters();
    return;
  }
  bool flush;
  if (!ParseInvalidation(frame, &flush, &keys_)) return;
  OnInvalidation(keys_, flush);
}

void ClientTracking::OnPrivateConnLost(PrivateConn* conn, const std::string& error) {
  auto at = link_of_.find(conn);
  worker_->private_pool().Discard(conn);
  if (at == link_of_.end()) return;
  SP_LOG(kDebug) << "client tracking link to " << at->second << " lost: " << error;
  const bool was_ready = links_[at->second].ready;
  links_.erase(at->second);
  link_of_.erase(at);
  if (was_ready) FlushAll();
  // Reopened by the relink timer as a late link: clients get a flush once it is up again, since
  // writes meanwhile were not reported. Waiting clients are answered now.
  ScheduleRelink();
  SettleWaiters();
}

void ClientTracking::ScheduleRelink() {
  if (relink_timer_ != 0) return;
  relink_timer_ = worker_->loop().RunAfter(relink_delay_ms_, [this] {
    relink_timer_ = 0;
    relink_delay_ms_ = std::min(relink_delay_ms_ * 2, kMaxRelinkDelayMs);
    seen_view_ = nullptr;  // compare nothing: reopen what is missing
    EnsureLinks();
  });
}

}  // namespace slotplane::dataplane
