#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dataplane/scatter/reducers.h"

// The merges of LATENCY DOCTOR, LATENCY GRAPH and LATENCY HISTOGRAM, read on every node (masters
// and replicas). Pure functions over whole RESP2 frames, one per part in part order; `nodes[i]`
// is part i's address. See reducers.h for the shared rules.
namespace slotplane::dataplane::reduce {

// LATENCY DOCTOR, LATENCY GRAPH event: one bulk string with every node's text, in part order,
// each under a line "=== node <host:port> ===" and followed by an empty line. A node that answered
// an error (GRAPH's "No samples available for event ..." on a node without samples, or a node
// that could not be reached) shows the error's text in its section; when every node answered an
// error, the first one is the reply, as from a single node.
void NodeTexts(const Replies& replies, const std::vector<std::string>& nodes,
               std::string_view command, std::string* out, bool resp3 = false);

// LATENCY HISTOGRAM [command ...]: Redis's shape (a flat array of command name, then
// [calls, n, histogram_usec, [bound, cumulative count, ...]]), each command's histograms summed
// over the nodes: calls added, and the cumulative count at each bucket bound the sum of the nodes'
// cumulative counts at that bound. Every node uses the same power-of-two bounds and lists a bound
// only where its count grew, so the merge is exact. Commands in the order they first appear in
// part order. The first error in part order wins. `resp3`: the pairs are maps, as Redis writes
// them to a RESP3 client (a map of command name to a map of calls and histogram_usec, itself a
// map of bound to count).
void LatencyHistogram(const Replies& replies, std::string* out, bool resp3 = false);

}  // namespace slotplane::dataplane::reduce
