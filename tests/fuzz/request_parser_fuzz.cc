// libFuzzer target for RequestParser. The input is a client byte stream. It is parsed once in one
// piece and once in chunks whose sizes are derived from the input, each with default and with
// small limits; both runs must agree exactly (commands, final status, error text). Every command
// must also survive a round trip through its multibulk encoding.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/resp/request_parser.h"

namespace {

using slotplane::dataplane::ParseStatus;
using slotplane::dataplane::RequestLimits;
using slotplane::dataplane::RequestParser;

void Check(bool condition, const char* invariant) {
  if (condition) return;
  std::fprintf(stderr, "request_parser_fuzz: invariant violated: %s\n", invariant);
  std::abort();
}

struct Command {
  std::vector<std::string> args;
  bool is_inline;
  size_t size;
  bool operator==(const Command& o) const {
    return args == o.args && is_inline == o.is_inline && size == o.size;
  }
};

struct Result {
  std::vector<Command> commands;
  ParseStatus last = ParseStatus::kNeedMore;
  std::string error;
  size_t leftover = 0;  // buffered bytes of a partial command (not compared after an error)
};

// Chunk sizes: a mix of single bytes, small and large chunks, from a hash of the input.
class Chunker {
 public:
  explicit Chunker(uint64_t seed) : state_(seed | 1) {}
  size_t Next(size_t remaining) {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    size_t n = remaining;
    switch (state_ % 4) {
      case 0:
        n = 1;
        break;
      case 1:
        n = 1 + (state_ >> 8) % 8;
        break;
      case 2:
        n = 1 + (state_ >> 8) % 128;
        break;
      default:
        break;
    }
    return n < remaining ? n : remaining;
  }

 private:
  uint64_t state_;
};

uint64_t Hash(const uint8_t* data, size_t size) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ULL;
  return h;
}

void CheckCommand(const RequestParser& parser, const char* command, size_t available) {
  Check(parser.command_size() > 0, "a command has bytes");
  Check(parser.command_size() <= available, "command_size within the buffer");
  Check(!parser.args().empty(), "a command has arguments");
  if (parser.is_inline()) return;
  for (std::string_view arg : parser.args()) {
    Check(arg.data() >= command && arg.data() + arg.size() <= command + parser.command_size(),
          "multibulk arguments point into the command's bytes");
  }
}

// Feeds the stream in chunks (all at once if `chunker` is null). Each call sees an exactly sized
// fresh copy of the pending bytes, so stale pointers and over-reads are caught by ASan.
Result Run(const uint8_t* data, size_t size, const RequestLimits& limits, Chunker* chunker) {
  RequestParser parser(limits);
  std::string pending;
  Result result;
  size_t fed = 0;
  do {
    const size_t n = chunker != nullptr ? chunker->Next(size - fed) : size - fed;
    pending.append(reinterpret_cast<const char*>(data) + fed, n);
    fed += n;
    for (;;) {
      std::unique_ptr<char[]> copy(new char[pending.size()]);
      pending.copy(copy.get(), pending.size());
      const ParseStatus status = parser.Parse(copy.get(), pending.size());
      const size_t skipped = parser.skipped_bytes();
      Check(skipped <= pending.size(), "skipped bytes within the buffer");
      if (status == ParseStatus::kError) {
        Check(!parser.error().empty(), "an error has a text");
        result.last = status;
        result.error = parser.error();
        return result;
      }
      if (status == ParseStatus::kNeedMore) {
        Check(parser.command_size() == 0, "no command size without a command");
        pending.erase(0, skipped);
        break;
      }
      CheckCommand(parser, copy.get() + skipped, pending.size() - skipped);
      Command command{{}, parser.is_inline(), parser.command_size()};
      for (std::string_view arg : parser.args()) command.args.emplace_back(arg);
      result.commands.push_back(std::move(command));
      pending.erase(0, skipped + parser.command_size());
    }
  } while (fed < size);
  result.leftover = pending.size();
  return result;
}

// Re-encodes a command as multibulk and parses it back: same arguments, nothing left over.
void CheckRoundTrip(const Command& command) {
  std::string encoded = "*" + std::to_string(command.args.size()) + "\r\n";
  for (const std::string& arg : command.args) {
    encoded += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  }
  RequestParser parser;
  Check(parser.Parse(encoded.data(), encoded.size()) == ParseStatus::kCommand,
        "re-encoded command parses");
  Check(parser.skipped_bytes() == 0 && parser.command_size() == encoded.size(),
        "re-encoded command is consumed exactly");
  Check(!parser.is_inline(), "re-encoded command is multibulk");
  Check(parser.args().size() == command.args.size(), "round trip keeps the argument count");
  for (size_t i = 0; i < command.args.size(); ++i) {
    Check(parser.args()[i] == command.args[i], "round trip keeps the arguments");
  }
}

void CheckSameOutcome(const Result& whole, const Result& chunked) {
  Check(whole.commands == chunked.commands, "chunking does not change the commands");
  Check(whole.last == chunked.last, "chunking does not change the final status");
  Check(whole.error == chunked.error, "chunking does not change the error text");
  if (whole.last == ParseStatus::kNeedMore) {
    Check(whole.leftover == chunked.leftover, "chunking does not change the partial tail");
  }
}

void FuzzWithLimits(const uint8_t* data, size_t size, const RequestLimits& limits) {
  const Result whole = Run(data, size, limits, nullptr);
  Chunker chunker(Hash(data, size));
  const Result chunked = Run(data, size, limits, &chunker);
  CheckSameOutcome(whole, chunked);
  for (const Command& command : whole.commands) CheckRoundTrip(command);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzWithLimits(data, size, RequestLimits());
  RequestLimits small;
  small.max_bulk_len = 64;
  small.max_inline_len = 32;
  small.max_multibulk_len = 8;
  FuzzWithLimits(data, size, small);
  return 0;
}
