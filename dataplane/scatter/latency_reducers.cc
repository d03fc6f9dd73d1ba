#include "dataplane/scatter/latency_reducers.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>

#include "dataplane/core/errors.h"
#include "dataplane/resp/reply_reader.h"
#include "dataplane/resp/reply_writer.h"

namespace slotplane::dataplane::reduce {
namespace {

constexpr std::string_view kHistogram = "latency|histogram";

// One command's histogram on one node: calls, and (bucket bound in µs, cumulative count) pairs
// in increasing bound order.
struct NodeHistogram {
  int64_t calls = 0;
  std::vector<std::pair<int64_t, int64_t>> buckets;
};

// One command's entry [calls, n, histogram_usec, [bound, count, ...]]; false on another shape.
bool ReadCommandHistogram(std::string_view frame, NodeHistogram* histogram) {
  std::vector<std::string_view> fields;
  if (!resp::ReadArray(frame, &fields) || fields.size() != 4) return false;
  std::vector<std::string_view> buckets;
  if (!resp::ReadInteger(fields[1], &histogram->calls) || !resp::ReadArray(fields[3], &buckets) ||
      buckets.size() % 2 != 0) {
    return false;
  }
  for (size_t i = 0; i < buckets.size(); i += 2) {
    int64_t bound;
    int64_t count;
    if (!resp::ReadInteger(buckets[i], &bound) || !resp::ReadInteger(buckets[i + 1], &count)) {
      return false;
    }
    histogram->buckets.emplace_back(bound, count);
  }
  return true;
}

// The nodes' histograms of one command summed. A node's cumulative count at a bound it does not
// list is its count at the closest listed bound below (zero below its first).
NodeHistogram Sum(const std::vector<NodeHistogram>& per_node) {
  NodeHistogram sum;
  std::vector<int64_t> bounds;
  for (const NodeHistogram& h : per_node) {
    sum.calls += h.calls;
    for (const auto& bucket : h.buckets) bounds.push_back(bucket.first);
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  std::vector<size_t> next(per_node.size(), 0);
  std::vector<int64_t> at(per_node.size(), 0);
  int64_t previous = 0;
  for (int64_t bound : bounds) {
    int64_t total = 0;
    for (size_t n = 0; n < per_node.size(); ++n) {
      const auto& buckets = per_node[n].buckets;
      while (next[n] < buckets.size() && buckets[next[n]].first <= bound) {
        at[n] = buckets[next[n]++].second;
      }
      total += at[n];
    }
    if (total > previous) sum.buckets.emplace_back(bound, total);  // as Redis lists them
    previous = total;
  }
  return sum;
}

}  // namespace

void NodeTexts(const Replies& replies, const std::vector<std::string>& nodes,
               std::string_view command, std::string* out, bool resp3) {
  const bool all_errors = std::all_of(replies.begin(), replies.end(),
                                      [](const std::string& r) { return resp::IsError(r); });
  if (all_errors && !replies.empty()) {
    out->append(replies.front());
    return;
  }
  std::string text;
  for (size_t p = 0; p < replies.size(); ++p) {
    std::string_view body;
    bool is_null = false;
    if (resp::IsError(replies[p])) {
      body = std::string_view(replies[p]).substr(1);         // without '-'
      body.remove_suffix(std::min<size_t>(body.size(), 2));  // nor CRLF
    } else if (!resp::ReadBulk(replies[p], &body, &is_null) || is_null) {
      out->append(errors::UnexpectedReply(command));
      return;
    }
    text.append("=== node ").append(p < nodes.size() ? nodes[p] : "?").append(" ===\n");
    text.append(body);
    if (body.empty() || body.back() != '\n') text.push_back('\n');
    text.push_back('\n');
  }
  resp::AppendVerbatim(out, text, resp3);  // as Redis's addReplyVerbatim
}

void LatencyHistogram(const Replies& replies, std::string* out, bool resp3) {
  for (const std::string& reply : replies) {
    if (resp::IsError(reply)) {
      out->append(reply);
      return;
    }
  }
  std::vector<std::string_view> order;  // command names, first appearance first
  std::map<std::string_view, std::vector<NodeHistogram>> by_command;
  std::vector<std::string_view> elements;
  for (const std::string& reply : replies) {
    if (!resp::ReadArray(reply, &elements) || elements.size() % 2 != 0) {
      out->append(errors::UnexpectedReply(kHistogram));
      return;
    }
    for (size_t i = 0; i < elements.size(); i += 2) {
      std::string_view name;
      bool is_null = false;
      NodeHistogram histogram;
      if (!resp::ReadBulk(elements[i], &name, &is_null) || is_null ||
          !ReadCommandHistogram(elements[i + 1], &histogram)) {
        out->append(errors::UnexpectedReply(kHistogram));
        return;
      }
      auto [it, added] = by_command.try_emplace(name);
      if (added) order.push_back(name);
      it->second.push_back(std::move(histogram));
    }
  }
  // Maps in RESP3, flat arrays of pairs in RESP2, as Redis's addReplyMapLen.
  resp::AppendMapHeader(out, order.size(), resp3);
  for (std::string_view name : order) {
    const NodeHistogram sum = Sum(by_command[name]);
    resp::AppendBulk(out, name);
    resp::AppendMapHeader(out, 2, resp3);
    resp::AppendBulk(out, "calls");
    resp::AppendInteger(out, sum.calls);
    resp::AppendBulk(out, "histogram_usec");
    resp::AppendMapHeader(out, sum.buckets.size(), resp3);
    for (const auto& [bound, count] : sum.buckets) {
      resp::AppendInteger(out, bound);
      resp::AppendInteger(out, count);
    }
  }
}

}  // namespace slotplane::dataplane::reduce
