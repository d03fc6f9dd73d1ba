#include "tests/integration/proxy_process.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace slotplane::integration {
namespace {

constexpr int kMaxPortAttempts = 5;
constexpr absl::Duration kPollInterval = absl::Milliseconds(20);

std::string ProxyBinary() { return std::string(SLOTPLANE_BIN_DIR) + "/slotplane-proxy"; }

}  // namespace

absl::StatusOr<std::unique_ptr<ProxyProcess>> ProxyProcess::Start(const ProxyOptions& options) {
  const std::string binary = ProxyBinary();
  if (::access(binary.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(binary, " is missing: build the slotplane-proxy target first"));
  }
  absl::StatusOr<TempDir> dir = TempDir::Create("slotplane-proxy");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<ProxyProcess> proxy(new ProxyProcess(options, *std::move(dir)));
  const absl::Time deadline = absl::Now() + options.start_timeout;
  absl::Status status;
  for (int attempt = 0; attempt < kMaxPortAttempts; ++attempt) {
    status = proxy->Launch(binary, deadline);
    if (status.ok()) return proxy;
    // Another process bound the port between PickFreePort() and the proxy's bind(): retry.
    if (proxy->IsAlive() || !absl::StrContains(proxy->LogText(), "in use")) break;
  }
  proxy->stopped_ = true;  // the failure is reported through `status`, not by the destructor
  return status;
}

absl::Status ProxyProcess::Launch(const std::string& binary, absl::Time deadline) {
  absl::StatusOr<uint16_t> port = PickFreePort(/*with_cluster_bus=*/false);
  if (!port.ok()) return port.status();
  port_ = *port;
  log_path_ = dir_.File(absl::StrCat("proxy-", port_, ".log"));
  SpawnOptions spawn;
  const std::pair<std::string, std::string> flags[] = {
      {"--port", absl::StrCat(port_)},
      {"--bind", "127.0.0.1"},
      {"--threads", absl::StrCat(options_.threads)},
      {"--log-level", options_.log_level},
  };
  spawn.argv = {binary};
  for (const auto& [flag, value] : flags) spawn.argv.insert(spawn.argv.end(), {flag, value});
  for (const NodeAddress& seed : options_.seeds) {
    spawn.argv.insert(spawn.argv.end(), {"--cluster", seed.ToString()});
  }
  std::string io_engine = options_.io_engine;
  if (const char* env = std::getenv("SLOTPLANE_TEST_IO_ENGINE"); io_engine.empty() && env) {
    io_engine = env;
  }
  if (!io_engine.empty()) spawn.argv.insert(spawn.argv.end(), {"--io-engine", io_engine});
  spawn.argv.insert(spawn.argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  spawn.output_path = log_path_;
  spawn.max_open_files = options_.max_open_files;
  absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Spawn(spawn);
  if (!process.ok()) return process.status();
  process_ = *std::move(process);
  return WaitUntilAnswering(deadline);
}

absl::Status ProxyProcess::WaitUntilAnswering(absl::Time deadline) {
  ClientOptions probe;
  probe.connect_timeout = absl::Milliseconds(500);
  probe.io_timeout = absl::Seconds(2);
  Reply last = Reply::TransportError("not tried");
  while (true) {
    if (!process_->IsRunning()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "slotplane-proxy exited during start-up with ",
          DescribeWaitStatus(*process_->wait_status()), "; log:\n", LastLines(LogText(), 50)));
    }
    absl::StatusOr<std::unique_ptr<TestClient>> client = Connect(probe);
    last = client.ok() ? (*client)->Command({"PING"})
                       : Reply::TransportError(std::string(client.status().message()));
    if (last == Reply::Status("PONG")) return absl::OkStatus();
    // A proxy whose clients must authenticate (requirepass, users) answers too.
    if (last == Reply::Error("NOAUTH Authentication required.")) return absl::OkStatus();
    if (absl::Now() > deadline) break;
    absl::SleepFor(kPollInterval);
  }
  process_->Kill();
  return absl::DeadlineExceededError(absl::StrCat(
      "slotplane-proxy on port ", port_, " does not answer PING (last: ", last.DebugString(),
      "); log:\n", LastLines(LogText(), 50)));
}

ProxyProcess::~ProxyProcess() {
  if (process_ == nullptr || stopped_) return;
  if (!process_->IsRunning()) {
    stopped_ = true;
    ADD_FAILURE() << "slotplane-proxy (pid " << pid()
                  << ") died during the test: " << DescribeWaitStatus(*process_->wait_status());
    PrintLog();
    return;
  }
  const absl::Status stop = Stop();
  EXPECT_TRUE(stop.ok()) << stop;
  if (!stop.ok() || ::testing::Test::HasFailure()) PrintLog();
}

absl::Status ProxyProcess::Stop() {
  if (stopped_) return absl::OkStatus();
  stopped_ = true;
  const int status = process_->Terminate(options_.stop_timeout);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("slotplane-proxy did not stop cleanly on SIGTERM: ",
                                          DescribeWaitStatus(status)));
}

void ProxyProcess::PrintLog(size_t from, size_t max_lines) const {
  const std::string log = LogText();
  const absl::string_view part = from < log.size() ? absl::string_view(log).substr(from) : "";
  std::cerr << "---- slotplane-proxy log (port " << port_ << ", pid " << process_->pid()
            << "), last " << max_lines << " lines";
  if (from > 0) std::cerr << " from byte " << from;
  std::cerr << " ----\n"
            << (part.empty() ? "(empty)" : LastLines(part, max_lines))
            << "\n---- end of slotplane-proxy log ----\n";
}

absl::StatusOr<std::unique_ptr<TestClient>> ProxyProcess::Connect(
    const ClientOptions& options) const {
  return TestClient::Connect("127.0.0.1", port_, options);
}

absl::StatusOr<std::map<std::string, std::string>> ProxyProcess::Info() const {
  absl::StatusOr<std::unique_ptr<TestClient>> client = Connect();
  if (!client.ok()) return client.status();
  const Reply reply = (*client)->Command({"PROXY", "INFO"});
  if (reply.type != Reply::Type::kString) {
    return absl::InternalError(absl::StrCat("PROXY INFO answered ", reply.DebugString()));
  }
  return ParseInfoText(reply.str);
}

absl::StatusOr<int64_t> ProxyProcess::InfoCounter(const std::string& name) const {
  absl::StatusOr<std::map<std::string, std::string>> info = Info();
  if (!info.ok()) return info.status();
  const auto it = info->find(name);
  int64_t value = 0;
  if (it == info->end() || !absl::SimpleAtoi(it->second, &value)) {
    return absl::NotFoundError(absl::StrCat("PROXY INFO has no integer field '", name, "'"));
  }
  return value;
}

}  // namespace slotplane::integration
