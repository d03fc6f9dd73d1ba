#pragma once

#include <string>
#include <string_view>
#include <vector>

// Merges the answers several masters gave to one client command that the proxy ran on each of
// them over private connections (see NodeFanout). Pure functions over RESP2 frames, so they are
// unit-tested on their own. An error answer from any node is the client's answer (the first one).
namespace slotplane::dataplane {

// PUBSUB CHANNELS / SHARDCHANNELS: the union of the nodes' arrays (each name once, in the order
// first seen). PUBSUB NUMPAT: the sum. PUBSUB NUMSUB / SHARDNUMSUB: per channel, the sum of the
// nodes' counts (every subscription lives on exactly one node). `subcommand` is the full lower
// case name ("pubsub|numsub").
std::string MergePubSubAnswers(std::string_view subcommand,
                               const std::vector<std::string>& answers);

// WAIT: the smallest count (the replicas that acknowledged on every master).
std::string MergeWaitAnswers(const std::vector<std::string>& answers);

}  // namespace slotplane::dataplane
