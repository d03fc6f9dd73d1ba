#include "dataplane/stateful/node_answers.h"

#include <charconv>
#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "common/strings.h"
#include "dataplane/core/errors.h"
#include "dataplane/resp/reply_writer.h"

namespace slotplane::dataplane {
namespace {

struct Element {
  char type = 0;          // '$' or ':'
  std::string_view text;  // '$': the bytes
  int64_t integer = 0;    // ':'
};

bool ReadLineNumber(std::string_view frame, size_t* pos, int64_t* value) {
  size_t end = frame.find("\r\n", *pos);
  if (end == std::string_view::npos) return false;
  auto [ptr, ec] = std::from_chars(frame.data() + *pos, frame.data() + end, *value);
  if (ec != std::errc() || ptr != frame.data() + end) return false;
  *pos = end + 2;
  return true;
}

// A RESP2 integer frame.
bool ReadInteger(std::string_view frame, int64_t* value) {
  size_t pos = 1;
  return !frame.empty() && frame[0] == ':' && ReadLineNumber(frame, &pos, value);
}

// A RESP2 array whose elements are bulk strings and integers.
bool ReadFlatArray(std::string_view frame, std::vector<Element>* out) {
  out->clear();
  size_t pos = 1;
  int64_t count;
  if (frame.empty() || frame[0] != '*' || !ReadLineNumber(frame, &pos, &count) || count < 0) {
    return false;
  }
  for (int64_t i = 0; i < count; ++i) {
    if (pos >= frame.size()) return false;
    Element e;
    e.type = frame[pos++];
    int64_t n;
    if (!ReadLineNumber(frame, &pos, &n)) return false;
    if (e.type == ':') {
      e.integer = n;
    } else if (e.type == '$' && n >= 0 && pos + static_cast<size_t>(n) + 2 <= frame.size()) {
      e.text = frame.substr(pos, static_cast<size_t>(n));
      pos += static_cast<size_t>(n) + 2;
    } else {
      return false;
    }
    out->push_back(e);
  }
  return true;
}

const std::string* FirstError(const std::vector<std::string>& answers) {
  for (const std::string& answer : answers) {
    if (!answer.empty() && answer[0] == '-') return &answer;
  }
  return nullptr;
}

std::string Unexpected(std::string_view command) {
  std::string message = "slotplane: unexpected reply from a cluster node for '";
  message.append(command.data(), command.size()).append("'");
  return errors::Generic(message);
}

std::string MergeUnion(std::string_view subcommand, const std::vector<std::string>& answers) {
  std::vector<Element> elements;
  std::vector<std::string_view> names;
  absl::flat_hash_set<std::string_view> seen;
  for (const std::string& answer : answers) {
    if (!ReadFlatArray(answer, &elements)) return Unexpected(subcommand);
    for (const Element& e : elements) {
      if (e.type == '$' && seen.insert(e.text).second) names.push_back(e.text);
    }
  }
  std::string out;
  resp::AppendArrayHeader(&out, names.size());
  for (std::string_view name : names) resp::AppendBulk(&out, name);
  return out;
}

std::string MergeCounts(std::string_view subcommand, const std::vector<std::string>& answers) {
  std::vector<Element> first, elements;
  if (answers.empty() || !ReadFlatArray(answers[0], &first)) return Unexpected(subcommand);
  for (size_t i = 1; i < answers.size(); ++i) {
    if (!ReadFlatArray(answers[i], &elements) || elements.size() != first.size()) {
      return Unexpected(subcommand);
    }
    for (size_t j = 1; j < first.size(); j += 2) first[j].integer += elements[j].integer;
  }
  std::string out;
  resp::AppendArrayHeader(&out, first.size());
  for (const Element& e : first) {
    if (e.type == '$') {
      resp::AppendBulk(&out, e.text);
    } else {
      resp::AppendInteger(&out, e.integer);
    }
  }
  return out;
}

}  // namespace

std::string MergePubSubAnswers(std::string_view subcommand,
                               const std::vector<std::string>& answers) {
  if (const std::string* error = FirstError(answers)) return *error;
  if (subcommand == "pubsub|channels" || subcommand == "pubsub|shardchannels") {
    return MergeUnion(subcommand, answers);
  }
  if (subcommand == "pubsub|numsub" || subcommand == "pubsub|shardnumsub") {
    return MergeCounts(subcommand, answers);
  }
  // NUMPAT
  int64_t total = 0;
  for (const std::string& answer : answers) {
    int64_t n;
    if (!ReadInteger(answer, &n)) return Unexpected(subcommand);
    total += n;
  }
  std::string out;
  resp::AppendInteger(&out, total);
  return out;
}

std::string MergeWaitAnswers(const std::vector<std::string>& answers) {
  if (const std::string* error = FirstError(answers)) return *error;
  int64_t smallest = 0;
  for (size_t i = 0; i < answers.size(); ++i) {
    int64_t n;
    if (!ReadInteger(answers[i], &n)) return Unexpected("wait");
    if (i == 0 || n < smallest) smallest = n;
  }
  std::string out;
  resp::AppendInteger(&out, smallest);
  return out;
}

}  // namespace slotplane::dataplane
