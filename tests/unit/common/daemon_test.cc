#include "common/daemon.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

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

TEST(DaemonTest, TakeCheckConfigFlagRemovesItWherever) {
  std::vector<std::string> words = {"prog", "--port", "1", "--check-config", "-c", "f"};
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  int argc = static_cast<int>(words.size());
  EXPECT_TRUE(TakeCheckConfigFlag(&argc, argv.data()));
  ASSERT_EQ(argc, 5);
  EXPECT_STREQ(argv[3], "-c");
  EXPECT_STREQ(argv[4], "f");
  EXPECT_EQ(argv[5], nullptr);
  EXPECT_FALSE(TakeCheckConfigFlag(&argc, argv.data()));
  EXPECT_EQ(argc, 5);
}

struct FakeOptions {
  int value = 0;
  ProcessOptions Process() const { return {}; }
};

// `prog [--check-config] VALUE`: VALUE < 0 is a parse error, VALUE == 13 fails the offline check.
DaemonSpec<FakeOptions> FakeSpec(bool* created) {
  DaemonSpec<FakeOptions> spec;
  spec.program = "test";
  spec.parse = [](int argc, const char* const* argv) -> absl::StatusOr<FakeOptions> {
    if (argc != 2) return absl::InvalidArgumentError("one value");
    FakeOptions options{std::atoi(argv[1])};
    if (options.value < 0) return absl::InvalidArgumentError("negative");
    return options;
  };
  spec.check_offline = [](const FakeOptions& options) {
    return options.value == 13 ? absl::NotFoundError("cannot read file 13") : absl::OkStatus();
  };
  spec.create = [created](const FakeOptions&) -> std::unique_ptr<Service> {
    *created = true;
    return nullptr;
  };
  return spec;
}

int RunMain(const DaemonSpec<FakeOptions>& spec, std::vector<std::string> words) {
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  return DaemonMain(static_cast<int>(words.size()), argv.data(), spec);
}

TEST(DaemonTest, CheckConfigParsesAndChecksWithoutStartingTheService) {
  bool created = false;
  const DaemonSpec<FakeOptions> spec = FakeSpec(&created);
  EXPECT_EQ(RunMain(spec, {"prog", "--check-config", "7"}), 0);
  EXPECT_EQ(RunMain(spec, {"prog", "7", "--check-config"}), 0);
  EXPECT_EQ(RunMain(spec, {"prog", "--check-config", "-1"}), 1) << "a parse error";
  EXPECT_EQ(RunMain(spec, {"prog", "--check-config", "13"}), 1) << "the offline check";
  EXPECT_EQ(RunMain(spec, {"prog", "--check-config"}), 1) << "missing value";
  EXPECT_FALSE(created);
}

TEST(DaemonTest, ConfigCheckOutcome) {
  EXPECT_EQ(ReportConfigCheck("test", absl::OkStatus()), 0);
  EXPECT_EQ(ReportConfigCheck("test", absl::CancelledError("")), 0) << "--help";
  EXPECT_EQ(ReportConfigCheck("test", absl::InvalidArgumentError("bad")), 1);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Rotates the log file as logrotate does (rename, then SIGHUP), then asks to stop.
class RotatingService : public Service {
 public:
  explicit RotatingService(std::string logfile) : logfile_(std::move(logfile)) {}
  absl::Status Start() override {
    SP_LOG(kWarning) << "before rotation";
    if (std::rename(logfile_.c_str(), (logfile_ + ".1").c_str()) != 0) {
      return absl::InternalError("rename");
    }
    // Both are pending when the waiting thread looks; SIGHUP (1) is taken before SIGTERM (15).
    kill(getpid(), SIGHUP);
    RequestStop();
    return absl::OkStatus();
  }
  void Stop() override { SP_LOG(kWarning) << "after rotation"; }

 private:
  const std::string logfile_;
};

TEST(DaemonTest, SighupReopensTheLogFileAndKeepsRunning) {
  const std::string logfile = "/tmp/slotplane-daemon-test-log-" + std::to_string(getpid());
  std::remove(logfile.c_str());
  std::remove((logfile + ".1").c_str());
  const int code = RunDaemon("test", {LogLevel::kInfo, logfile, "", false},
                             [&] { return std::make_unique<RotatingService>(logfile); });
  SetLogFile("");  // back to stderr for the other tests
  EXPECT_EQ(code, 0);
  const std::string rotated = ReadAll(logfile + ".1");
  const std::string current = ReadAll(logfile);
  EXPECT_NE(rotated.find("before rotation"), std::string::npos) << rotated;
  EXPECT_EQ(rotated.find("after rotation"), std::string::npos) << rotated;
  EXPECT_NE(current.find("SIGHUP: log file reopened"), std::string::npos) << current;
  EXPECT_NE(current.find("after rotation"), std::string::npos) << current;
  EXPECT_NE(current.find("shutting down"), std::string::npos) << current;
  std::remove(logfile.c_str());
  std::remove((logfile + ".1").c_str());
}

}  // namespace
}  // namespace slotplane
