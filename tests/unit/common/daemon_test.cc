#include "common/daemon.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace slotplane {
namespace {

// Starts by checking the pidfile, then fails or asks to stop at once.
class FakeService : public Service {
 public:
  FakeService(std::string pidfile, absl::Status start, std::string* trace)
      : pidfile_(std::move(pidfile)), start_(std::move(start)), trace_(trace) {}
  ~FakeService() override { *trace_ += "destroyed;"; }

  absl::Status Start() override {
    std::ifstream in(pidfile_);
    std::stringstream pid;
    pid << in.rdbuf();
    *trace_ += "started with pidfile " + pid.str() + ";";
    if (start_.ok()) RequestStop();
    return start_;
  }
  void Stop() override { *trace_ += "stopped;"; }

 private:
  const std::string pidfile_;
  const absl::Status start_;
  std::string* trace_;
};

std::string PidfilePath() { return "/tmp/slotplane-daemon-test-" + std::to_string(getpid()); }

TEST(DaemonTest, RunsTheServiceUntilAStopSignal) {
  const std::string pidfile = PidfilePath();
  std::string trace;
  const int code = RunDaemon("test", {LogLevel::kWarning, "", pidfile, false}, [&] {
    return std::make_unique<FakeService>(pidfile, absl::OkStatus(), &trace);
  });
  EXPECT_EQ(code, 0);
  EXPECT_EQ(trace, "started with pidfile " + std::to_string(getpid()) + "\n;stopped;destroyed;");
  EXPECT_NE(access(pidfile.c_str(), F_OK), 0) << "the pidfile is removed";
}

TEST(DaemonTest, AFailedStartIsExitCodeOne) {
  const std::string pidfile = PidfilePath();
  std::string trace;
  const int code = RunDaemon("test", {LogLevel::kError, "", pidfile, false}, [&] {
    return std::make_unique<FakeService>(pidfile, absl::UnavailableError("port in use"), &trace);
  });
  EXPECT_EQ(code, 1);
  EXPECT_EQ(trace.find("stopped"), std::string::npos) << trace;
  EXPECT_NE(trace.find("destroyed"), std::string::npos) << trace;
  EXPECT_NE(access(pidfile.c_str(), F_OK), 0);
}

TEST(DaemonTest, SetUpErrorsComeBeforeTheService) {
  bool created = false;
  auto create = [&]() -> std::unique_ptr<Service> {
    created = true;
    return nullptr;
  };
  EXPECT_EQ(RunDaemon("test", {LogLevel::kInfo, "/nonexistent/dir/log", "", false}, create), 1);
  EXPECT_EQ(RunDaemon("test", {LogLevel::kInfo, "", "/nonexistent/dir/pid", false}, create), 1);
  EXPECT_FALSE(created);
}

TEST(DaemonTest, CommandLineOutcome) {
  EXPECT_EQ(ReportCommandLine("test", absl::CancelledError("")), 0) << "--help, --version";
  EXPECT_EQ(ReportCommandLine("test", absl::InvalidArgumentError("bad")), 1);
}

}  // namespace
}  // namespace slotplane
