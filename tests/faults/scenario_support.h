#pragma once

// Helpers shared by the fault scenarios (tests/faults/*_test.cc): the standard load, the
// proxy's optional features, process resource readings, and publishing a scenario's figures.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/faults/fault_load.h"
#include "tests/integration/redis_cluster.h"

namespace slotplane::faults {

// The suite's standard load on 127.0.0.1:`port`: 8 connections (4 unpipelined, 4 with 8-deep
// pipelines), 4096 counters over every slot, a GET every 8th command, `key_prefix` (unique per
// run), stopping by itself after `max_duration` (a bound; scenarios Stop() it earlier). The
// final values are read straight from the masters of `cluster`, not through the proxy.
LoadOptions StandardLoad(const integration::RedisCluster& cluster, uint16_t port,
                         const std::string& key_prefix, absl::Duration max_duration);

// A cluster-aware sender straight at the nodes of `cluster` (node 0 the seed, the others more
// seeds), following MOVED/ASK.
SenderOptions ClusterSender(const integration::RedisCluster& cluster);

// Cluster mode for `options`: straight at the nodes of `cluster` (its node 0 as the seed, the
// others as more seeds), following MOVED/ASK.
void TalkToClusterDirectly(const integration::RedisCluster& cluster, LoadOptions& options);

// A duration from the environment variable `name` in seconds, else `default_value`.
absl::Duration DurationFromEnv(const char* name, absl::Duration default_value);
// True when the environment variable is set to something other than "" or "0".
bool EnvFlag(const char* name);

// The value to pass for a duration option of slotplane-proxy: its `--help` line says whether it
// takes milliseconds ("ms") or seconds. nullopt when the proxy does not have the option (the
// scenario needing it is skipped). `option` without the leading "--".
std::optional<std::string> ProxyDurationArg(const std::string& option, absl::Duration value);

// Resources of a running process, from /proc.
struct ProcessResources {
  int64_t open_fds = 0;
  int64_t rss_kib = 0;
};
absl::StatusOr<ProcessResources> ReadProcessResources(pid_t pid);

// The process id of a cluster node (INFO server's process_id), for SIGSTOP/SIGCONT.
absl::StatusOr<pid_t> NodePid(integration::RedisCluster& cluster, int node);

// Prints the scenario's report (text and JSON) and appends the JSON line, with the scenario's
// name, to the file named by $SLOTPLANE_FAULTS_REPORT when set (tests/faults/run.sh reads it).
void Publish(const std::string& scenario, const LoadReport& report);

// Polls until `load` has `count` more acknowledged commands than when called; false after
// `timeout` or if the load stopped.
bool WaitForAcks(const FaultLoad& load, int64_t count, absl::Duration timeout);

}  // namespace slotplane::faults
