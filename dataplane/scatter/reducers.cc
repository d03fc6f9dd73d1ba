#include "dataplane/scatter/reducers.h"

#include <algorithm>

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
  if (!replies.empty()) out->append(replies.front());
}

void AndIntegerArrays(const Replies& replies, std::string_view command, std::string* out) {
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
      if (value == 0) result[j] = 0;
    }
  }
  resp::AppendArrayHeader(out, result.size());
  for (int64_t value : result) resp::AppendInteger(out, value);
}

void RandomNonNil(const Replies& replies, std::string_view command, uint64_t random,
                  std::string* out) {
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
    resp::AppendNullBulk(out);  // every master is empty
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

void MergeByKeyOrder(const Replies& replies, const std::vector<uint32_t>& key_parts,
                     std::string_view command, std::string* out) {
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
  for (uint32_t p : key_parts) out->append(elements[p][next[p]++]);
}

}  // namespace slotplane::dataplane::reduce
