// A proxy started with few file descriptors (RLIMIT_NOFILE 256) and the default maxclients
// (10000): at start it lowers maxclients to what the limit allows and says so, as Redis does.
// Flooded with more clients than that, it refuses the extra ones with the max-clients error (or
// closes them) without spinning on accept() or flooding its log, keeps answering the clients it
// has, and takes new clients again once the flood is gone.

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/integration/proxy_process.h"
#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

const auto* const kEnv = [] {
  SharedClusterEnvironment::Options options;
  options.with_proxy = false;
  return SharedClusterEnvironment::Register(options);
}();

constexpr int64_t kOpenFiles = 256;
constexpr int kThreads = 2;
// slotplane-proxy keeps 32 descriptors plus 16 per worker thread aside (MaxClientsForOpenFiles).
constexpr int64_t kMaxClients = kOpenFiles - 32 - 16 * kThreads;
// Clients the test opens at once: well past maxclients (and past the open-files limit).
constexpr int kFlood = kOpenFiles + 64;
constexpr char kMaxClientsError[] = "-ERR max number of clients reached";

// User plus system CPU time the process `pid` has used so far (/proc/PID/stat).
absl::StatusOr<absl::Duration> CpuTime(pid_t pid) {
  std::string stat = ReadFileOrEmpty(absl::StrCat("/proc/", pid, "/stat"));
  // The command name (field 2) may hold spaces; the fields after it start past its ')'.
  size_t end = stat.rfind(')');
  if (end == std::string::npos) return absl::NotFoundError("no /proc/PID/stat");
  std::vector<std::string> fields = absl::StrSplit(stat.substr(end + 2), ' ');
  int64_t utime = 0;
  int64_t stime = 0;
  // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::InternalError(absl::StrCat("cannot parse /proc/PID/stat: ", stat));
  }
  return absl::Seconds(static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK));
}

size_t CountAcceptLines(const std::string& log) {
  size_t count = 0;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (absl::StrContains(line, "accept:")) ++count;
  }
  return count;
}

// What a flooding client got: PONG, the max-clients error or a closed connection, nothing yet
// (left in the listen backlog while the proxy has no descriptor for it), or something else.
enum class Outcome { kServed, kRefused, kWaiting, kOther };

struct Flood {
  std::vector<RawConnection> connections;
  int served = 0;
  int refused = 0;
  int waiting = 0;
};

// Connects one client and sends PING; a connection the kernel refuses counts as refused.
void Knock(uint16_t port, Flood* flood) {
  absl::StatusOr<RawConnection> connection = RawConnection::Connect(port, absl::Seconds(2));
  if (!connection.ok() || !connection->Send(EncodeCommand({"PING"})).ok()) {
    ++flood->refused;
    return;
  }
  flood->connections.push_back(*std::move(connection));
}

Outcome ReadOutcome(RawConnection* connection, absl::Duration timeout) {
  absl::StatusOr<ReadResult> read = connection->ReadReplies(1, timeout);
  if (!read.ok()) return Outcome::kWaiting;
  if (absl::StartsWith(read->data, "+PONG")) return Outcome::kServed;
  if (absl::StartsWith(read->data, kMaxClientsError) || (read->data.empty() && read->closed)) {
    return Outcome::kRefused;
  }
  ADD_FAILURE() << "unexpected reply: " << read->data;
  return Outcome::kOther;
}

// Reads the outcome of every connection of `flood` from `first` on, all within `timeout`.
void ReadOutcomes(Flood* flood, size_t first, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (size_t i = first; i < flood->connections.size(); ++i) {
    absl::Duration left = std::max(deadline - absl::Now(), absl::Milliseconds(10));
    switch (ReadOutcome(&flood->connections[i], left)) {
      case Outcome::kServed:
        ++flood->served;
        break;
      case Outcome::kRefused:
        ++flood->refused;
        break;
      case Outcome::kWaiting:
        ++flood->waiting;
        break;
      case Outcome::kOther:
        break;
    }
  }
}

bool NewClientIsServed(uint16_t port) {
  Flood one;
  Knock(port, &one);
  ReadOutcomes(&one, 0, absl::Seconds(1));
  return one.served == 1;
}

class ProxyFdLimitTest : public SharedClusterTest {
 protected:
  void SetUp() override {
    struct rlimit limit;
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
    // This process holds the whole flood, twice over to be safe.
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < 2 * kFlood + 64) {
      if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < 2 * kFlood + 64) {
        GTEST_SKIP() << "the test needs " << 2 * kFlood + 64 << " open files";
      }
      limit.rlim_cur = 2 * kFlood + 64;
      ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
    }
    ProxyOptions options;
    options.seeds = cluster().addresses();
    options.threads = kThreads;
    options.max_open_files = kOpenFiles;
    options.extra_args = {"--maxclients", "10000"};
    ASSERT_OK_AND_ASSIGN(proxy_, ProxyProcess::Start(options));
  }

  std::unique_ptr<ProxyProcess> proxy_;
};

TEST_F(ProxyFdLimitTest, MaxclientsIsLoweredToTheOpenFilesLimit) {
  EXPECT_TRUE(absl::StrContains(proxy_->LogText(), "maxclients 10000 needs")) << proxy_->LogText();
  EXPECT_TRUE(absl::StrContains(proxy_->LogText(), absl::StrCat("may open only ", kOpenFiles)));
  EXPECT_TRUE(
      absl::StrContains(proxy_->LogText(), absl::StrCat("maxclients reduced to ", kMaxClients)));
  ASSERT_OK_AND_ASSIGN(auto client, proxy_->Connect());
  Reply got = client->Command({"PROXY", "CONFIG", "GET", "maxclients"});
  EXPECT_EQ(got,
            Reply::Array({Reply::String("maxclients"), Reply::String(absl::StrCat(kMaxClients))}))
      << got.DebugString();
  ASSERT_OK_AND_ASSIGN(auto info, proxy_->Info());
  EXPECT_EQ(info["max_clients"], absl::StrCat(kMaxClients));
  // Asking for more than the limit allows is refused, as Redis's CONFIG SET maxclients is.
  Reply set = client->Command({"PROXY", "CONFIG", "SET", "maxclients", "10000"});
  EXPECT_TRUE(set.IsError()) << set.DebugString();
}

// Floods the proxy with kFlood clients, keeps it full for ~2 s while more knock, and checks the
// proxy's CPU time and log, the steady client, and that new clients get in once the flood is
// gone. Returns what the flooding clients got.
Flood FloodAndCheck(const ProxyProcess& proxy, TestClient* steady) {
  EXPECT_EQ(steady->Command({"SET", "fdlimit:key", "v"}), Reply::Status("OK"));
  const size_t log_before = proxy.LogText().size();
  absl::StatusOr<absl::Duration> cpu_before = CpuTime(proxy.pid());
  EXPECT_TRUE(cpu_before.ok()) << cpu_before.status();
  const absl::Time start = absl::Now();

  Flood flood;
  for (int i = 0; i < kFlood; ++i) Knock(proxy.port(), &flood);
  ReadOutcomes(&flood, 0, absl::Seconds(3));
  // Keep the proxy full for ~2 s more while new clients keep knocking, one every 20 ms.
  const absl::Time knock_end = absl::Now() + absl::Seconds(2);
  for (int i = 0; i < 100 && absl::Now() < knock_end; ++i) {
    Knock(proxy.port(), &flood);
    ReadOutcomes(&flood, flood.connections.size() - 1, absl::Milliseconds(20));
    EXPECT_EQ(steady->Command({"GET", "fdlimit:key"}), Reply::String("v"));
    absl::SleepFor(absl::Milliseconds(20));  // paces the knocks; waits for nothing
  }
  const absl::Duration elapsed = absl::Now() - start;
  absl::StatusOr<absl::Duration> cpu_after = CpuTime(proxy.pid());
  EXPECT_TRUE(cpu_after.ok()) << cpu_after.status();

  if (cpu_before.ok() && cpu_after.ok()) {
    EXPECT_LT(*cpu_after - *cpu_before, absl::Seconds(1)) << "over " << elapsed;
  }
  const size_t accept_lines = CountAcceptLines(proxy.LogText().substr(log_before));
  // At most one line per second per worker.
  EXPECT_LE(accept_lines, static_cast<size_t>(kThreads * (absl::ToInt64Seconds(elapsed) + 2)));
  EXPECT_EQ(steady->Command({"GET", "fdlimit:key"}), Reply::String("v"));

  flood.connections.clear();
  EXPECT_TRUE(WaitFor([&] { return NewClientIsServed(proxy.port()); }, absl::Seconds(10)))
      << "a new client is still not served";
  return flood;
}

TEST_F(ProxyFdLimitTest, MoreClientsThanMaxclientsAreRefusedWithoutSpinning) {
  ASSERT_OK_AND_ASSIGN(auto steady, proxy_->Connect());
  Flood flood = FloodAndCheck(*proxy_, steady.get());
  // The steady client is one of the kMaxClients.
  EXPECT_EQ(flood.served, kMaxClients - 1);
  EXPECT_GE(flood.refused, kFlood - kMaxClients);
  EXPECT_EQ(flood.waiting, 0);
}

// The open-files limit lowered under a running proxy (prlimit), below its maxclients: accept()
// fails with EMFILE, and the proxy pauses its listeners instead of spinning on them.
TEST_F(ProxyFdLimitTest, RunningOutOfDescriptorsPausesAccepting) {
  ASSERT_OK_AND_ASSIGN(auto steady, proxy_->Connect());
  constexpr int64_t kLowered = kOpenFiles / 2;
  struct rlimit limit;
  limit.rlim_cur = limit.rlim_max = static_cast<rlim_t>(kLowered);
  ASSERT_EQ(prlimit(proxy_->pid(), RLIMIT_NOFILE, &limit, nullptr), 0) << std::strerror(errno);
  Flood flood = FloodAndCheck(*proxy_, steady.get());
  EXPECT_GT(flood.served, 0);
  EXPECT_LT(flood.served, kLowered);
  // The rest wait in the listen backlog until a descriptor frees up (as with Redis).
  EXPECT_GT(flood.waiting + flood.refused, kFlood - kLowered);
  EXPECT_TRUE(absl::StrContains(proxy_->LogText(), "Too many open files")) << proxy_->LogText();
}

}  // namespace
}  // namespace slotplane::integration
