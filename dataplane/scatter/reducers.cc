#include "dataplane/scatter/reducers.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "dataplane/core/errors.h"
#include "dataplane/resp/reply_reader.h"
#include "dataplane/resp/reply_writer.h"

namespace slotplane::dataplane::reduce {
namespace {

// The first error reply, or nullptr.
const std::string* FirstError(const Replies& replies) {
  for (const std::string& reply : replies) {
    if (resp::IsError(reply)) return &reply;
  }
  return nullptr;
}

// Writes the first error, if any; true when it did.
bool AppendFirstError(const Replies& replies, std::string* out) {
  const std::string* error = FirstError(replies);
  if (error == nullptr) return false;
  out->append(*error);
  return true;
}

// Integer replies folded with `fold`; an unexpected type ends in UnexpectedReply.
template <typename Fold>
void FoldIntegers(const Replies& replies, std::string_view command, Fold fold, std::string* out) {
  if (AppendFirstError(replies, out)) return;
  int64_t result = 0;
  for (size_t i = 0; i < replies.size(); ++i) {
    int64_t value;
    if (!resp::ReadInteger(replies[i], &value)) {
      out->append(errors::UnexpectedReply(command));
      return;
    }
    result = i == 0 ? value : fold(result, value);
  }
  resp::AppendInteger(out, result);
}

// The bytes of elements [first, last) of one array, contiguous in its frame.
std::string_view Span(const std::vector<std::string_view>& elements, size_t first, size_t last) {
  if (first >= last) return {};
  const char* begin = elements[first].data();
  const char* end = elements[last - 1].data() + elements[last - 1].size();
  return std::string_view(begin, end - begin);
}

// One row of a per-node diagnostic reply: its fields, its node and what it is sorted by.
struct NodeRow {
  std::vector<std::string_view> fields;
  size_t part = 0;
  int64_t time = 0;        // SLOWLOG: the timestamp; LATENCY HISTORY: the sample's timestamp
  int64_t id = 0;          // SLOWLOG: the entry id
  std::string_view event;  // LATENCY LATEST: the event name
};

// Every part's rows (arrays of at least `min_fields` elements); false on an unexpected shape.
bool ReadNodeRows(const Replies& replies, size_t min_fields, std::vector<NodeRow>* rows) {
  std::vector<std::string_view> entries;
  for (size_t p = 0; p < replies.size(); ++p) {
    if (!resp::ReadArray(replies[p], &entries)) return false;
    for (std::string_view entry : entries) {
      NodeRow row;
      row.part = p;
      if (!resp::ReadArray(entry, &row.fields) || row.fields.size() < min_fields) return false;
      rows->push_back(std::move(row));
    }
  }
  return true;
}

const std::string& NodeOf(const std::vector<std::string>& nodes, size_t part) {
  static const std::string kUnknown = "?";
  return part < nodes.size() ? nodes[part] : kUnknown;
}

}  // namespace

void SumIntegers(const Replies& replies, std::string_view command, std::string* out) {
  FoldIntegers(
      replies, command, [](int64_t a, int64_t b) { return a + b; }, out);
}

void MinInteger(const Replies& replies, std::string_view command, std::string* out) {
  FoldIntegers(
      replies, command, [](int64_t a, int64_t b) { return std::min(a, b); }, out);
}

void ConcatArrays(const Replies& replies, std::string_view command, std::string* out) {
  if (AppendFirstError(replies, out)) return;
  std::vector<std::string_view> elements;
  size_t total = 0;
  for (const std::string& reply : replies) {
    if (!resp::ReadArray(reply, &elements)) {
      out->append(errors::UnexpectedReply(command));
      return;
    }
    total += elements.size();
  }
  resp::AppendArrayHeader(out, total);
  for (const std::string& reply : replies) {
    resp::ReadArray(reply, &elements);
    if (!elements.empty()) {
      // The elements are contiguous: copy them in one piece.
      const char* begin = elements.front().data();
      const char* end = elements.back().data() + elements.back().size();
      out->append(begin, end - begin);
    }
  }
}

void FirstUnlessError(const Replies& replies, std::string* out) {
  if (AppendFirstError(replies, out)) return;
  if (!replies.empty()) out->append(replies.front());
}

void AnySuccess(const Replies& replies, std::string* out) {
  for (const std::string& reply : replies) {
    if (!resp::IsError(reply)) {
      out->append(reply);
      return;
    }
  }
  // No node killed anything: a node's own reason (BUSY running a function, UNKILLABLE) says more
  // than the NOTBUSY of the nodes that were idle.
  for (const std::string& reply : replies) {
    if (!absl::StartsWith(reply, "-NOTBUSY")) {
      out->append(reply);
      return;
    }
  }
  if (!replies.empty()) out->append(replies.front());
}

void AndIntegerArrays(const Replies& replies, std::string_view command,
                      const std::vector<bool>& known, std::string* out) {
  if (AppendFirstError(replies, out)) return;
  std::vector<int64_t> result;
  std::vector<std::string_view> elements;
  for (size_t i = 0; i < replies.size(); ++i) {
    if (!resp::ReadArray(replies[i], &elements) || (i > 0 && elements.size() != result.size())) {
      out->append(errors::UnexpectedReply(command));
      return;
    }
    if (i == 0) result.assign(elements.size(), 1);
    for (size_t j = 0; j < elements.size(); ++j) {
      int64_t value;
      if (!resp::ReadInteger(elements[j], &value)) {
        out->append(errors::UnexpectedReply(command));
        return;
      }
      if (value == 0 && !(j < known.size() && known[j])) result[j] = 0;
    }
  }
  resp::AppendArrayHeader(out, result.size());
  for (int64_t value : result) resp::AppendInteger(out, value);
}

void RandomNonNil(const Replies& replies, std::string_view command, uint64_t random,
                  std::string* out, bool resp3) {
  std::vector<const std::string*> candidates;
  for (const std::string& reply : replies) {
    std::string_view bytes;
    bool is_null;
    if (resp::IsError(reply)) continue;
    if (!resp::ReadBulk(reply, &bytes, &is_null)) {
      out->append(errors::UnexpectedReply(command));
      return;
    }
    if (!is_null) candidates.push_back(&reply);
  }
  if (!candidates.empty()) {
    out->append(*candidates[random % candidates.size()]);
  } else if (!AppendFirstError(replies, out)) {
    resp::AppendNull(out, resp3);  // every master is empty
  }
}

void AllNodes(const Replies& replies, const std::vector<std::string>& nodes, std::string* out) {
  size_t succeeded = 0;
  const std::string* error = nullptr;
  size_t error_node = 0;
  bool all_integers = true;
  int64_t sum = 0;
  for (size_t i = 0; i < replies.size(); ++i) {
    if (resp::IsError(replies[i])) {
      if (error == nullptr) {
        error = &replies[i];
        error_node = i;
      }
      continue;
    }
    ++succeeded;
    int64_t value;
    if (resp::ReadInteger(replies[i], &value)) {
      sum += value;
    } else {
      all_integers = false;
    }
  }
  if (error != nullptr) {
    out->append(errors::FromNode(*error, error_node < nodes.size() ? nodes[error_node] : "?",
                                 succeeded, replies.size()));
  } else if (all_integers && !replies.empty()) {
    resp::AppendInteger(out, sum);
  } else if (!replies.empty()) {
    out->append(replies.front());
  }
}

void SlowlogGet(const Replies& replies, const std::vector<std::string>& nodes, int64_t count,
                std::string* out) {
  if (AppendFirstError(replies, out)) return;
  std::vector<NodeRow> rows;
  if (!ReadNodeRows(replies, 6, &rows)) {
    out->append(errors::UnexpectedReply("slowlog|get"));
    return;
  }
  for (NodeRow& row : rows) {
    if (!resp::ReadInteger(row.fields[0], &row.id) ||
        !resp::ReadInteger(row.fields[1], &row.time)) {
      out->append(errors::UnexpectedReply("slowlog|get"));
      return;
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const NodeRow& a, const NodeRow& b) {
    return a.time != b.time ? a.time > b.time : a.id > b.id;
  });
  if (count >= 0 && static_cast<uint64_t>(count) < rows.size()) rows.resize(count);
  resp::AppendArrayHeader(out, rows.size());
  for (const NodeRow& row : rows) {
    resp::AppendArrayHeader(out, 6);
    out->append(Span(row.fields, 0, 5));
    resp::AppendBulk(out, NodeOf(nodes, row.part));
  }
}

void LatencyLatest(const Replies& replies, const std::vector<std::string>& nodes,
                   std::string* out) {
  if (AppendFirstError(replies, out)) return;
  std::vector<NodeRow> rows;
  if (!ReadNodeRows(replies, 1, &rows)) {
    out->append(errors::UnexpectedReply("latency|latest"));
    return;
  }
  for (NodeRow& row : rows) {
    bool is_null = false;
    if (!resp::ReadBulk(row.fields[0], &row.event, &is_null) || is_null) {
      out->append(errors::UnexpectedReply("latency|latest"));
      return;
    }
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const NodeRow& a, const NodeRow& b) { return a.event < b.event; });
  resp::AppendArrayHeader(out, rows.size());
  for (const NodeRow& row : rows) {
    resp::AppendArrayHeader(out, row.fields.size());
    std::string event(row.event);
    event.append("@").append(NodeOf(nodes, row.part));
    resp::AppendBulk(out, event);
    out->append(Span(row.fields, 1, row.fields.size()));
  }
}

void LatencyHistory(const Replies& replies, const std::vector<std::string>& nodes,
                    std::string* out) {
  if (AppendFirstError(replies, out)) return;
  std::vector<NodeRow> rows;
  if (!ReadNodeRows(replies, 1, &rows)) {
    out->append(errors::UnexpectedReply("latency|history"));
    return;
  }
  for (NodeRow& row : rows) {
    if (!resp::ReadInteger(row.fields[0], &row.time)) {
      out->append(errors::UnexpectedReply("latency|history"));
      return;
    }
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const NodeRow& a, const NodeRow& b) { return a.time < b.time; });
  resp::AppendArrayHeader(out, rows.size());
  for (const NodeRow& row : rows) {
    resp::AppendArrayHeader(out, row.fields.size() + 1);
    out->append(Span(row.fields, 0, row.fields.size()));
    resp::AppendBulk(out, NodeOf(nodes, row.part));
  }
}

void MergeByKeyOrder(const Replies& replies, const std::vector<uint32_t>& key_parts,
                     std::string_view command, std::string* out, bool resp3) {
  if (AppendFirstError(replies, out)) return;
  std::vector<std::vector<std::string_view>> elements(replies.size());
  for (size_t p = 0; p < replies.size(); ++p) {
    if (!resp::ReadArray(replies[p], &elements[p])) {
      out->append(errors::UnexpectedReply(command));
      return;
    }
  }
  // Each part must have answered exactly as many elements as it was sent keys.
  std::vector<size_t> next(replies.size(), 0);
  for (uint32_t p : key_parts) {
    if (p >= replies.size()) {
      out->append(errors::UnexpectedReply(command));
      return;
    }
    ++next[p];
  }
  for (size_t p = 0; p < replies.size(); ++p) {
    if (next[p] != elements[p].size()) {
      out->append(errors::UnexpectedReply(command));
      return;
    }
  }
  std::fill(next.begin(), next.end(), 0);
  resp::AppendArrayHeader(out, key_parts.size());
  for (uint32_t p : key_parts) {
    const std::string_view element = elements[p][next[p]++];
    if (resp3 && element == "$-1\r\n") {
      resp::AppendNull(out, true);
    } else {
      out->append(element);
    }
  }
}

}  // namespace slotplane::dataplane::reduce
