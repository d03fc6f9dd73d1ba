#include "tests/faults/scenario_support.h"

#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/integration/child_process.h"
#include "tests/integration/test_util.h"

namespace slotplane::faults {

using integration::RunCommand;
using integration::WaitFor;

SenderOptions ClusterSender(const integration::RedisCluster& cluster) {
  SenderOptions sender;
  sender.cluster_mode = true;
  sender.port = cluster.port(0);
  for (int node = 1; node < cluster.node_count(); ++node) {
    sender.more_seeds.push_back(absl::StrCat("127.0.0.1:", cluster.port(node)));
  }
  return sender;
}

LoadOptions StandardLoad(const integration::RedisCluster& cluster, uint16_t port,
                         const std::string& key_prefix, absl::Duration max_duration) {
  LoadOptions options;
  options.verify_with_other_sender = true;
  options.verify_sender = ClusterSender(cluster);
  options.sender.port = port;
  options.connections = 8;
  options.unpipelined_connections = 4;
  options.pipeline = 8;
  options.keys = 4096;
  options.read_every = 8;
  options.key_prefix = key_prefix;
  options.duration = absl::ToChronoMilliseconds(max_duration);
  return options;
}

void TalkToClusterDirectly(const integration::RedisCluster& cluster, LoadOptions& options) {
  options.sender = ClusterSender(cluster);
}

absl::Duration DurationFromEnv(const char* name, absl::Duration default_value) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return default_value;
  return absl::Seconds(std::atoi(value));
}

bool EnvFlag(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' && std::string(value) != "0";
}

std::optional<std::string> ProxyDurationArg(const std::string& option, absl::Duration value) {
  static const std::string* const help = [] {
    absl::StatusOr<integration::CommandResult> result = RunCommand(
        {std::string(SLOTPLANE_BIN_DIR) + "/slotplane-proxy", "--help"}, "/tmp", absl::Seconds(30));
    return new std::string(result.ok() ? result->output : "");
  }();
  for (absl::string_view line : absl::StrSplit(*help, '\n')) {
    if (!absl::StrContains(line, absl::StrCat("--", option, " "))) continue;
    if (absl::StrContains(line, "ms")) return absl::StrCat(absl::ToInt64Milliseconds(value));
    return absl::StrCat(absl::ToInt64Seconds(value));
  }
  return std::nullopt;
}

absl::StatusOr<ProcessResources> ReadProcessResources(pid_t pid) {
  ProcessResources resources;
  const std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
  DIR* dir = opendir(fd_dir.c_str());
  if (dir == nullptr) return absl::NotFoundError(absl::StrCat("cannot open ", fd_dir));
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++resources.open_fds;
  }
  closedir(dir);
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      resources.rss_kib = std::atoll(line.c_str() + 6);
      return resources;
    }
  }
  return absl::NotFoundError(absl::StrCat("no VmRSS for pid ", pid));
}

absl::StatusOr<pid_t> NodePid(integration::RedisCluster& cluster, int node) {
  absl::StatusOr<std::unique_ptr<integration::TestClient>> client = cluster.Connect(node);
  if (!client.ok()) return client.status();
  const integration::Reply reply = (*client)->Command({"INFO", "server"});
  if (reply.type != integration::Reply::Type::kString) {
    return absl::UnavailableError(absl::StrCat("INFO server: ", reply.DebugString()));
  }
  const std::map<std::string, std::string> info = integration::ParseInfoText(reply.str);
  const auto it = info.find("process_id");
  if (it == info.end()) return absl::NotFoundError("no process_id in INFO server");
  return static_cast<pid_t>(std::atoi(it->second.c_str()));
}

void Publish(const std::string& scenario, const LoadReport& report) {
  std::cout << report.ToText(scenario) << report.ToJson(scenario) << std::endl;
  const char* path = std::getenv("SLOTPLANE_FAULTS_REPORT");
  if (path == nullptr || *path == '\0') return;
  std::ofstream out(path, std::ios::app);
  out << report.ToJson(scenario) << "\n";
}

bool WaitForAcks(const FaultLoad& load, int64_t count, absl::Duration timeout) {
  const int64_t target = load.acked() + count;
  return WaitFor([&] { return load.acked() >= target || !load.running(); }, timeout) &&
         load.acked() >= target;
}

}  // namespace slotplane::faults
