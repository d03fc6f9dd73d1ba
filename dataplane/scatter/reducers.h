#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// How the replies of a split or fanned-out command become one reply. Pure functions over whole
// RESP2 frames, one per part in part order; each writes the merged frame to `out` (appending), in
// RESP2 or, for those taking `resp3`, in the client's protocol (the others' replies are the same
// in both).
// An error reply from any part wins over a merge: the first one in part order is returned as it
// is, so a lost node reads the same as it does for a single-node command. A part reply of an
// unexpected type gives an error naming the command.
namespace slotplane::dataplane::reduce {

using Replies = std::vector<std::string>;

// DBSIZE, DEL, UNLINK, EXISTS, TOUCH: the sum of integer replies.
void SumIntegers(const Replies& replies, std::string_view command, std::string* out);

// LASTSAVE: the smallest integer (the oldest save, so that polling after BGSAVE waits for all).
void MinInteger(const Replies& replies, std::string_view command, std::string* out);

// KEYS: one array with every part's elements, in part order.
void ConcatArrays(const Replies& replies, std::string_view command, std::string* out);

// FLUSHALL, SCRIPT LOAD, FUNCTION LOAD, MSET...: every part did the same thing; the first reply
// when none failed.
void FirstUnlessError(const Replies& replies, std::string* out);

// SCRIPT KILL, FUNCTION KILL: the script runs on one node at most; OK when any part succeeded,
// else the first error other than NOTBUSY (e.g. UNKILLABLE, or BUSY for SCRIPT KILL while a
// function runs), else NOTBUSY (none was running).
void AnySuccess(const Replies& replies, std::string* out);

// SCRIPT EXISTS: element-wise AND of integer arrays (1 only where every master has the script),
// except that an element is 1 where `known` says so (a script the proxy can load on any master:
// core/script_cache.h). `known` has one entry per element, or none.
void AndIntegerArrays(const Replies& replies, std::string_view command,
                      const std::vector<bool>& known, std::string* out);

// RANDOMKEY: a random non-nil bulk reply; nil only when every part is nil. `random` picks among
// the candidates (any value; taken modulo their count).
void RandomNonNil(const Replies& replies, std::string_view command, uint64_t random,
                  std::string* out, bool resp3 = false);

// CONFIG SET, CONFIG RESETSTAT, ... on every node: the first error, rewritten to name the node
// (`nodes[i]` is part i's address) and how many nodes succeeded; else the sum when every reply is
// an integer, else the first reply.
void AllNodes(const Replies& replies, const std::vector<std::string>& nodes, std::string* out);

// The per-node diagnostics read on every node; `nodes[i]` is part i's address, the tag of its rows.
// SLOWLOG GET and LATENCY LATEST keep the row shape Redis gives: clients parse a fixed number of
// fields (go-redis v8 reads at most 6 of a slow log entry and would lose its place on a 7th).
//
// SLOWLOG GET: every node's entries, newest first (timestamp, then id, then part order), cut to
// `count` (negative: all). The 6th field, the client name, is replaced by the node's address: from
// the node's side the client is the proxy's connection, which has no name. Entry ids are per node
// and so may repeat across nodes; (id, node) is unique.
void SlowlogGet(const Replies& replies, const std::vector<std::string>& nodes, int64_t count,
                std::string* out);

// LATENCY LATEST: every node's rows, by event name then part order, the event field written
// "<event>@<node>".
void LatencyLatest(const Replies& replies, const std::vector<std::string>& nodes, std::string* out);

// LATENCY HISTORY event: every node's [timestamp, latency] samples, oldest first, each with a
// third element, the node's address.
void LatencyHistory(const Replies& replies, const std::vector<std::string>& nodes,
                    std::string* out);

// MGET split by slot: part p answered the keys whose `key_parts` entry is p, in key order;
// the result is one array in the client's key order. `resp3`: nil elements become RESP3 nulls.
void MergeByKeyOrder(const Replies& replies, const std::vector<uint32_t>& key_parts,
                     std::string_view command, std::string* out, bool resp3 = false);

}  // namespace slotplane::dataplane::reduce
