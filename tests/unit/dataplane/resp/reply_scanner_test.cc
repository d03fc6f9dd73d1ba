#include "dataplane/resp/reply_scanner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// GCC sees the malloc/free pair below through inlined std::allocator calls and warns; the pair
// is consistent.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

// Counts heap allocations: the scanner must never allocate.
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) std::abort();
  return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace slotplane::dataplane {
namespace {

using namespace std::string_literals;  // "..."s keeps embedded NULs

struct Frame {
  size_t size;
  char type;
  bool operator==(const Frame& other) const { return size == other.size && type == other.type; }
};

std::ostream& operator<<(std::ostream& os, const Frame& frame) {
  return os << "'" << frame.type << "'[" << frame.size << "]";
}

struct Outcome {
  std::vector<Frame> frames;
  ScanStatus last = ScanStatus::kNeedMore;
  std::string error;
  size_t leftover = 0;

  bool operator==(const Outcome& other) const {
    return frames == other.frames && last == other.last && error == other.error &&
           leftover == other.leftover;
  }
};

std::ostream& operator<<(std::ostream& os, const Outcome& outcome) {
  for (const Frame& frame : outcome.frames) os << frame << " ";
  return os << "last=" << static_cast<int>(outcome.last) << " error=\"" << outcome.error
            << "\" leftover=" << outcome.leftover;
}

// Plays a backend connection: every Scan call gets a freshly allocated copy of exactly the pending
// bytes, so the buffer moves between calls and AddressSanitizer catches any over-read.
Outcome Feed(const std::vector<std::string_view>& chunks) {
  ReplyScanner scanner;
  std::string pending;
  Outcome outcome;
  for (std::string_view chunk : chunks) {
    pending.append(chunk);
    for (;;) {
      auto copy = std::make_unique<char[]>(pending.size() + (pending.empty() ? 1 : 0));
      pending.copy(copy.get(), pending.size());
      const ScanStatus status = scanner.Scan(copy.get(), pending.size());
      if (status == ScanStatus::kComplete) {
        EXPECT_GT(scanner.frame_size(), 0u);
        EXPECT_LE(scanner.frame_size(), pending.size());
        outcome.frames.push_back({scanner.frame_size(), scanner.frame_type()});
        pending.erase(0, scanner.frame_size());
        continue;
      }
      if (status == ScanStatus::kError) {
        outcome.last = ScanStatus::kError;
        outcome.error = scanner.error();
        EXPECT_EQ(scanner.Scan(copy.get(), pending.size()), ScanStatus::kError);  // sticky
        return outcome;
      }
      break;
    }
  }
  outcome.leftover = pending.size();
  return outcome;
}

std::vector<std::string_view> Bytes(std::string_view input) {
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
  return bytes;
}

// Every two-way split and byte by byte must give `expected`.
void ExpectEverySplit(std::string_view input, const Outcome& expected) {
  for (size_t split = 0; split <= input.size(); ++split) {
    SCOPED_TRACE("split at " + std::to_string(split));
    ASSERT_EQ(Feed({input.substr(0, split), input.substr(split)}), expected);
  }
  SCOPED_TRACE("byte by byte");
  EXPECT_EQ(Feed(Bytes(input)), expected);
}

// A stream that ends after whole frames, with `leftover` bytes of a partial one.
Outcome Frames(std::vector<Frame> frames, size_t leftover = 0) {
  Outcome outcome;
  outcome.frames = std::move(frames);
  outcome.leftover = leftover;
  return outcome;
}

// `input` is exactly one frame: every proper prefix is kNeedMore, the whole is kComplete.
void ExpectFrame(std::string_view input) {
  SCOPED_TRACE(std::string(input));
  ExpectEverySplit(input, Frames({Frame{input.size(), input[0]}}));
  // With more bytes after it, only the first frame is reported.
  const std::string followed = std::string(input) + "+NEXT\r\n";
  ReplyScanner scanner;
  ASSERT_EQ(scanner.Scan(followed.data(), followed.size()), ScanStatus::kComplete);
  EXPECT_EQ(scanner.frame_size(), input.size());
}

// How many bytes are buffered when the error is seen depends on the split, so an error outcome
// does not record a leftover.
Outcome Error(std::string reason, std::vector<Frame> before = {}) {
  Outcome outcome;
  outcome.frames = std::move(before);
  outcome.last = ScanStatus::kError;
  outcome.error = std::move(reason);
  return outcome;
}

// Scans `input` appended to a growing buffer (no copies), one call per `step` bytes.
Outcome ScanInSteps(std::string_view input, size_t step) {
  ReplyScanner scanner;
  Outcome outcome;
  std::string buffer;
  size_t start = 0;
  for (size_t pos = 0; pos < input.size();) {
    const size_t n = std::min(step, input.size() - pos);
    buffer.append(input.substr(pos, n));
    pos += n;
    for (;;) {
      const ScanStatus status = scanner.Scan(buffer.data() + start, buffer.size() - start);
      if (status == ScanStatus::kComplete) {
        outcome.frames.push_back({scanner.frame_size(), scanner.frame_type()});
        start += scanner.frame_size();
        continue;
      }
      if (status == ScanStatus::kError) return Error(scanner.error(), outcome.frames);
      break;
    }
  }
  outcome.leftover = buffer.size() - start;
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// Builders for valid replies.

std::string Bulk(std::string_view payload, char type = '$') {
  return type + std::to_string(payload.size()) + "\r\n" + std::string(payload) + "\r\n";
}

std::string Aggregate(char type, const std::vector<std::string>& elements) {
  std::string out =
      type + std::to_string(type == '%' || type == '|' ? elements.size() / 2 : elements.size()) +
      "\r\n";
  for (const std::string& element : elements) out += element;
  return out;
}

std::string Array(const std::vector<std::string>& elements) { return Aggregate('*', elements); }
std::string Map(const std::vector<std::string>& pairs) { return Aggregate('%', pairs); }

// ---------------------------------------------------------------------------------------------
// RESP2

TEST(ReplyScannerTest, SimpleTypes) {
  ExpectFrame("+OK\r\n");
  ExpectFrame("+\r\n");
  ExpectFrame("-ERR unknown command 'FOO'\r\n");
  ExpectFrame("-MOVED 3999 127.0.0.1:6381\r\n");
  ExpectFrame(":0\r\n");
  ExpectFrame(":-9223372036854775808\r\n");
}

TEST(ReplyScannerTest, BulkStrings) {
  ExpectFrame("$0\r\n\r\n");
  ExpectFrame("$5\r\nhello\r\n");
  ExpectFrame(Bulk("a\r\nb\0c\r\n$3\r\n*1\r\n"s));  // binary safe: framing bytes inside
  ExpectFrame("$-1\r\n");
  ExpectFrame(Bulk(std::string(3000, 'x')));
}

TEST(ReplyScannerTest, Arrays) {
  ExpectFrame("*0\r\n");
  ExpectFrame("*-1\r\n");
  ExpectFrame(Array({"$3\r\nfoo\r\n", "$-1\r\n", ":1\r\n", "*-1\r\n", "-ERR x\r\n", "+OK\r\n"}));
  ExpectFrame(Array({Array({Array({":1\r\n"}), Array({})}), Array({"$1\r\n\r\r\n"})}));
  // CLUSTER SLOTS shape.
  ExpectFrame(Array(
      {Array({":0\r\n", ":5460\r\n",
              Array({Bulk("127.0.0.1"), ":7000\r\n", Bulk(std::string(40, 'a'))})}),
       Array({":5461\r\n", ":10922\r\n", Array({Bulk("127.0.0.1"), ":7001\r\n", Bulk("b")})})}));
}

// ---------------------------------------------------------------------------------------------
// RESP3

TEST(ReplyScannerTest, Resp3SimpleTypes) {
  ExpectFrame("_\r\n");
  ExpectFrame(",3.14\r\n");
  ExpectFrame(",-inf\r\n");
  ExpectFrame("#t\r\n");
  ExpectFrame("(3492890328409238509324850943850943825024385\r\n");
  ExpectFrame("!21\r\nSYNTAX invalid syntax\r\n");
  ExpectFrame("=15\r\ntxt:Some string\r\n");
}

TEST(ReplyScannerTest, Resp3Aggregates) {
  ExpectFrame("%0\r\n");
  ExpectFrame("~0\r\n");
  ExpectFrame(Map({"+first\r\n", ":1\r\n", "+second\r\n", ":2\r\n"}));
  ExpectFrame(Aggregate('~', {"+orange\r\n", "+apple\r\n", "#t\r\n", ":100\r\n", "_\r\n"}));
  ExpectFrame(Aggregate('>', {Bulk("message"), Bulk("channel"), Bulk("payload")}));
  ExpectFrame(Map({Map({"+k\r\n", "+v\r\n"}), Aggregate('~', {":1\r\n"}), "+x\r\n",
                   Array({Map({}), Map({"_\r\n", "_\r\n"})})}));
}

TEST(ReplyScannerTest, Attributes) {
  // The attribute precedes the element it annotates; together they are one frame.
  const std::string attribute = Aggregate(
      '|', {"+key-popularity\r\n", Map({Bulk("a"), ",0.1923\r\n", Bulk("b"), ",0.0012\r\n"})});
  ExpectFrame(attribute + Array({":2039123\r\n", ":9543892\r\n"}));
  ExpectFrame("|0\r\n+OK\r\n");
  // Inside an aggregate, attributes do not count as elements.
  ExpectFrame(Array({":1\r\n", "|1\r\n+ttl\r\n:3600\r\n:2\r\n"}));
  // An attribute on the value of another attribute.
  ExpectFrame("|1\r\n+a\r\n|1\r\n+b\r\n:1\r\n$-1\r\n+OK\r\n");
}

TEST(ReplyScannerTest, Pipeline) {
  const std::string input = "+OK\r\n" + Bulk("v") + "*-1\r\n" + Array({":1\r\n", ":2\r\n"}) +
                            "-ERR no\r\n" + "|1\r\n+a\r\n+b\r\n_\r\n" + "$3\r\nfo";
  Outcome expected;
  expected.frames = {{5, '+'}, {7, '$'}, {5, '*'}, {12, '*'}, {9, '-'}, {15, '|'}};
  expected.leftover = 6;
  ExpectEverySplit(input, expected);
}

// ---------------------------------------------------------------------------------------------
// Deep nesting: O(1) memory, any depth.

std::string Repeat(std::string_view unit, size_t times) {
  std::string out;
  out.reserve(unit.size() * times);
  for (size_t i = 0; i < times; ++i) out.append(unit);
  return out;
}

void ExpectHugeFrame(const std::string& input) {
  const Outcome expected = Frames({Frame{input.size(), input[0]}});
  EXPECT_EQ(ScanInSteps(input, input.size()), expected);
  EXPECT_EQ(ScanInSteps(input, 1), expected);
  EXPECT_EQ(ScanInSteps(input, 4093), expected);
  std::mt19937 rng(7);
  for (int i = 0; i < 20; ++i) {
    const size_t split = rng() % input.size();
    ASSERT_EQ(
        Feed({std::string_view(input).substr(0, split), std::string_view(input).substr(split)}),
        expected)
        << "split at " << split;
  }
}

TEST(ReplyScannerTest, HundredThousandDeepArrays) {
  ExpectHugeFrame(Repeat("*1\r\n", 100000) + ":1\r\n");
}

TEST(ReplyScannerTest, HundredThousandDeepMixedNesting) {
  ExpectHugeFrame(Repeat("%1\r\n+k\r\n", 100000) + "_\r\n");
  ExpectHugeFrame(Repeat("*2\r\n~1\r\n|1\r\n+a\r\n+b\r\n", 100000) + Repeat("$0\r\n\r\n", 100001));
  // Wide as well as deep: each level owes one more element.
  ExpectHugeFrame(Repeat("*2\r\n", 100000) + Repeat(":1\r\n", 100001));
}

// The reply to COMMAND DOCS (what redis-cli 7 sends when it starts) is a map of maps nested
// several levels deep; build one of the same shape and size.
std::string CommandDocsLike(bool resp3) {
  const auto pairs = [resp3](const std::vector<std::string>& kv) {
    return resp3 ? Map(kv) : Array(kv);
  };
  std::vector<std::string> commands;
  for (int c = 0; c < 240; ++c) {
    std::vector<std::string> arguments;
    for (int a = 0; a < 4; ++a) {
      const std::string inner = pairs({Bulk("name"), Bulk("arg" + std::to_string(a)), Bulk("type"),
                                       Bulk("pure-token"), Bulk("token"), Bulk("NX")});
      arguments.push_back(
          pairs({Bulk("name"), Bulk("condition"), Bulk("type"), Bulk("oneof"), Bulk("flags"),
                 Array({"+optional\r\n"}), Bulk("arguments"), Array({inner, inner})}));
    }
    commands.push_back(Bulk("command" + std::to_string(c)));
    commands.push_back(
        pairs({Bulk("summary"), Bulk("Does something with a key."), Bulk("since"), Bulk("1.0.0"),
               Bulk("group"), Bulk("generic"), Bulk("complexity"), Bulk("O(1)"), Bulk("history"),
               Array({Array({Bulk("6.2.0"), Bulk("Added options.")})}), Bulk("arguments"),
               Array(arguments)}));
  }
  return pairs(commands);
}

TEST(ReplyScannerTest, CommandDocs) {
  for (const bool resp3 : {false, true}) {
    SCOPED_TRACE(resp3 ? "RESP3" : "RESP2");
    const std::string reply = CommandDocsLike(resp3);
    ExpectHugeFrame(reply);
    EXPECT_EQ(ScanInSteps(reply + reply, 16 * 1024).frames.size(), 2u);
  }
}

// ---------------------------------------------------------------------------------------------
// Random well-formed replies.

class ReplyGenerator {
 public:
  // Bulk payloads are at most `max_payload` bytes.
  ReplyGenerator(uint32_t seed, size_t max_payload) : rng_(seed), max_payload_(max_payload) {}

  std::string Reply(int depth) {
    std::string out;
    Append(depth, &out);
    return out;
  }

 private:
  size_t Below(size_t n) { return rng_() % n; }

  std::string Payload() {
    std::string out(Below(4) == 0 ? Below(max_payload_ + 1) : Below(12), '\0');
    for (char& c : out) c = "ab\r\n$*:+-\0"[Below(10)];
    return out;
  }

  void Append(int depth, std::string* out) {
    switch (depth > 0 ? Below(16) : Below(10)) {
      case 0:
        *out += "+OK\r\n";
        break;
      case 1:
        *out += "-ERR " + std::to_string(Below(1000)) + "\r\n";
        break;
      case 2:
        *out += ":" + std::to_string(static_cast<int64_t>(rng_()) - (1 << 30)) + "\r\n";
        break;
      case 3:
        *out += Bulk(Payload());
        break;
      case 4:
        *out += Below(2) ? "$-1\r\n" : "*-1\r\n";
        break;
      case 5:
        *out += Below(2) ? "_\r\n" : ",1.5e10\r\n";
        break;
      case 6:
        *out += Below(2) ? "#f\r\n" : "(12345678901234567890123\r\n";
        break;
      case 7:
        *out += Bulk(Payload(), '!');
        break;
      case 8:
        *out += Bulk("txt:" + Payload(), '=');
        break;
      case 9:
        *out += "+" + std::string(Below(200), 's') + "\r\n";
        break;
      case 10:
      case 11:
        AppendAggregate("*~>"[Below(3)], Below(6), 1, depth, out);
        break;
      case 12:
      case 13:
        AppendAggregate('%', Below(4), 2, depth, out);
        break;
      default:
        AppendAggregate('|', Below(3), 2, depth, out);
        Append(depth - 1, out);  // the annotated element
    }
  }

  void AppendAggregate(char type, size_t count, size_t per_entry, int depth, std::string* out) {
    *out += type + std::to_string(count) + "\r\n";
    for (size_t i = 0; i < count * per_entry; ++i) Append(depth - 1, out);
  }

  std::mt19937 rng_;
  size_t max_payload_;
};

TEST(ReplyScannerTest, RandomRepliesInRandomChunks) {
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    ReplyGenerator generator(seed, 3000);
    std::string stream;
    Outcome expected;
    for (int i = 0; i < 20; ++i) {
      const std::string reply = generator.Reply(static_cast<int>(seed % 7));
      expected.frames.push_back({reply.size(), reply[0]});
      stream += reply;
    }
    std::mt19937 rng(seed);
    std::vector<std::string_view> chunks;
    for (size_t pos = 0; pos < stream.size();) {
      const size_t n = std::min<size_t>(stream.size() - pos, 1 + rng() % 64);
      chunks.push_back(std::string_view(stream).substr(pos, n));
      pos += n;
    }
    ASSERT_EQ(Feed(chunks), expected);
    ASSERT_EQ(ScanInSteps(stream, 1), expected);
  }
}

TEST(ReplyScannerTest, SmallRandomRepliesEverySplit) {
  int tested = 0;
  for (uint32_t seed = 1; seed <= 100; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    ReplyGenerator generator(seed, 40);
    const std::string reply = generator.Reply(3);
    if (reply.size() > 1500) continue;  // keeps the quadratic every-split cost small
    ExpectFrame(reply);
    ++tested;
  }
  EXPECT_GT(tested, 50);
}

// The shapes the one-pass fast path takes (short lines, short bulks, the null bulk) and their near
// misses, which it leaves to the general path: the same frames and errors at every split.
TEST(ReplyScannerTest, FastPathShapesAgreeWithTheGeneralPath) {
  const std::vector<std::string> frames = {"+OK\r\n",
                                           ":1\r\n",
                                           "-ERR no\r\n",
                                           "$-1\r\n",
                                           "$0\r\n\r\n",
                                           "$03\r\nabc\r\n",
                                           "$3\r\n\r\n\r\r\n",
                                           "+" + std::string(63, 'x') + "\r\n",
                                           "+" + std::string(64, 'x') + "\r\n"};
  for (const std::string& input : frames) ExpectFrame(input);
  ExpectEverySplit("$1234567890\r\nx", Frames({}, 14));  // ten digits: a valid prefix
  ExpectEverySplit("$-1\r\n+OK\r\n", Frames({{5, '$'}, {5, '+'}}));
  ExpectEverySplit("$-1\rX", Error("line not terminated by CRLF"));
  ExpectEverySplit("$-12\r\n", Error("invalid bulk length"));
  ExpectEverySplit("$3\r\nabcXY", Error("bulk payload not terminated by CRLF"));
  ExpectEverySplit("$3\rXabc\r\n", Error("line not terminated by CRLF"));
  ExpectEverySplit(":1\r:", Error("line not terminated by CRLF"));
  ExpectEverySplit("-ERR\n\r\n", Frames({{7, '-'}}));  // a bare '\n' inside a line is content
}

// ---------------------------------------------------------------------------------------------
// Malformed input

TEST(ReplyScannerTest, UnknownType) {
  ExpectEverySplit("x", Error("unknown reply type byte"));
  ExpectEverySplit("\r\n", Error("unknown reply type byte"));
  ExpectEverySplit("*1\r\n?", Error("unknown reply type byte"));
  ExpectEverySplit("?3\r\n", Error("unknown reply type byte"));  // streamed aggregate
  ExpectEverySplit("+OK\r\n;1\r\n", Error("unknown reply type byte", {{5, '+'}}));
}

TEST(ReplyScannerTest, InvalidLengths) {
  for (const std::string input :
       {"$abc\r\n", "$-2\r\n", "$\r\n", "$?\r\n", "!-1\r\n", "=-1\r\n", "$1 \r\n", "$+1\r\n"}) {
    SCOPED_TRACE(input);
    ExpectEverySplit(input, Error("invalid bulk length"));
  }
  for (const std::string input : {"*-2\r\n", "*\r\n", "*?\r\n", "~-1\r\n", "%-1\r\n", ">-1\r\n",
                                  "|-1\r\n", "*1099511627777\r\n", "*x\r\n"}) {
    SCOPED_TRACE(input);
    ExpectEverySplit(input, Error("invalid aggregate length"));
  }
  // The largest accepted count is a valid prefix.
  Outcome partial;
  partial.leftover = 16;
  ExpectEverySplit("*1099511627776\r\n", partial);
}

TEST(ReplyScannerTest, LengthLineTooLong) {
  const std::string digits(25, '1');
  ExpectEverySplit("$" + digits, Error("length line too long"));
  ExpectEverySplit("*1\r\n%" + digits, Error("length line too long"));
  // Simple lines may be long.
  ExpectFrame("+" + std::string(3000, 'x') + "\r\n");
}

TEST(ReplyScannerTest, MissingCrlf) {
  ExpectEverySplit("+OK\rX", Error("line not terminated by CRLF"));
  ExpectEverySplit("$3\r\nfooXY", Error("bulk payload not terminated by CRLF"));
  ExpectEverySplit("$3\r\nfoo\rX", Error("bulk payload not terminated by CRLF"));
  ExpectEverySplit("*1\r\n$3\r\nfoo\n\r", Error("bulk payload not terminated by CRLF"));
  ExpectEverySplit("*2\r\n:1\n", Frames({}, 7));  // no '\r' yet
}

TEST(ReplyScannerTest, PendingCountOverflowIsAnError) {
  // Each header owes 2^41 - 1 more elements; 2^21 + 1 of them pass 2^62.
  const std::string input = Repeat("%1099511627776\r\n", (1 << 21) + 1);
  const Outcome outcome = ScanInSteps(input, input.size());
  EXPECT_EQ(outcome.last, ScanStatus::kError);
  EXPECT_EQ(outcome.error, "too many nested elements");
}

TEST(ReplyScannerTest, ResetClearsError) {
  ReplyScanner scanner;
  const std::string bad = "x";
  ASSERT_EQ(scanner.Scan(bad.data(), bad.size()), ScanStatus::kError);
  const std::string good = "+OK\r\n";
  EXPECT_EQ(scanner.Scan(good.data(), good.size()), ScanStatus::kError);
  scanner.Reset();
  EXPECT_STREQ(scanner.error(), "");
  ASSERT_EQ(scanner.Scan(good.data(), good.size()), ScanStatus::kComplete);
  EXPECT_EQ(scanner.frame_size(), 5u);
  EXPECT_EQ(scanner.frame_type(), '+');
}

TEST(ReplyScannerTest, ResetForgetsPartialFrame) {
  ReplyScanner scanner;
  const std::string partial = "*3\r\n:1\r\n";
  ASSERT_EQ(scanner.Scan(partial.data(), partial.size()), ScanStatus::kNeedMore);
  scanner.Reset();
  const std::string good = ":7\r\n";
  ASSERT_EQ(scanner.Scan(good.data(), good.size()), ScanStatus::kComplete);
  EXPECT_EQ(scanner.frame_size(), 4u);
}

TEST(ReplyScannerTest, ShrunkBufferIsAnError) {
  ReplyScanner scanner;
  const std::string partial = "*3\r\n:1\r\n";
  ASSERT_EQ(scanner.Scan(partial.data(), partial.size()), ScanStatus::kNeedMore);
  EXPECT_EQ(scanner.Scan(partial.data(), 2), ScanStatus::kError);
}

TEST(ReplyScannerTest, EmptyInputNeedsMore) {
  ReplyScanner scanner;
  EXPECT_EQ(scanner.Scan("", 0), ScanStatus::kNeedMore);
}

TEST(ReplyScannerTest, NeverAllocates) {
  const std::string stream = CommandDocsLike(true) + Repeat("*1\r\n", 1000) + ":1\r\n" +
                             Repeat("+OK\r\n$3\r\nfoo\r\n", 1000);
  const long before = g_allocations.load();
  ReplyScanner scanner;
  size_t frames = 0;
  for (size_t pos = 0; pos < stream.size();) {
    // Feed each frame in two calls.
    const size_t partial = std::min<size_t>(stream.size() - pos, 3);
    if (scanner.Scan(stream.data() + pos, partial) != ScanStatus::kComplete) {
      ASSERT_EQ(scanner.Scan(stream.data() + pos, stream.size() - pos), ScanStatus::kComplete);
    }
    pos += scanner.frame_size();
    ++frames;
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_EQ(frames, 2002u);
}

}  // namespace
}  // namespace slotplane::dataplane
