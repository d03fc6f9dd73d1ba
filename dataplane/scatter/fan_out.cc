#include "dataplane/scatter/fan_out.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <charconv>
#include <ctime>
#include <string>

#include "absl/strings/str_cat.h"
#include "dataplane/command/config_node_settings.h"
#include "dataplane/command/config_secrets.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/script_cache.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/resp/reply_reader.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/resp/request_encoder.h"
#include "dataplane/router/slot_router.h"
#include "dataplane/scatter/info_reply.h"
#include "dataplane/scatter/latency_reducers.h"
#include "dataplane/scatter/multi_request.h"
#include "dataplane/scatter/reducers.h"
#include "dataplane/scatter/scan_cursor.h"
#include "dataplane/session/client_session.h"

namespace slotplane::dataplane {
namespace {

enum class Reduction {
  kSum,
  kMin,
  kConcat,
  kFirstUnlessError,
  kAnySuccess,
  kAndArrays,
  kRandomNonNil,
  kAllNodes,
  kInfo,
  kSlowlogGet,
  kLatencyLatest,
  kLatencyHistory,
  kNodeTexts,
  kLatencyHistogram,
};

struct NamedReduction {
  const char* name;
  Reduction reduction;
};

// Every kAllMasters/kAllNodes command that is not "first reply unless an error" (the default).
constexpr NamedReduction kReductions[] = {
    {"dbsize", Reduction::kSum},
    {"function|kill", Reduction::kAnySuccess},
    {"info", Reduction::kInfo},
    {"keys", Reduction::kConcat},
    {"lastsave", Reduction::kMin},
    {"latency|doctor", Reduction::kNodeTexts},
    {"latency|graph", Reduction::kNodeTexts},
    {"latency|histogram", Reduction::kLatencyHistogram},
    {"latency|history", Reduction::kLatencyHistory},
    {"latency|latest", Reduction::kLatencyLatest},
    {"randomkey", Reduction::kRandomNonNil},
    {"script|exists", Reduction::kAndArrays},
    {"script|kill", Reduction::kAnySuccess},
    {"slowlog|get", Reduction::kSlowlogGet},
};

Reduction ReductionFor(const CommandInfo& cmd) {
  for (const NamedReduction& entry : kReductions) {
    if (std::string_view(entry.name) == cmd.name) return entry.reduction;
  }
  if (cmd.route == RouteClass::kAllNodes) return Reduction::kAllNodes;
  return Reduction::kFirstUnlessError;
}

// SLOWLOG GET's count as Redis reads it: 10 when absent, -1 for all. An invalid one is refused by
// every node, so its value here does not matter.
int64_t SlowlogCount(const std::vector<std::string_view>& args) {
  if (args.size() < 3) return 10;
  int64_t count = -1;
  std::from_chars(args[2].data(), args[2].data() + args[2].size(), count);
  return count;
}

// The parts of one fanned-out command, one per node, pinned to their node.
class FanOutRequest : public MultiRequest {
 public:
  FanOutRequest(WorkerContext* worker, Reduction reduction, const char* command)
      : MultiRequest(worker, /*pinned=*/true), reduction_(reduction), command_(command) {}

  std::vector<std::string> nodes;  // every node: each part's node, to name or tag it
  uint64_t random = 0;             // kRandomNonNil
  int64_t count = -1;              // kSlowlogGet
  InfoOverrides info;              // kInfo
  std::vector<bool> known;         // kAndArrays (SCRIPT EXISTS): scripts the proxy can load

 private:
  void Reduce(const std::vector<std::string>& replies, std::string* out) override {
    switch (reduction_) {
      case Reduction::kSum:
        return reduce::SumIntegers(replies, command_, out);
      case Reduction::kMin:
        return reduce::MinInteger(replies, command_, out);
      case Reduction::kConcat:
        return reduce::ConcatArrays(replies, command_, out);
      case Reduction::kFirstUnlessError:
        return reduce::FirstUnlessError(replies, out);
      case Reduction::kAnySuccess:
        return reduce::AnySuccess(replies, out);
      case Reduction::kAndArrays:
        return reduce::AndIntegerArrays(replies, command_, known, out);
      case Reduction::kRandomNonNil:
        return reduce::RandomNonNil(replies, command_, random, out, resp3());
      case Reduction::kAllNodes:
        return reduce::AllNodes(replies, nodes, out);
      case Reduction::kInfo:
        return ReduceInfo(replies, out);
      case Reduction::kSlowlogGet:
        return reduce::SlowlogGet(replies, nodes, count, out);
      case Reduction::kLatencyLatest:
        return reduce::LatencyLatest(replies, nodes, out);
      case Reduction::kLatencyHistory:
        return reduce::LatencyHistory(replies, nodes, out);
      case Reduction::kNodeTexts:
        return reduce::NodeTexts(replies, nodes, command_, out, resp3());
      case Reduction::kLatencyHistogram:
        return reduce::LatencyHistogram(replies, out, resp3());
    }
  }

  void ReduceInfo(const std::vector<std::string>& replies, std::string* out) {
    std::vector<std::string_view> texts;
    for (const std::string& reply : replies) {
      std::string_view text;
      bool is_null;
      if (resp::IsError(reply)) {
        out->append(reply);
        return;
      }
      if (!resp::ReadBulk(reply, &text, &is_null)) {
        out->append(errors::UnexpectedReply(command_));
        return;
      }
      texts.push_back(text);
    }
    resp::AppendVerbatim(out, MergeInfo(texts, info), resp3());
  }

  const Reduction reduction_;
  const char* command_;
};

// One step of SCAN: one master, its cursor rewritten into the client's.
class ScanRequest : public MultiRequest {
 public:
  ScanRequest(WorkerContext* worker, uint32_t node, uint32_t node_count)
      : MultiRequest(worker, /*pinned=*/true), node_(node), node_count_(node_count) {}

 private:
  void Reduce(const std::vector<std::string>& replies, std::string* out) override {
    const std::string& reply = replies[0];
    if (resp::IsError(reply)) {
      out->append(reply);
      return;
    }
    std::vector<std::string_view> parts;
    std::string_view text;
    bool is_null = false;
    uint64_t node_cursor = 0, cursor = 0;
    if (!resp::ReadArray(reply, &parts) || parts.size() != 2 ||
        !resp::ReadBulk(parts[0], &text, &is_null) || is_null ||
        std::from_chars(text.data(), text.data() + text.size(), node_cursor).ptr !=
            text.data() + text.size()) {
      out->append(errors::UnexpectedReply("scan"));
      return;
    }
    if (!NextScanCursor(node_, node_cursor, node_count_, &cursor)) {
      out->append(errors::Generic("slotplane: a cluster node's SCAN cursor is too large"));
      return;
    }
    resp::AppendArrayHeader(out, 2);
    resp::AppendBulk(out, std::to_string(cursor));
    out->append(parts[1]);
  }

  const uint32_t node_;
  const uint32_t node_count_;
};

// CONFIG GET on one master, its reply without the secret parameters.
class ConfigGetRequest : public MultiRequest {
 public:
  explicit ConfigGetRequest(WorkerContext* worker) : MultiRequest(worker, /*pinned=*/true) {}

 private:
  void Reduce(const std::vector<std::string>& replies, std::string* out) override {
    AppendConfigGetWithoutSecrets(replies[0], out, resp3());
  }
};

std::string OsName() {
  struct utsname name;
  if (uname(&name) != 0) return "";
  return absl::StrCat(name.sysname, " ", name.release, " ", name.machine);
}

}  // namespace

FanOut::FanOut(WorkerContext* worker, ProxyInfoFn proxy_info)
    : worker_(worker), proxy_info_(proxy_info), random_(std::random_device{}()) {}

void FanOut::Execute(ClientSession* client, const ClientCommand& command) {
  const CommandInfo& cmd = command.info;
  const std::vector<std::string_view>& args = command.args;
  if (std::string_view(cmd.name) == "scan") {
    Scan(client, args);
    return;
  }
  if (cmd.handler == Handler::kConfigSet) {
    const std::string_view secret = FindSecretConfigSet(args);
    if (!secret.empty()) {
      worker_->stats().CountError(ErrorKind::kUnsupported);
      client->Reply(errors::ConfigSetSecretRefused(secret));
      return;
    }
    const std::string_view node_setting = FindNodeSpecificConfigSet(args);
    if (!node_setting.empty()) {
      worker_->stats().CountError(ErrorKind::kUnsupported);
      client->Reply(errors::ConfigSetNodeSpecificRefused(node_setting));
      return;
    }
  }
  // The proxy's script cache follows what the masters are told (core/script_cache.h).
  if (cmd.handler == Handler::kScriptLoad && args.size() == 3) ScriptCache::Get().Remember(args[2]);
  if (cmd.handler == Handler::kScriptFlush) ScriptCache::Get().Clear();
  std::vector<BackendConn*> nodes;
  if (cmd.route == RouteClass::kAllNodes) {
    nodes = worker_->router().AllNodes();
  } else {
    nodes = worker_->router().masters();
  }
  if (nodes.empty()) {
    worker_->stats().CountError(ErrorKind::kClusterDown);
    client->Reply(errors::NoTopology());
    return;
  }
  const Reduction reduction = ReductionFor(cmd);
  auto* multi = new FanOutRequest(worker_, reduction, cmd.name);
  if (cmd.route == RouteClass::kAllNodes) {
    for (BackendConn* conn : nodes) multi->nodes.push_back(conn->address_text());
  }
  if (reduction == Reduction::kAndArrays) {
    for (size_t i = 2; i < args.size(); ++i)
      multi->known.push_back(ScriptCache::Get().Knows(args[i]));
  } else if (reduction == Reduction::kSlowlogGet) {
    multi->count = SlowlogCount(args);
  } else if (reduction == Reduction::kRandomNonNil) {
    multi->random = random_();
  } else if (reduction == Reduction::kInfo) {
    const ProxyContext& ctx = worker_->proxy();
    if (InfoWantsProxySection(args)) multi->info.proxy_section = proxy_info_(worker_, "proxy");
    multi->info.connected_clients = ctx.clients.load();
    multi->info.maxclients = worker_->policy().maxclients;
    multi->info.process_id = getpid();
    multi->info.tcp_port = ctx.options.port;
    multi->info.uptime_seconds = static_cast<int64_t>(time(nullptr)) - ctx.start_time_unix;
    multi->info.os = OsName();
    for (const WorkerContext* w : ctx.workers) {
      multi->info.total_connections_received +=
          static_cast<int64_t>(w->stats().connections_received.Get());
      multi->info.rejected_connections +=
          static_cast<int64_t>(w->stats().connections_rejected.Get());
    }
  }
  multi->Begin(client, nodes.size());
  for (BackendConn* conn : nodes) {
    Request* part = multi->AddPart(0);
    command.WireForm(&part->command);
    multi->Send(part, conn);
  }
  multi->Launch();
}

void FanOut::ConfigGet(ClientSession* client, const ClientCommand& command) {
  BackendConn* master = worker_->router().AnyMaster();
  auto* multi = new ConfigGetRequest(worker_);
  multi->Begin(client, 1);
  Request* part = multi->AddPart(0);
  command.WireForm(&part->command);
  multi->Send(part, master);  // nullptr: the forwarder answers the error, as for any kAnyNode
  multi->Launch();
}

void FanOut::Scan(ClientSession* client, const std::vector<std::string_view>& args) {
  const std::vector<BackendConn*>& masters = worker_->router().masters();
  if (masters.empty()) {
    worker_->stats().CountError(ErrorKind::kClusterDown);
    client->Reply(errors::NoTopology());
    return;
  }
  ScanPosition position;
  if (!ParseScanCursor(args[1], &position) || position.node >= masters.size() ||
      masters.size() > kMaxScanNodes) {
    worker_->stats().CountError(ErrorKind::kCommand);
    client->Reply(errors::InvalidCursor());
    return;
  }
  auto* multi = new ScanRequest(worker_, position.node, static_cast<uint32_t>(masters.size()));
  multi->Begin(client, 1);
  Request* part = multi->AddPart(0);
  const std::string node_cursor = std::to_string(position.node_cursor);
  std::vector<std::string_view> node_args = args;
  node_args[1] = node_cursor;
  EncodeCommand(node_args, &part->command);
  multi->Send(part, masters[position.node]);
  multi->Launch();
}

}  // namespace slotplane::dataplane
