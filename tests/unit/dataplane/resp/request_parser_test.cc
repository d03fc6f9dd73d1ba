#include "dataplane/resp/request_parser.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

// GCC sees the malloc/free pair below through inlined std::allocator calls and warns; the pair
// is consistent.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

// Counts heap allocations so the steady-state zero-allocation contract can be checked.
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

using Args = std::vector<std::string>;

struct Command {
  Args args;
  bool is_inline = false;
  size_t size = 0;  // command_size()

  bool operator==(const Command& other) const {
    return args == other.args && is_inline == other.is_inline && size == other.size;
  }
};

std::ostream& operator<<(std::ostream& os, const Command& command) {
  os << (command.is_inline ? "inline" : "multibulk") << "[" << command.size << "]{";
  for (const std::string& arg : command.args) os << '"' << arg << "\" ";
  return os << "}";
}

// What a connection sees after feeding a byte stream to the parser.
struct Outcome {
  std::vector<Command> commands;
  ParseStatus last = ParseStatus::kNeedMore;  // kNeedMore or kError once the stream is exhausted
  std::string error;
  size_t leftover = 0;  // bytes still buffered (a partial command)

  bool operator==(const Outcome& other) const {
    return commands == other.commands && last == other.last && error == other.error &&
           leftover == other.leftover;
  }
};

std::ostream& operator<<(std::ostream& os, const Outcome& outcome) {
  for (const Command& command : outcome.commands) os << command << "\n";
  return os << "last=" << static_cast<int>(outcome.last) << " error=\"" << outcome.error
            << "\" leftover=" << outcome.leftover;
}

Command Capture(const RequestParser& parser) {
  Command command;
  for (std::string_view arg : parser.args()) command.args.emplace_back(arg);
  command.is_inline = parser.is_inline();
  command.size = parser.command_size();
  return command;
}

// Plays a client connection: chunks are appended to a pending buffer, and every Parse call gets a
// freshly allocated copy of exactly the pending bytes, so the buffer moves between calls and any
// read past its end or through a stale pointer is caught by AddressSanitizer.
Outcome Feed(const std::vector<std::string_view>& chunks, const RequestLimits& limits = {}) {
  RequestParser parser(limits);
  std::string pending;
  Outcome outcome;
  for (std::string_view chunk : chunks) {
    pending.append(chunk);
    for (;;) {
      auto copy = std::make_unique<char[]>(pending.size() + (pending.empty() ? 1 : 0));
      pending.copy(copy.get(), pending.size());
      const ParseStatus status = parser.Parse(copy.get(), pending.size());
      size_t drop = parser.skipped_bytes();
      EXPECT_LE(drop, pending.size());
      if (status == ParseStatus::kCommand) {
        EXPECT_GT(parser.command_size(), 0u);
        EXPECT_FALSE(parser.args().empty());
        outcome.commands.push_back(Capture(parser));
        drop += parser.command_size();
        EXPECT_LE(drop, pending.size());
        pending.erase(0, drop);
        continue;
      }
      pending.erase(0, drop);
      if (status == ParseStatus::kError) {
        outcome.last = ParseStatus::kError;
        outcome.error = parser.error();
        // The failure is sticky.
        EXPECT_EQ(parser.Parse(copy.get(), 0), ParseStatus::kError);
        return outcome;
      }
      break;
    }
  }
  outcome.leftover = pending.size();
  return outcome;
}

Outcome FeedWhole(std::string_view input, const RequestLimits& limits = {}) {
  return Feed({input}, limits);
}

// Feeds `input` split in two at every position, and byte by byte; all must match `expected`.
void ExpectEverySplit(std::string_view input, const Outcome& expected,
                      const RequestLimits& limits = {}) {
  for (size_t split = 0; split <= input.size(); ++split) {
    SCOPED_TRACE("split at " + std::to_string(split));
    EXPECT_EQ(Feed({input.substr(0, split), input.substr(split)}, limits), expected);
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
  SCOPED_TRACE("byte by byte");
  EXPECT_EQ(Feed(bytes, limits), expected);
}

// A stream that ends after whole commands, with `leftover` bytes of a partial one.
Outcome Commands(std::vector<Command> commands, size_t leftover = 0) {
  Outcome outcome;
  outcome.commands = std::move(commands);
  outcome.leftover = leftover;
  return outcome;
}

// One command that ends exactly at the end of `input`: every proper prefix is kNeedMore with
// nothing consumed, and resuming with the whole input yields exactly `args`.
void ExpectCommand(std::string_view input, const Args& args, bool is_inline = false) {
  for (size_t split = 0; split < input.size(); ++split) {
    SCOPED_TRACE("split at " + std::to_string(split));
    RequestParser parser;
    std::string buffer(input.substr(0, split));
    ASSERT_EQ(parser.Parse(buffer.data(), buffer.size()), ParseStatus::kNeedMore);
    EXPECT_EQ(parser.skipped_bytes(), 0u);
    buffer.assign(input);  // the buffer may move
    ASSERT_EQ(parser.Parse(buffer.data(), buffer.size()), ParseStatus::kCommand);
    EXPECT_EQ(parser.skipped_bytes(), 0u);
    EXPECT_EQ(parser.command_size(), input.size());
    EXPECT_EQ(Capture(parser).args, args);
    EXPECT_EQ(parser.is_inline(), is_inline);
  }
  ExpectEverySplit(input, Commands({Command{args, is_inline, input.size()}}));
}

Outcome Error(std::string text, std::vector<Command> before = {}) {
  Outcome outcome;
  outcome.commands = std::move(before);
  outcome.last = ParseStatus::kError;
  outcome.error = std::move(text);
  return outcome;
}

std::string Multibulk(const Args& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& arg : args) {
    out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  }
  return out;
}

Command MultibulkCommand(const Args& args) { return Command{args, false, Multibulk(args).size()}; }

// ---------------------------------------------------------------------------------------------
// Multibulk

TEST(RequestParserTest, MultibulkEverySplit) {
  ExpectCommand("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", {"SET", "key", "value"});
  ExpectCommand("*1\r\n$4\r\nPING\r\n", {"PING"});
}

TEST(RequestParserTest, EmptyBulkArguments) {
  ExpectCommand("*2\r\n$0\r\n\r\n$0\r\n\r\n", {"", ""});
}

TEST(RequestParserTest, BinarySafeArguments) {
  const std::string value = "a\0b\r\nc\r\n$1\r\n*9\n\r\0"s;
  ExpectCommand(Multibulk({"SET", "k\0"s, value}), {"SET", "k\0"s, value});
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
  ExpectCommand(Multibulk({"SET", "k", all_bytes}), {"SET", "k", all_bytes});
}

TEST(RequestParserTest, MultibulkArgsPointIntoCallerBuffer) {
  const std::string input = "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n";
  RequestParser parser;
  ASSERT_EQ(parser.Parse(input.data(), input.size()), ParseStatus::kCommand);
  EXPECT_FALSE(parser.is_inline());
  ASSERT_EQ(parser.args().size(), 2u);
  EXPECT_EQ(parser.args()[0].data(), input.data() + 8);
  EXPECT_EQ(parser.args()[1].data(), input.data() + 17);
}

TEST(RequestParserTest, Pipeline) {
  const std::string input = Multibulk({"SET", "a", "1"}) + "PING\r\n" + Multibulk({"GET", "a"}) +
                            "ECHO \"x y\"\n" + Multibulk({"DEL", "a", "b"});
  Outcome expected;
  expected.commands = {MultibulkCommand({"SET", "a", "1"}), Command{{"PING"}, true, 6},
                       MultibulkCommand({"GET", "a"}), Command{{"ECHO", "x y"}, true, 11},
                       MultibulkCommand({"DEL", "a", "b"})};
  ExpectEverySplit(input, expected);
}

TEST(RequestParserTest, PipelineWithPartialTail) {
  const std::string tail = "*2\r\n$3\r\nGET\r\n$3\r\nke";
  const std::string input = Multibulk({"PING"}) + tail;
  Outcome expected;
  expected.commands = {MultibulkCommand({"PING"})};
  expected.leftover = tail.size();
  ExpectEverySplit(input, expected);
}

TEST(RequestParserTest, PipelineInOneCallReturnsOneCommandAtATime) {
  const std::string input = Multibulk({"A"}) + Multibulk({"BB"});
  RequestParser parser;
  ASSERT_EQ(parser.Parse(input.data(), input.size()), ParseStatus::kCommand);
  EXPECT_EQ(parser.command_size(), Multibulk({"A"}).size());
  const std::string rest = input.substr(parser.command_size());
  ASSERT_EQ(parser.Parse(rest.data(), rest.size()), ParseStatus::kCommand);
  EXPECT_EQ(Capture(parser).args, Args{"BB"});
  EXPECT_EQ(parser.Parse(rest.data() + rest.size(), 0), ParseStatus::kNeedMore);
  EXPECT_TRUE(parser.args().empty());
}

TEST(RequestParserTest, ZeroAndNegativeCountsAreSkipped) {
  for (const char* input : {"*0\r\n", "*-1\r\n", "*-7\r\n"}) {
    SCOPED_TRACE(input);
    RequestParser parser;
    const std::string buffer = input;
    ASSERT_EQ(parser.Parse(buffer.data(), buffer.size()), ParseStatus::kNeedMore);
    EXPECT_EQ(parser.skipped_bytes(), buffer.size());
    ExpectEverySplit(buffer, Outcome{});
  }
}

TEST(RequestParserTest, SkippedBytesPrecedeTheCommand) {
  const std::string input = "*0\r\n\r\n*-1\r\n  \r\n" + Multibulk({"GET", "k"});
  RequestParser parser;
  ASSERT_EQ(parser.Parse(input.data(), input.size()), ParseStatus::kCommand);
  EXPECT_EQ(parser.skipped_bytes(), 15u);
  EXPECT_EQ(parser.skipped_bytes() + parser.command_size(), input.size());
  EXPECT_EQ(parser.args()[0].data(), input.data() + 15 + 8);
  Outcome expected;
  expected.commands = {MultibulkCommand({"GET", "k"})};
  ExpectEverySplit(input, expected);
}

TEST(RequestParserTest, SkippedBytesWithPartialCommandAfterThem) {
  RequestParser parser;
  std::string buffer = "*0\r\n*1\r\n$4\r\nPI";
  ASSERT_EQ(parser.Parse(buffer.data(), buffer.size()), ParseStatus::kNeedMore);
  ASSERT_EQ(parser.skipped_bytes(), 4u);
  buffer.erase(0, 4);
  buffer += "NG\r\n";
  ASSERT_EQ(parser.Parse(buffer.data(), buffer.size()), ParseStatus::kCommand);
  EXPECT_EQ(parser.skipped_bytes(), 0u);
  EXPECT_EQ(parser.command_size(), buffer.size());
  EXPECT_EQ(Capture(parser).args, Args{"PING"});
}

// Redis does not check the two bytes after a payload, nor the byte after a header's '\r'; the
// proxy accepts the same bytes so it never disagrees with the backend about where a command ends.
TEST(RequestParserTest, FramingBytesAreSkippedLikeRedis) {
  ExpectCommand("*1\r\n$3\r\nfooXY", {"foo"});
  ExpectCommand("*1\rX$3\r?foo\r\n", {"foo"});
}

TEST(RequestParserTest, LargeArgumentCount) {
  Args args;
  for (int i = 0; i < 100000; ++i) args.push_back(std::to_string(i * 7919));
  const std::string input = Multibulk(args);
  RequestParser parser;
  ASSERT_EQ(parser.Parse(input.data(), input.size()), ParseStatus::kCommand);
  EXPECT_EQ(parser.command_size(), input.size());
  EXPECT_EQ(Capture(parser).args, args);

  // Random chunk sizes with a moving buffer.
  std::mt19937 rng(42);
  std::vector<std::string_view> chunks;
  for (size_t pos = 0; pos < input.size();) {
    const size_t n = std::min<size_t>(input.size() - pos, 1 + rng() % 4096);
    chunks.push_back(std::string_view(input).substr(pos, n));
    pos += n;
  }
  Outcome expected;
  expected.commands = {Command{args, false, input.size()}};
  EXPECT_EQ(Feed(chunks), expected);
}

// A million arguments fed one byte at a time: finishes quickly only if the parser resumes where
// it stopped instead of rescanning the arguments it already parsed.
TEST(RequestParserTest, MillionArgumentsByteByByteIsLinear) {
  constexpr int kArgs = 1024 * 1024;
  std::string input = "*" + std::to_string(kArgs) + "\r\n";
  for (int i = 0; i < kArgs; ++i)
    input += "$1\r\n" + std::string(1, static_cast<char>('a' + i % 26)) + "\r\n";
  RequestParser parser;
  std::string buffer;
  ParseStatus status = ParseStatus::kNeedMore;
  for (size_t i = 0; i < input.size(); ++i) {
    buffer.push_back(input[i]);  // appending sometimes moves the buffer
    status = parser.Parse(buffer.data(), buffer.size());
    if (i + 1 < input.size()) {
      ASSERT_EQ(status, ParseStatus::kNeedMore) << "at " << i;
    }
  }
  ASSERT_EQ(status, ParseStatus::kCommand);
  EXPECT_EQ(parser.command_size(), input.size());
  ASSERT_EQ(parser.args().size(), static_cast<size_t>(kArgs));
  EXPECT_EQ(parser.args()[0], "a");
  EXPECT_EQ(parser.args()[kArgs - 1], std::string(1, static_cast<char>('a' + (kArgs - 1) % 26)));
}

TEST(RequestParserTest, LargeBulkByteByByte) {
  const std::string value(1 << 20, 'v');
  const std::string input = Multibulk({"SET", "k", value});
  RequestParser parser;
  std::string buffer;
  for (size_t i = 0; i + 1 < input.size(); ++i) {
    buffer.push_back(input[i]);
    ASSERT_EQ(parser.Parse(buffer.data(), buffer.size()), ParseStatus::kNeedMore);
  }
  buffer.push_back(input.back());
  ASSERT_EQ(parser.Parse(buffer.data(), buffer.size()), ParseStatus::kCommand);
  EXPECT_EQ(parser.args()[2], value);
}

// ---------------------------------------------------------------------------------------------
// Inline

TEST(RequestParserTest, InlineBasics) {
  ExpectCommand("PING\r\n", {"PING"}, true);
  ExpectCommand("PING\n", {"PING"}, true);
  ExpectCommand("  SET \t key\t\tvalue   \r\n", {"SET", "key", "value"}, true);
  // \v and \f are blanks between tokens but do not end an unquoted token (sdssplitargs).
  ExpectCommand("GET \vk \f\r\n", {"GET", "k"}, true);
  ExpectCommand("a\vb c\f\r\n", {"a\vb", "c\f"}, true);
  ExpectCommand("a\rb\r\n", {"a", "b"}, true);  // a lone '\r' separates tokens
  ExpectCommand(" *1\r\n", {"*1"}, true);       // only a leading '*' means multibulk
  ExpectCommand("\xff\xfe x\r\n", {"\xff\xfe", "x"}, true);
}

// Inline arguments are decoded into the parser's scratch: they outlive the caller's buffer.
TEST(RequestParserTest, InlineArgsPointIntoScratch) {
  const std::string text = "GET \"k\\x41y\"\r\n";
  auto input = std::make_unique<char[]>(text.size());
  text.copy(input.get(), text.size());
  RequestParser parser;
  ASSERT_EQ(parser.Parse(input.get(), text.size()), ParseStatus::kCommand);
  EXPECT_TRUE(parser.is_inline());
  input.reset();
  EXPECT_EQ(Capture(parser).args, (Args{"GET", "kAy"}));
}

TEST(RequestParserTest, InlineDoubleQuotes) {
  ExpectCommand("SET \"hello world\" \"\"\r\n", {"SET", "hello world", ""}, true);
  ExpectCommand("ECHO \"\\n\\r\\t\\b\\a\\\\\\\"\\q\"\r\n", {"ECHO", "\n\r\t\b\a\\\"q"}, true);
  ExpectCommand("ECHO \"\\x41\\x4a\\x4A\\x00\\xff\"\r\n", {"ECHO", "AJJ\0\xff"s}, true);
  ExpectCommand("ECHO \"\\xZZ\\x4\"\r\n", {"ECHO", "xZZx4"}, true);  // not \xHH: plain escape
  ExpectCommand("ECHO \"\\x\"\r\n", {"ECHO", "x"}, true);
  ExpectCommand("ECHO \"a'b\"\t\r\n", {"ECHO", "a'b"}, true);
  ExpectCommand("ECHO \"a\"\v\r\n", {"ECHO", "a"}, true);  // any isspace() may follow the quote
  ExpectCommand("ECHO foo\"bar baz\"\r\n", {"ECHO", "foobar baz"}, true);
  ExpectCommand("\"\"\r\n", {""}, true);  // one empty argument is a command
}

TEST(RequestParserTest, InlineSingleQuotes) {
  ExpectCommand("ECHO 'it\\'s'\r\n", {"ECHO", "it's"}, true);
  ExpectCommand("ECHO 'a\\nb\\\\c\"d'\r\n", {"ECHO", "a\\nb\\\\c\"d"}, true);
  ExpectCommand("ECHO '' x'y z'\r\n", {"ECHO", "", "xy z"}, true);
}

TEST(RequestParserTest, InlineLineEndsAtNul) {
  // Redis splits the line as a C string.
  ExpectCommand("GET a\0b c\r\n"s, {"GET", "a"}, true);
  ExpectEverySplit("GET \"a\0\"\r\n"s, Error("Protocol error: unbalanced quotes in request"));
}

TEST(RequestParserTest, BlankInlineLinesAreSkipped) {
  const std::string input = "\r\n\n   \r\n\t\v\f\r\n\0junk\n"s + "PING\r\n";
  RequestParser parser;
  ASSERT_EQ(parser.Parse(input.data(), input.size()), ParseStatus::kCommand);
  EXPECT_EQ(parser.skipped_bytes(), input.size() - 6);
  Outcome expected;
  expected.commands = {Command{{"PING"}, true, 6}};
  ExpectEverySplit(input, expected);
}

TEST(RequestParserTest, UnbalancedQuotes) {
  for (const char* input :
       {"SET \"abc\r\n", "SET 'abc\r\n", "SET \"a\"b\r\n", "SET 'a'b\r\n", "SET \"abc\\\"\r\n",
        "SET \"abc\\\r\n", "SET \"a\"\"b\"\r\n", "SET 'a\\'\r\n"}) {
    SCOPED_TRACE(input);
    ExpectEverySplit(input, Error("Protocol error: unbalanced quotes in request"));
  }
}

// ---------------------------------------------------------------------------------------------
// Protocol errors

TEST(RequestParserTest, InvalidMultibulkLength) {
  for (const std::string& input : std::vector<std::string>{
           "*abc\r\n", "*\r\n", "*01\r\n", "*-0\r\n", "*+1\r\n", "* 1\r\n", "*1 \r\n", "*1\0\r\n"s,
           "*18446744073709551616\r\n", "*123456789012345678901\r\n", "*1048577\r\n"}) {
    SCOPED_TRACE(input);
    ExpectEverySplit(input, Error("Protocol error: invalid multibulk length"));
  }
}

TEST(RequestParserTest, InvalidBulkLength) {
  for (const std::string& input : std::vector<std::string>{
           "*1\r\n$abc\r\n", "*1\r\n$-1\r\n", "*1\r\n$\r\n", "*1\r\n$01\r\n", "*1\r\n$-0\r\n",
           "*1\r\n$ 1\r\n", "*1\r\n$536870913\r\n", "*1\r\n$99999999999999999999\r\n"}) {
    SCOPED_TRACE(input);
    ExpectEverySplit(input, Error("Protocol error: invalid bulk length"));
  }
}

TEST(RequestParserTest, ExpectedDollar) {
  ExpectEverySplit("*1\r\nfoo\r\n", Error("Protocol error: expected '$', got 'f'"));
  ExpectEverySplit("*2\r\n$3\r\nGET\r\n:1\r\n", Error("Protocol error: expected '$', got ':'"));
  // Redis maps CR and LF to spaces in error texts, and "%c" of a NUL ends the text.
  ExpectEverySplit("*1\r\n\r\n\r\n", Error("Protocol error: expected '$', got ' '"));
  ExpectEverySplit("*1\r\n\nX\r\n", Error("Protocol error: expected '$', got ' '"));
  ExpectEverySplit("*1\r\n\0\r\n"s, Error("Protocol error: expected '$', got '"));
  ExpectEverySplit("*1\r\n\xfe\r\n", Error("Protocol error: expected '$', got '\xfe'"));
}

TEST(RequestParserTest, ErrorAfterGoodCommands) {
  const std::string input = Multibulk({"PING"}) + "PING\r\n*x\r\n" + Multibulk({"GET", "k"});
  ExpectEverySplit(input, Error("Protocol error: invalid multibulk length",
                                {MultibulkCommand({"PING"}), Command{{"PING"}, true, 6}}));
}

TEST(RequestParserTest, ErrorIsSticky) {
  RequestParser parser;
  const std::string bad = "*x\r\n";
  ASSERT_EQ(parser.Parse(bad.data(), bad.size()), ParseStatus::kError);
  const std::string good = Multibulk({"PING"});
  EXPECT_EQ(parser.Parse(good.data(), good.size()), ParseStatus::kError);
  EXPECT_EQ(parser.error(), "Protocol error: invalid multibulk length");
  parser.Reset();
  EXPECT_EQ(parser.Parse(good.data(), good.size()), ParseStatus::kCommand);
  EXPECT_EQ(parser.error(), "");
}

TEST(RequestParserTest, ResetForgetsPartialCommand) {
  RequestParser parser;
  const std::string partial = "*2\r\n$3\r\nGET\r\n";
  ASSERT_EQ(parser.Parse(partial.data(), partial.size()), ParseStatus::kNeedMore);
  parser.Reset();
  const std::string inline_command = "PING\r\n";
  ASSERT_EQ(parser.Parse(inline_command.data(), inline_command.size()), ParseStatus::kCommand);
  EXPECT_EQ(Capture(parser).args, Args{"PING"});
}

TEST(RequestParserTest, ShrunkBufferIsAnError) {
  RequestParser parser;
  const std::string partial = "*2\r\n$3\r\nGET\r\n";
  ASSERT_EQ(parser.Parse(partial.data(), partial.size()), ParseStatus::kNeedMore);
  EXPECT_EQ(parser.Parse(partial.data(), 3), ParseStatus::kError);
}

// ---------------------------------------------------------------------------------------------
// Limits

RequestLimits SmallLimits() {
  RequestLimits limits;
  limits.max_bulk_len = 5;
  limits.max_inline_len = 16;
  limits.max_multibulk_len = 3;
  return limits;
}

TEST(RequestParserTest, LimitsAtTheBoundaryAreAccepted) {
  const RequestLimits limits = SmallLimits();
  const std::string multibulk = Multibulk({"hello", "", "a"});
  ExpectEverySplit(multibulk, Commands({MultibulkCommand({"hello", "", "a"})}), limits);
  // The '\n' may be at most max_inline_len bytes into the line (a '\r' before it counts).
  ExpectEverySplit("ECHO 01234567890\n", Commands({Command{{"ECHO", "01234567890"}, true, 17}}),
                   limits);
  ExpectEverySplit("ECHO 0123456789\r\n", Commands({Command{{"ECHO", "0123456789"}, true, 17}}),
                   limits);
  // A header line may hold up to max_inline_len bytes before its '\r'.
  ExpectEverySplit("*000000000000001\r\n", Error("Protocol error: invalid multibulk length"),
                   limits);
}

TEST(RequestParserTest, LimitsExceeded) {
  const RequestLimits limits = SmallLimits();
  ExpectEverySplit("*4\r\n", Error("Protocol error: invalid multibulk length"), limits);
  ExpectEverySplit("*1\r\n$6\r\n", Error("Protocol error: invalid bulk length"), limits);
  ExpectEverySplit("ECHO 012345678901\n", Error("Protocol error: too big inline request"), limits);
  ExpectEverySplit("ECHO 01234567890\r\n", Error("Protocol error: too big inline request"), limits);
  ExpectEverySplit("*0000000000000001\r\n", Error("Protocol error: too big mbulk count string"),
                   limits);
  ExpectEverySplit("*1\r\n$0000000000000001\r\n",
                   Error("Protocol error: too big bulk count string"), limits);
}

TEST(RequestParserTest, TooBigIsReportedBeforeTheLineEnds) {
  const RequestLimits limits = SmallLimits();
  ExpectEverySplit(std::string(17, 'a'), Error("Protocol error: too big inline request"), limits);
  ExpectEverySplit("*" + std::string(16, '1'), Error("Protocol error: too big mbulk count string"),
                   limits);
  ExpectEverySplit("*1\r\n$" + std::string(16, '1'),
                   Error("Protocol error: too big bulk count string"), limits);
  // One byte less is still a valid prefix.
  Outcome partial;
  partial.leftover = 16;
  ExpectEverySplit(std::string(16, 'a'), partial, limits);
}

TEST(RequestParserTest, DefaultLimitsMatchRedis) {
  const std::string line(64 * 1024 + 1, 'a');
  EXPECT_EQ(FeedWhole(line), Error("Protocol error: too big inline request"));
  EXPECT_EQ(Feed({std::string_view(line).substr(0, 64 * 1024), "a"}),
            Error("Protocol error: too big inline request"));
  const std::string ok_line = std::string(64 * 1024, 'a') + "\n";
  EXPECT_EQ(FeedWhole(ok_line), Commands({Command{{line.substr(1)}, true, ok_line.size()}}));
  EXPECT_EQ(FeedWhole("*1\r\n$536870912\r\n").last, ParseStatus::kNeedMore);
  EXPECT_EQ(FeedWhole("*1048576\r\n").last, ParseStatus::kNeedMore);
}

// ---------------------------------------------------------------------------------------------
// Fast path: a whole multibulk command in the buffer is read in one pass (ParseWholeMultibulk);
// anything else takes the general path. Fed whole, a stream takes the fast path wherever it can;
// fed byte by byte, never. Both must give the same commands, status, error and leftover.

// A random client stream: mostly well-formed multibulk commands, some with one byte changed, plus
// the shapes the fast path leaves to the general path (zero and huge counts, leading zeros, '+',
// inline commands, truncation).
std::string RandomStream(std::mt19937* random) {
  auto pick = [&](int n) { return static_cast<int>((*random)() % static_cast<unsigned>(n)); };
  std::string stream;
  const int commands = 1 + pick(6);
  for (int c = 0; c < commands; ++c) {
    Args args;
    const int argc = 1 + pick(5);
    for (int a = 0; a < argc; ++a) {
      std::string arg(static_cast<size_t>(pick(3) == 0 ? pick(40) : pick(6)), 'x');
      for (char& ch : arg) ch = "ab\r\n*$0 "[pick(8)];
      args.push_back(arg);
    }
    std::string command = Multibulk(args);
    switch (pick(12)) {
      case 0:  // one byte changed
        command[static_cast<size_t>(pick(static_cast<int>(command.size())))] =
            "*$\r\n0-+9a"[pick(9)];
        break;
      case 1:
        command = "*0\r\n" + command;
        break;
      case 2:
        command = "*01\r\n$3\r\nGET\r\n";
        break;
      case 3:
        command = "*1\r\n$+3\r\nGET\r\n";
        break;
      case 4:
        command = "GET \"a b\"\r\n";
        break;
      case 5:
        command = "*2000\r\n";  // more arguments than the fast path takes; never completed
        break;
      case 6:
        command = "*1\r\n$1234567890\r\n";  // ten digits: the general path's reader
        break;
      default:
        break;
    }
    stream += command;
  }
  if (pick(3) == 0) stream.resize(static_cast<size_t>(pick(static_cast<int>(stream.size()) + 1)));
  return stream;
}

TEST(RequestParserTest, FastPathAgreesWithTheGeneralPath) {
  std::mt19937 random(2026);
  RequestLimits small;
  small.max_bulk_len = 16;
  small.max_inline_len = 32;
  small.max_multibulk_len = 3;
  for (int round = 0; round < 3000; ++round) {
    const std::string stream = RandomStream(&random);
    const std::string_view view(stream);
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < stream.size(); ++i) bytes.push_back(view.substr(i, 1));
    // Split in three at random points: the fast path hands incomplete commands over to the
    // general path, which resumes them.
    size_t a = random() % (stream.size() + 1);
    size_t b = random() % (stream.size() + 1);
    if (a > b) std::swap(a, b);
    const std::vector<std::string_view> thirds = {view.substr(0, a), view.substr(a, b - a),
                                                  view.substr(b)};
    for (const RequestLimits& limits : {RequestLimits(), small}) {
      SCOPED_TRACE(testing::PrintToString(stream));
      const Outcome general = Feed(bytes, limits);
      ASSERT_EQ(FeedWhole(stream, limits), general);
      ASSERT_EQ(Feed(thirds, limits), general) << "split at " << a << " and " << b;
    }
  }
}

TEST(RequestParserTest, FastPathLeavesLimitsToTheGeneralPath) {
  RequestLimits limits;
  limits.max_bulk_len = 3;
  limits.max_multibulk_len = 2;
  EXPECT_EQ(FeedWhole("*2\r\n$3\r\nGET\r\n$3\r\nabc\r\n", limits),
            Commands({MultibulkCommand({"GET", "abc"})}));
  EXPECT_EQ(FeedWhole("*2\r\n$3\r\nGET\r\n$4\r\nabcd\r\n", limits),
            Error("Protocol error: invalid bulk length"));
  EXPECT_EQ(FeedWhole("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", limits),
            Error("Protocol error: invalid multibulk length"));
}

// ---------------------------------------------------------------------------------------------
// Allocation

TEST(RequestParserTest, SteadyStateDoesNotAllocate) {
  std::string stream;
  for (int i = 0; i < 50; ++i) {
    stream += Multibulk({"SET", "key:" + std::to_string(i), std::string(i * 3, 'x')});
    stream += "GET \"key:" + std::to_string(i) + "\" 'x'\r\n*0\r\n\r\n";
  }
  RequestParser parser;
  const auto run = [&] {
    size_t commands = 0;
    for (size_t pos = 0; pos < stream.size();) {
      // Two calls per command: the first sees a partial command.
      const size_t partial = std::min<size_t>(stream.size() - pos, 7);
      EXPECT_NE(parser.Parse(stream.data() + pos, partial), ParseStatus::kError);
      pos += parser.skipped_bytes();
      if (parser.command_size() > 0) {
        pos += parser.command_size();
        ++commands;
        continue;
      }
      const ParseStatus status = parser.Parse(stream.data() + pos, stream.size() - pos);
      pos += parser.skipped_bytes();
      if (status != ParseStatus::kCommand) break;
      pos += parser.command_size();
      ++commands;
    }
    return commands;
  };
  ASSERT_EQ(run(), 100u);  // warm-up: vectors and scratch reach their sizes
  const long before = g_allocations.load();
  ASSERT_EQ(run(), 100u);
  EXPECT_EQ(g_allocations.load() - before, 0);
}

TEST(RequestParserTest, SteadyStateFastPathDoesNotAllocate) {
  std::string stream;
  for (int i = 0; i < 50; ++i) {
    stream += Multibulk({"SET", "key:" + std::to_string(i), std::string(i * 3, 'x')});
    stream += Multibulk({"GET", "key:" + std::to_string(i)});
  }
  RequestParser parser;
  const auto run = [&] {
    size_t commands = 0;
    for (size_t pos = 0;
         parser.Parse(stream.data() + pos, stream.size() - pos) == ParseStatus::kCommand;) {
      pos += parser.skipped_bytes() + parser.command_size();
      ++commands;
    }
    return commands;
  };
  ASSERT_EQ(run(), 100u);
  const long before = g_allocations.load();
  ASSERT_EQ(run(), 100u);
  EXPECT_EQ(g_allocations.load() - before, 0);
}

}  // namespace
}  // namespace slotplane::dataplane
