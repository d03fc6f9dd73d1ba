#include "tests/faults/command_sender.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <cstdlib>
#include <set>
#include <utility>

#include "common/slot.h"
#include "tests/faults/error_kinds.h"

namespace slotplane::faults {
namespace {

constexpr int kMaxHops = 6;

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

std::string AddressOf(const std::string& host, long long port) {
  return host + ":" + std::to_string(port);
}

bool StartsWith(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

// Parses an integer reply or a bulk string holding one (GET of a counter).
void FillValue(const redisReply& reply, CommandResult& result) {
  if (reply.type == REDIS_REPLY_INTEGER) {
    result.value = reply.integer;
  } else if (reply.type == REDIS_REPLY_NIL) {
    result.is_nil = true;
  } else if (reply.type == REDIS_REPLY_STRING || reply.type == REDIS_REPLY_STATUS) {
    result.value = std::strtoll(std::string(reply.str, reply.len).c_str(), nullptr, 10);
  }
}

}  // namespace

struct CommandSender::Link {
  std::string host;
  int port = 0;
  redisContext* context = nullptr;

  ~Link() { Close(); }
  void Close() {
    if (context != nullptr) redisFree(context);
    context = nullptr;
  }
  // Connects (and AUTHs) if not connected; returns the error text, empty on success.
  std::string Ensure(const SenderOptions& options, int64_t& connects) {
    if (context != nullptr) return "";
    context = redisConnectWithTimeout(host.c_str(), port, ToTimeval(options.connect_timeout));
    if (context == nullptr) return "cannot allocate a connection";
    if (context->err != 0) {
      std::string error = context->errstr;
      Close();
      return error;
    }
    redisSetTimeout(context, ToTimeval(options.io_timeout));
    ++connects;
    if (options.password.empty()) return "";
    auto* reply = static_cast<redisReply*>(
        redisCommand(context, "AUTH %b", options.password.data(), options.password.size()));
    std::string error;
    if (reply == nullptr) error = context->errstr;
    if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) error = "AUTH failed";
    if (reply != nullptr) freeReplyObject(reply);
    if (!error.empty()) Close();
    return error;
  }
};

CommandSender::CommandSender(SenderOptions options)
    : options_(std::move(options)), seed_(AddressOf(options_.host, options_.port)) {
  if (options_.cluster_mode) {
    slot_owner_.assign(kSlotCount, seed_);
    RefreshSlotMap();
  }
}

CommandSender::~CommandSender() = default;

CommandSender::Link& CommandSender::LinkTo(const std::string& address) {
  std::unique_ptr<Link>& link = links_[address];
  if (link == nullptr) {
    link = std::make_unique<Link>();
    const size_t colon = address.rfind(':');
    link->host = address.substr(0, colon);
    link->port = std::atoi(address.c_str() + colon + 1);
  }
  return *link;
}

std::string CommandSender::OwnerOf(const std::string& key) const {
  if (!options_.cluster_mode) return seed_;
  return slot_owner_[KeyHashSlot(key)];
}

std::vector<CommandResult> CommandSender::Send(
    const std::vector<std::vector<std::string>>& commands) {
  const Clock::time_point start = Clock::now();
  std::vector<CommandResult> results(commands.size());
  std::vector<Pending> pending;
  for (size_t i = 0; i < commands.size(); ++i) pending.push_back({i, ""});
  for (int hop = 0; hop < kMaxHops && !pending.empty(); ++hop) {
    if (refresh_needed_) RefreshSlotMap();
    std::map<std::string, std::vector<Pending>> groups;
    for (const Pending& p : pending) {
      groups[p.address.empty() ? OwnerOf(commands[p.index][1]) : p.address].push_back(p);
    }
    std::vector<Pending> next;
    for (const auto& [address, group] : groups) {
      SendGroup(address, group, commands, start, results, next);
    }
    pending = std::move(next);
  }
  for (const Pending& p : pending) {
    results[p.index].status = CommandResult::Status::kErrorReply;
    results[p.index].kind = "client: too many redirects";
  }
  return results;
}

void CommandSender::SendGroup(const std::string& address, const std::vector<Pending>& group,
                              const std::vector<std::vector<std::string>>& commands,
                              Clock::time_point start, std::vector<CommandResult>& results,
                              std::vector<Pending>& next) {
  Link& link = LinkTo(address);
  const std::string connect_error = link.Ensure(options_, connects_);
  auto fail_from = [&](size_t first, const std::string& kind, const std::string& message) {
    for (size_t i = first; i < group.size(); ++i) {
      CommandResult& result = results[group[i].index];
      result.status = CommandResult::Status::kTransportError;
      result.kind = kind;
      result.message = message;
      result.latency_micros =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    }
    link.Close();
    refresh_needed_ = options_.cluster_mode;
  };
  if (!connect_error.empty()) {
    fail_from(0, "connect: " + ErrorReplyKind(connect_error), connect_error);
    return;
  }
  for (const Pending& p : group) {
    if (p.asking) redisAppendCommand(link.context, "ASKING");
    const std::vector<std::string>& argv = commands[p.index];
    std::vector<const char*> args;
    std::vector<size_t> lens;
    for (const std::string& arg : argv) {
      args.push_back(arg.data());
      lens.push_back(arg.size());
    }
    redisAppendCommandArgv(link.context, static_cast<int>(args.size()), args.data(), lens.data());
  }
  for (size_t i = 0; i < group.size(); ++i) {
    const Pending& p = group[i];
    void* raw = nullptr;
    if (p.asking && redisGetReply(link.context, &raw) == REDIS_OK) freeReplyObject(raw);
    if (redisGetReply(link.context, &raw) != REDIS_OK || raw == nullptr) {
      const std::string error = link.context->errstr;
      fail_from(i, TransportErrorKind(error), error);
      return;
    }
    std::unique_ptr<redisReply, void (*)(void*)> reply(static_cast<redisReply*>(raw),
                                                       freeReplyObject);
    CommandResult& result = results[p.index];
    result.latency_micros =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    if (reply->type != REDIS_REPLY_ERROR) {
      result.status = CommandResult::Status::kOk;
      FillValue(*reply, result);
      continue;
    }
    const std::string message(reply->str, reply->len);
    if (options_.cluster_mode && (StartsWith(message, "MOVED ") || StartsWith(message, "ASK "))) {
      HandleRedirect(message, p, next);
      continue;
    }
    result.status = CommandResult::Status::kErrorReply;
    result.kind = ErrorReplyKind(message);
    result.message = message;
    if (options_.cluster_mode && StartsWith(message, "CLUSTERDOWN")) refresh_needed_ = true;
  }
}

void CommandSender::HandleRedirect(const std::string& message, const Pending& pending,
                                   std::vector<Pending>& next) {
  // "MOVED <slot> <host:port>" / "ASK <slot> <host:port>"
  ++redirects_;
  const size_t first_space = message.find(' ');
  const size_t second_space = message.find(' ', first_space + 1);
  const int slot = std::atoi(message.c_str() + first_space + 1);
  const std::string address = message.substr(second_space + 1);
  const bool ask = StartsWith(message, "ASK ");
  if (!ask && slot >= 0 && slot < kSlotCount) {
    slot_owner_[slot] = address;
    refresh_needed_ = true;
  }
  next.push_back({pending.index, address, ask});
}

void CommandSender::RefreshSlotMap() {
  refresh_needed_ = false;
  // Nodes already connected first, then every owner in the map, then the seeds.
  std::vector<std::string> candidates;
  for (const auto& [address, link] : links_) {
    if (link->context != nullptr) candidates.push_back(address);
  }
  std::set<std::string> owners(slot_owner_.begin(), slot_owner_.end());
  candidates.insert(candidates.end(), owners.begin(), owners.end());
  candidates.push_back(seed_);
  candidates.insert(candidates.end(), options_.more_seeds.begin(), options_.more_seeds.end());
  for (const std::string& address : candidates) {
    Link& link = LinkTo(address);
    if (!link.Ensure(options_, connects_).empty()) continue;
    auto* reply = static_cast<redisReply*>(redisCommand(link.context, "CLUSTER SLOTS"));
    if (reply == nullptr) {
      link.Close();
      continue;
    }
    std::unique_ptr<redisReply, void (*)(void*)> owned(reply, freeReplyObject);
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) continue;
    for (size_t i = 0; i < reply->elements; ++i) {
      const redisReply* range = reply->element[i];
      if (range->type != REDIS_REPLY_ARRAY || range->elements < 3) continue;
      const redisReply* master = range->element[2];
      if (master->type != REDIS_REPLY_ARRAY || master->elements < 2) continue;
      const std::string owner =
          AddressOf(std::string(master->element[0]->str, master->element[0]->len),
                    master->element[1]->integer);
      for (long long slot = range->element[0]->integer; slot <= range->element[1]->integer;
           ++slot) {
        slot_owner_[slot] = owner;
      }
    }
    return;
  }
}

}  // namespace slotplane::faults
