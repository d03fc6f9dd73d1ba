// Unmodified Redis tools through the proxy: interactive redis-cli 7 (which probes with COMMAND
// DOCS), redis-benchmark and redis-cli --pipe mass insertion.

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = SharedClusterEnvironment::Register({});

constexpr absl::Duration kToolTimeout = absl::Seconds(120);
constexpr absl::Duration kScreenTimeout = absl::Seconds(10);

// An interactive program on a pseudo-terminal: type lines, wait for text on its screen.
class Terminal {
 public:
  explicit Terminal(std::unique_ptr<ChildProcess> process) : process_(std::move(process)) {}

  absl::Status Type(const std::string& line) {
    const std::string keys = line + "\r";  // Enter
    if (::write(process_->pty_fd(), keys.data(), keys.size()) !=
        static_cast<ssize_t>(keys.size())) {
      return absl::UnavailableError("write to the terminal failed");
    }
    return absl::OkStatus();
  }

  // Waits until `text` appears on the screen after the previous match, and moves past it.
  absl::Status WaitForText(const std::string& text) {
    const auto found = [&](absl::string_view more) {
      return absl::StrContains(absl::StrCat(absl::string_view(screen_).substr(cursor_), more),
                               text);
    };
    absl::StatusOr<ReadResult> read = ReadFdUntil(process_->pty_fd(), found, kScreenTimeout);
    if (!read.ok()) return read.status();
    screen_ += read->data;
    const size_t at = screen_.find(text, cursor_);
    if (at == std::string::npos) {
      return absl::NotFoundError(absl::StrCat("\"", text, "\" not on screen: ", screen_));
    }
    cursor_ = at + text.size();
    return absl::OkStatus();
  }

  const std::string& screen() const { return screen_; }
  ChildProcess& process() { return *process_; }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string screen_;  // everything the program wrote
  size_t cursor_ = 0;   // end of the last match in screen_
};

class ProxyClientsTest : public SharedClusterTest {
 protected:
  void SetUp() override {
    SharedClusterTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_OK_AND_ASSIGN(work_dir_, TempDir::Create("slotplane-clients"));
  }

  std::string Port() { return absl::StrCat(proxy().port()); }

  std::optional<TempDir> work_dir_;  // for tool output and input files
};

TEST_F(ProxyClientsTest, InteractiveRedisCli) {
  SpawnOptions spawn;
  spawn.argv = {"redis-cli", "-h", "127.0.0.1", "-p", Port()};
  spawn.use_pty = true;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ChildProcess> process, ChildProcess::Spawn(spawn));
  Terminal terminal(std::move(process));
  const std::string prompt = absl::StrCat("127.0.0.1:", Port(), "> ");

  // redis-cli flushes typed-ahead input when it shows its prompt: type only after it appears.
  ASSERT_OK(terminal.WaitForText(prompt));
  ASSERT_OK(terminal.Type("SET foo bar"));
  // Whole output lines: the typing hints (from COMMAND DOCS) must not count.
  ASSERT_OK(terminal.WaitForText("\nOK\r\n"));
  ASSERT_OK(terminal.WaitForText(prompt));
  ASSERT_OK(terminal.Type("GET foo"));
  ASSERT_OK(terminal.WaitForText("\n\"bar\"\r\n"));
  ASSERT_OK(terminal.WaitForText(prompt));
  ASSERT_OK(terminal.Type("quit"));
  const std::optional<int> status = terminal.process().WaitForExit(kScreenTimeout);
  ASSERT_TRUE(status.has_value()) << "redis-cli did not quit; screen:\n" << terminal.screen();
  EXPECT_EQ(DescribeWaitStatus(*status), "exit code 0");
  EXPECT_FALSE(absl::StrContains(terminal.screen(), "(error)") ||
               absl::StrContains(terminal.screen(), "Error"))
      << terminal.screen();
  EXPECT_TRUE(proxy().IsAlive()) << "the proxy died serving interactive redis-cli";

  // The value really is in the cluster.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy().Connect());
  EXPECT_EQ(client->Command({"GET", "foo"}), Reply::String("bar"));
}

TEST_F(ProxyClientsTest, RedisBenchmark) {
  ASSERT_OK_AND_ASSIGN(
      const CommandResult result,
      RunCommand({"redis-benchmark", "-h", "127.0.0.1", "-p", Port(), "-t", "set,get,incr,lpush",
                  "-n", "20000", "-c", "20", "-r", "100000", "-q"},
                 work_dir_->path(), kToolTimeout));
  EXPECT_TRUE(result.Succeeded()) << DescribeWaitStatus(result.wait_status) << "\n"
                                  << result.output;
  // -q prints progress lines ending in '\r' and one final line per test.
  const std::regex summary(R"(^(SET|GET|INCR|LPUSH): ([0-9]+(\.[0-9]+)?) requests per second)");
  std::set<std::string> reported;
  for (absl::string_view line : absl::StrSplit(result.output, absl::ByAnyChar("\r\n"))) {
    const std::string text(line);
    EXPECT_FALSE(absl::StrContains(text, "ERR") || absl::StrContains(text, "Error")) << text;
    std::smatch match;
    if (std::regex_search(text, match, summary) && std::stod(match[2]) > 0) {
      reported.insert(match[1]);
    }
  }
  EXPECT_EQ(reported, (std::set<std::string>{"SET", "GET", "INCR", "LPUSH"})) << result.output;
}

TEST_F(ProxyClientsTest, RedisCliPipeMassInsert) {
  constexpr int kCommands = 10000;
  const std::string input = work_dir_->File("mass-insert.resp");
  {
    std::ofstream out(input, std::ios::binary);
    for (int i = 0; i < kCommands; ++i) {
      out << EncodeCommand({"SET", absl::StrCat("pipe:", i), absl::StrCat("value ", i)});
    }
  }
  ASSERT_OK_AND_ASSIGN(const CommandResult result,
                       RunCommand({"redis-cli", "-h", "127.0.0.1", "-p", Port(), "--pipe"},
                                  work_dir_->path(), kToolTimeout, input));
  EXPECT_TRUE(result.Succeeded()) << DescribeWaitStatus(result.wait_status) << "\n"
                                  << result.output;
  EXPECT_TRUE(absl::StrContains(result.output, absl::StrCat("errors: 0, replies: ", kCommands)))
      << result.output;

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestClient> client, proxy().Connect());
  std::vector<std::vector<std::string>> gets;
  std::vector<Reply> expected;
  for (int i = 0; i < kCommands; ++i) {
    gets.push_back({"GET", absl::StrCat("pipe:", i)});
    expected.push_back(Reply::String(absl::StrCat("value ", i)));
  }
  EXPECT_EQ(client->Pipeline(gets), expected);
}

}  // namespace
}  // namespace slotplane::integration
