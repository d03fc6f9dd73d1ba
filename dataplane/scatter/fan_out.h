#pragma once

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/command/client_command.h"
#include "dataplane/command/command_table.h"

namespace slotplane::dataplane {

class ClientSession;
class WorkerContext;

// Commands for the whole keyspace or the whole cluster (RouteClass::kAllMasters, kAllNodes): sent
// to every master (or every node) as one MultiRequest and reduced to one reply (reducers.h):
//
//   DBSIZE sum · KEYS concatenated · RANDOMKEY a random non-nil answer · LASTSAVE the oldest ·
//   SCRIPT EXISTS element-wise AND · SCRIPT KILL, FUNCTION KILL OK when any master was running
//   it · INFO merged (info_reply.h) · FLUSHALL, FLUSHDB, SCRIPT LOAD/FLUSH, FUNCTION
//   LOAD/DELETE/FLUSH/RESTORE, SAVE, BGSAVE, BGREWRITEAOF the first reply unless one failed ·
//   CONFIG SET/RESETSTAT/REWRITE, LATENCY RESET, MEMORY PURGE, SLOWLOG RESET on masters and
//   replicas: OK (or the summed integers) only if every node succeeded, else the first error
//   naming the node · SLOWLOG LEN summed over masters and replicas · SLOWLOG GET, LATENCY
//   LATEST, LATENCY HISTORY: every node's rows merged, each tagged with its node (reducers.h).
//   LATENCY DOCTOR, LATENCY GRAPH: every node's text, a section each; LATENCY HISTOGRAM: the
//   nodes' histograms summed (latency_reducers.h).
//
// SCAN is the exception: one master per call, walked in a fixed order (scan_cursor.h).
// One per worker; worker thread only.
class FanOut {
 public:
  // The text of a section of the proxy's own INFO (local/proxy_command.h); passed in because the
  // proxy-local answers sit above scatter/gather.
  using ProxyInfoFn = std::string (*)(WorkerContext* worker, std::string_view section);

  FanOut(WorkerContext* worker, ProxyInfoFn proxy_info);

  // `cmd` is the resolved command (the subcommand for containers); `raw` as in Dispatch().
  // CONFIG SET naming a secret parameter (config_secrets.h) or a node-specific one
  // (config_node_settings.h) is refused here as a whole, before any node sees it.
  void Execute(ClientSession* client, const ClientCommand& command);

  // CONFIG GET: one master's answer without the secret parameters (config_secrets.h), as a
  // single-part MultiRequest so that the reply is filtered before it reaches the client.
  void ConfigGet(ClientSession* client, const ClientCommand& command);

 private:
  void Scan(ClientSession* client, const std::vector<std::string_view>& args);

  WorkerContext* worker_;
  ProxyInfoFn proxy_info_;
  std::mt19937_64 random_;
};

}  // namespace slotplane::dataplane
