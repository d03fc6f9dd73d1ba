#include "tests/integration/test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace slotplane::integration {

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout,
             absl::Duration interval) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(interval);
  }
  return condition();
}

absl::Status WaitForOk(const std::function<absl::Status()>& check, absl::Duration timeout,
                       absl::Duration interval) {
  absl::Status last;
  WaitFor([&] { return (last = check()).ok(); }, timeout, interval);
  if (last.ok()) return last;
  return absl::DeadlineExceededError(absl::StrCat(
      "condition still false after ", absl::FormatDuration(timeout), ": ", last.message()));
}

absl::StatusOr<TempDir> TempDir::Create(absl::string_view prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/", prefix, ".XXXXXX");
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp(", pattern, "): ", std::strerror(errno)));
  }
  return TempDir(std::string(buffer.data()));
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    Remove();
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

TempDir::~TempDir() { Remove(); }

void TempDir::Remove() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
  path_.clear();
}

std::string TempDir::File(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

namespace {

constexpr uint16_t kFirstPort = 40000;
constexpr uint16_t kPortLimit = 54000;  // exclusive
constexpr uint16_t kClusterBusOffset = 10000;
constexpr int kMaxPortAttempts = 200;

// True when nothing is bound to 127.0.0.1:port. SO_REUSEADDR is not set, so a port still in
// TIME_WAIT counts as busy: conservative, and there are plenty of ports.
bool CanBind(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

absl::StatusOr<uint16_t> PickFreePort(bool with_cluster_bus) {
  static std::mutex mu;
  static std::set<uint16_t>* const handed_out = new std::set<uint16_t>();
  static std::mt19937 rng(std::random_device{}());

  std::lock_guard<std::mutex> lock(mu);
  std::uniform_int_distribution<int> dist(kFirstPort, kPortLimit - 1);
  for (int attempt = 0; attempt < kMaxPortAttempts; ++attempt) {
    const auto port = static_cast<uint16_t>(dist(rng));
    const auto bus = static_cast<uint16_t>(port + kClusterBusOffset);
    if (handed_out->count(port) > 0 || handed_out->count(bus) > 0) continue;
    if (!CanBind(port) || (with_cluster_bus && !CanBind(bus))) continue;
    handed_out->insert(port);
    handed_out->insert(bus);  // reserved either way: a later node's bus must not land on it
    return port;
  }
  return absl::ResourceExhaustedError(absl::StrCat("no free loopback port in [", kFirstPort, ", ",
                                                   kPortLimit, ") after ", kMaxPortAttempts,
                                                   " attempts"));
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::map<std::string, std::string> ParseInfoText(absl::string_view text) {
  std::map<std::string, std::string> fields;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripSuffix(line, "\r");
    const size_t colon = line.find(':');
    if (line.empty() || line[0] == '#' || colon == absl::string_view::npos) continue;
    fields.emplace(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  return fields;
}

std::string LastLines(absl::string_view text, size_t max_lines) {
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;  // a trailing newline does not start a line
  for (size_t lines = 0; pos > 0; --pos) {
    if (text[pos - 1] == '\n' && ++lines == max_lines) break;
  }
  return std::string(text.substr(pos));
}

std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(size, '\0');
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    const uint64_t word = rng();
    std::memcpy(&out[i], &word, 8);
  }
  for (; i < size; ++i) out[i] = static_cast<char>(rng());
  return out;
}

}  // namespace slotplane::integration
