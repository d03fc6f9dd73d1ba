#include "tests/integration/test_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace slotplane::integration {
namespace {

constexpr size_t kDebugStringLimit = 200;

// A peer that closes while we write must surface as an error, not kill the test binary.
void IgnoreSigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
}

std::string Escape(absl::string_view bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < kDebugStringLimit; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '"' || c == '\\') {
      absl::StrAppend(&out, "\\", std::string(1, static_cast<char>(c)));
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    }
  }
  if (bytes.size() > kDebugStringLimit) absl::StrAppend(&out, "...(", bytes.size(), " bytes)");
  return out;
}

int RemainingMillis(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(left)));
}

// End offset of the RESP2 value starting at `pos`, or nullopt if `data` ends before it does.
std::optional<size_t> ParseReply(absl::string_view data, size_t pos, int depth = 0) {
  if (pos >= data.size() || depth > 64) return std::nullopt;
  const size_t eol = data.find("\r\n", pos);
  if (eol == absl::string_view::npos) return std::nullopt;
  const char kind = data[pos];
  if (kind != '$' && kind != '*') return eol + 2;  // +status, -error, :integer
  long long n = 0;
  if (!absl::SimpleAtoi(data.substr(pos + 1, eol - pos - 1), &n)) return eol + 2;
  if (n < 0) return eol + 2;  // nil
  size_t end = eol + 2;
  if (kind == '$') {
    end += static_cast<size_t>(n) + 2;
    return end <= data.size() ? std::optional<size_t>(end) : std::nullopt;
  }
  for (long long i = 0; i < n; ++i) {
    const std::optional<size_t> next = ParseReply(data, end, depth + 1);
    if (!next.has_value()) return std::nullopt;
    end = *next;
  }
  return end;
}

}  // namespace

Reply Reply::Make(Type type, std::string str) {
  Reply reply;
  reply.type = type;
  reply.str = std::move(str);
  return reply;
}

Reply Reply::Integer(long long n) {
  Reply reply;
  reply.type = Type::kInteger;
  reply.integer = n;
  return reply;
}

Reply Reply::Array(std::vector<Reply> elements) {
  Reply reply;
  reply.type = Type::kArray;
  reply.elements = std::move(elements);
  return reply;
}

Reply Reply::FromHiredis(const redisReply& reply) {
  switch (reply.type) {
    case REDIS_REPLY_STRING:
      return String(std::string(reply.str, reply.len));
    case REDIS_REPLY_STATUS:
      return Status(std::string(reply.str, reply.len));
    case REDIS_REPLY_ERROR:
      return Error(std::string(reply.str, reply.len));
    case REDIS_REPLY_INTEGER:
      return Integer(reply.integer);
    case REDIS_REPLY_ARRAY: {
      std::vector<Reply> elements;
      elements.reserve(reply.elements);
      for (size_t i = 0; i < reply.elements; ++i) {
        elements.push_back(FromHiredis(*reply.element[i]));
      }
      return Array(std::move(elements));
    }
    case REDIS_REPLY_NIL:
    default:
      return Nil();
  }
}

std::string Reply::DebugString() const {
  switch (type) {
    case Type::kString:
      return absl::StrCat("\"", Escape(str), "\"");
    case Type::kStatus:
      return absl::StrCat("+", Escape(str));
    case Type::kError:
      return absl::StrCat("-", Escape(str));
    case Type::kInteger:
      return absl::StrCat(":", integer);
    case Type::kNil:
      return "(nil)";
    case Type::kTransportError:
      return absl::StrCat("<transport error: ", str, ">");
    case Type::kArray:
      break;
  }
  std::string out = "[";
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out += ", ";
    if (i == 20) {
      absl::StrAppend(&out, "...(", elements.size(), " elements)");
      break;
    }
    out += elements[i].DebugString();
  }
  return out + "]";
}

bool Reply::operator==(const Reply& other) const {
  if (type != other.type) return false;
  switch (type) {
    case Type::kInteger:
      return integer == other.integer;
    case Type::kNil:
      return true;
    case Type::kArray:
      return elements == other.elements;
    default:
      return str == other.str;
  }
}

std::ostream& operator<<(std::ostream& os, const Reply& reply) { return os << reply.DebugString(); }

void PrintTo(const Reply& reply, std::ostream* os) { *os << reply.DebugString(); }

absl::StatusOr<std::unique_ptr<TestClient>> TestClient::Connect(const std::string& host,
                                                                uint16_t port,
                                                                const ClientOptions& options) {
  IgnoreSigpipe();
  redisContext* context =
      redisConnectWithTimeout(host.c_str(), port, absl::ToTimeval(options.connect_timeout));
  const std::string where = absl::StrCat(host, ":", port);
  if (context == nullptr) return absl::ResourceExhaustedError("cannot allocate hiredis context");
  if (context->err != 0) {
    const std::string error = context->errstr;
    redisFree(context);
    return absl::UnavailableError(absl::StrCat("connect to ", where, ": ", error));
  }
  if (redisSetTimeout(context, absl::ToTimeval(options.io_timeout)) != REDIS_OK) {
    redisFree(context);
    return absl::InternalError(absl::StrCat("set timeout on connection to ", where));
  }
  auto client = std::unique_ptr<TestClient>(new TestClient(context));
  if (!options.password.empty()) {
    const Reply auth = client->Command({"AUTH", options.password});
    if (auth != Reply::Status("OK")) {
      return absl::PermissionDeniedError(absl::StrCat("AUTH on ", where, ": ", auth.DebugString()));
    }
  }
  return client;
}

TestClient::~TestClient() { redisFree(context_); }

Reply TestClient::ContextError() const {
  return Reply::TransportError(context_->err != 0 ? context_->errstr : "unknown hiredis error");
}

bool TestClient::connected() const { return context_->err == 0; }

Reply TestClient::Command(const std::vector<std::string>& argv) {
  Append(argv);
  return GetReply();
}

void TestClient::Append(const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  args.reserve(argv.size());
  lengths.reserve(argv.size());
  for (const std::string& arg : argv) {
    args.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  // Errors (only allocation failures here) show up in the context and thus in GetReply().
  redisAppendCommandArgv(context_, static_cast<int>(args.size()), args.data(), lengths.data());
}

Reply TestClient::GetReply() {
  if (context_->err != 0) return ContextError();
  void* raw = nullptr;
  if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) return ContextError();
  Reply reply = Reply::FromHiredis(*static_cast<redisReply*>(raw));
  freeReplyObject(raw);
  return reply;
}

std::vector<Reply> TestClient::Pipeline(const std::vector<std::vector<std::string>>& commands) {
  for (const auto& argv : commands) Append(argv);
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) replies.push_back(GetReply());
  return replies;
}

absl::StatusOr<RawConnection> RawConnection::Connect(uint16_t port, absl::Duration timeout) {
  IgnoreSigpipe();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  RawConnection conn(fd);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      return absl::UnavailableError(
          absl::StrCat("connect to port ", port, ": ", std::strerror(errno)));
    }
    pollfd pfd{fd, POLLOUT, 0};
    if (::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) != 1) {
      return absl::DeadlineExceededError(absl::StrCat("connect to port ", port, " timed out"));
    }
    int error = 0;
    socklen_t len = sizeof(error);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
      return absl::UnavailableError(
          absl::StrCat("connect to port ", port, ": ", std::strerror(error)));
    }
  }
  return conn;
}

RawConnection::RawConnection(RawConnection&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

RawConnection& RawConnection::operator=(RawConnection&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

RawConnection::~RawConnection() { Close(); }

void RawConnection::Close(bool reset) {
  if (fd_ < 0) return;
  if (reset) {
    linger lin{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
  }
  ::close(fd_);
  fd_ = -1;
}

absl::Status RawConnection::Send(absl::string_view bytes) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
    }
    pollfd pfd{fd_, POLLOUT, 0};
    if (::poll(&pfd, 1, RemainingMillis(deadline)) <= 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("send: peer not reading, ", bytes.size(), " bytes left"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ReadResult> ReadFdUntil(int fd, const std::function<bool(absl::string_view)>& done,
                                       absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  ReadResult result;
  char buffer[64 * 1024];
  while (!done(result.data)) {
    pollfd pfd{fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, RemainingMillis(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      return absl::DeadlineExceededError(absl::StrCat("read timed out after ",
                                                      absl::FormatDuration(timeout),
                                                      "; received: \"", Escape(result.data), "\""));
    }
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n > 0) {
      result.data.append(buffer, static_cast<size_t>(n));
    } else if (n == 0 || errno == ECONNRESET || errno == EIO) {  // EIO: the terminal hung up
      result.closed = true;
      break;
    } else if (errno != EAGAIN && errno != EINTR) {
      return absl::UnavailableError(absl::StrCat("read: ", std::strerror(errno)));
    }
  }
  return result;
}

absl::StatusOr<ReadResult> RawConnection::ReadUntil(
    const std::function<bool(absl::string_view)>& done, absl::Duration timeout) {
  return ReadFdUntil(fd_, done, timeout);
}

absl::StatusOr<ReadResult> RawConnection::ReadUntilClosed(absl::Duration timeout) {
  return ReadUntil([](absl::string_view) { return false; }, timeout);
}

absl::StatusOr<ReadResult> RawConnection::ReadReplies(size_t count, absl::Duration timeout) {
  return ReadUntil([count](absl::string_view data) { return CountCompleteReplies(data) >= count; },
                   timeout);
}

size_t CountCompleteReplies(absl::string_view data) {
  size_t count = 0;
  size_t pos = 0;
  while (pos < data.size()) {
    const std::optional<size_t> end = ParseReply(data, pos);
    if (!end.has_value()) break;
    pos = *end;
    ++count;
  }
  return count;
}

std::string EncodeCommand(const std::vector<std::string>& argv) {
  std::string out = absl::StrCat("*", argv.size(), "\r\n");
  for (const std::string& arg : argv) absl::StrAppend(&out, "$", arg.size(), "\r\n", arg, "\r\n");
  return out;
}

}  // namespace slotplane::integration
