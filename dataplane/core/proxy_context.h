#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "common/tls_config.h"
#include "dataplane/core/policy.h"
#include "dataplane/core/proxy_config.h"
#include "dataplane/net/io_engine.h"

namespace slotplane::dataplane {

class ConfigApplier;
class ControlPlane;
class TopologyRefresher;
class WorkerContext;

// What all workers share. Set up before the workers start and read-only afterwards, except the
// atomics. Workers never write each other's state; they read it only for PROXY INFO.
struct ProxyContext {
  ProxyOptions options;
  // The policy the workers start with; later ones reach them through the ConfigApplier.
  ProxyPolicyPtr initial_policy;
  TopologyRefresher* refresher = nullptr;
  // Installs policies and topologies on every worker (standalone CONFIG SET goes through it).
  ConfigApplier* applier = nullptr;
  // The control-plane client; null when the proxy runs standalone.
  ControlPlane* control = nullptr;
  std::vector<WorkerContext*> workers;  // every worker's context, in worker order
  // The TLS contexts workers start with (null: that side is plain TCP): the TLS listener's and
  // the one for connections to cluster nodes (tls-cluster). A reload (SIGHUP) makes new ones and
  // hands them to running workers (Worker::InstallTls); connections keep the one they began with.
  SslContextPtr tls_server;
  SslContextPtr tls_client;
  // The `unixsocket` listener (-1: none). One socket for the whole proxy, watched by every
  // worker's loop (EPOLLEXCLUSIVE); the Proxy opens, unlinks and closes it.
  int unix_listener = -1;
  // The engine of the workers' loops (`io-engine`, resolved once against the kernel).
  IoEngine io_engine = IoEngine::kEpoll;
  // The workers' io_uring receive ring (`io-uring-recv-buffers`); unused under epoll.
  RecvRingShape recv_ring;
  int64_t start_time_unix = 0;
  std::atomic<int64_t> clients{0};
  std::atomic<uint64_t> next_client_id{1};
  // Script and function calls (EVAL, FCALL, ...) on the wire now, over every worker
  // (stateful/script_call.h). While it is not zero, PING asks the masters (a node busy with a
  // script answers -BUSY) instead of answering PONG itself.
  std::atomic<int64_t> scripts_running{0};
  // True from the moment every worker runs until the proxy stops (GET /readyz).
  std::atomic<bool> serving{false};
  // True once a stop was asked for: /readyz answers 503 so that load balancers move away.
  std::atomic<bool> draining{false};
  // Asks the main thread to stop the proxy (PROXY SHUTDOWN). Thread-safe.
  std::function<void()> request_shutdown;
};

}  // namespace slotplane::dataplane
