#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

struct redisContext;
struct redisReply;

namespace slotplane::integration {

// An owned copy of one RESP2 reply, easy to compare in EXPECTs. Transport failures (connection
// lost, timeout) are a reply of type kTransportError whose `str` says what happened, so a test
// sees them in the same assertion as the Redis answer it expected.
struct Reply {
  enum class Type { kString, kStatus, kError, kInteger, kNil, kArray, kTransportError };

  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError (without the '-'), kTransportError
  long long integer = 0;
  std::vector<Reply> elements;  // kArray

  static Reply String(std::string s) { return Make(Type::kString, std::move(s)); }
  static Reply Status(std::string s) { return Make(Type::kStatus, std::move(s)); }
  static Reply Error(std::string s) { return Make(Type::kError, std::move(s)); }
  static Reply Integer(long long n);
  static Reply Nil() { return Reply(); }
  static Reply Array(std::vector<Reply> elements);
  static Reply TransportError(std::string what) {
    return Make(Type::kTransportError, std::move(what));
  }
  static Reply FromHiredis(const redisReply& reply);

  bool IsError() const { return type == Type::kError || type == Type::kTransportError; }
  // Short, escaped, RESP-like rendering for failure messages.
  std::string DebugString() const;

  bool operator==(const Reply& other) const;
  bool operator!=(const Reply& other) const { return !(*this == other); }

 private:
  static Reply Make(Type type, std::string str);
};

std::ostream& operator<<(std::ostream& os, const Reply& reply);
void PrintTo(const Reply& reply, std::ostream* os);  // gtest uses this in failure messages

struct ClientOptions {
  absl::Duration connect_timeout = absl::Seconds(5);
  // Per read/write; a request that hangs longer becomes a kTransportError reply.
  absl::Duration io_timeout = absl::Seconds(15);
  // Sent with AUTH right after connecting when non-empty.
  std::string password;
};

// A blocking hiredis connection owned by one thread. After a transport error every further
// command returns kTransportError; connect a new client to go on.
class TestClient {
 public:
  static absl::StatusOr<std::unique_ptr<TestClient>> Connect(const std::string& host, uint16_t port,
                                                             const ClientOptions& options = {});
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;
  ~TestClient();

  // Sends one command (binary-safe arguments) and waits for its reply.
  Reply Command(const std::vector<std::string>& argv);

  // Pipelining: Append() buffers commands; the first GetReply() flushes them all, then each call
  // returns the next reply in order.
  void Append(const std::vector<std::string>& argv);
  Reply GetReply();

  // Sends every command in one pipeline and returns the replies in order.
  std::vector<Reply> Pipeline(const std::vector<std::vector<std::string>>& commands);

  bool connected() const;

 private:
  explicit TestClient(redisContext* context) : context_(context) {}
  Reply ContextError() const;

  redisContext* context_;
};

struct ReadResult {
  std::string data;     // everything received during the call
  bool closed = false;  // the peer closed (or reset) the connection, or the terminal hung up
};

// Reads from `fd` (a socket or a pseudo-terminal, blocking or not) until `done(data so far)`
// holds, the peer closes, or `timeout` passes; a timeout is an error only when `done` never held
// and the peer did not close.
absl::StatusOr<ReadResult> ReadFdUntil(int fd, const std::function<bool(absl::string_view)>& done,
                                       absl::Duration timeout);

// A plain TCP connection to 127.0.0.1 for protocol tests: exact bytes out, exact bytes in.
// TCP_NODELAY is on, so each Send() leaves as its own segment.
class RawConnection {
 public:
  static absl::StatusOr<RawConnection> Connect(uint16_t port,
                                               absl::Duration timeout = absl::Seconds(5));
  RawConnection(RawConnection&& other) noexcept;
  RawConnection& operator=(RawConnection&& other) noexcept;
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  ~RawConnection();

  absl::Status Send(absl::string_view bytes);

  // See ReadFdUntil().
  absl::StatusOr<ReadResult> ReadUntil(const std::function<bool(absl::string_view)>& done,
                                       absl::Duration timeout);
  // Reads everything until the peer closes; DeadlineExceeded if it stays open.
  absl::StatusOr<ReadResult> ReadUntilClosed(absl::Duration timeout);
  // Reads until `count` complete RESP2 replies have arrived (or the peer closed).
  absl::StatusOr<ReadResult> ReadReplies(size_t count, absl::Duration timeout);

  // Closes now; with `reset`, with an RST (SO_LINGER 0) instead of a FIN.
  void Close(bool reset = false);

 private:
  explicit RawConnection(int fd) : fd_(fd) {}

  int fd_;
};

// Number of complete RESP2 replies at the start of `data` (stops at the first incomplete one).
size_t CountCompleteReplies(absl::string_view data);

// Encodes a command as a RESP2 multibulk request.
std::string EncodeCommand(const std::vector<std::string>& argv);

}  // namespace slotplane::integration
