#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// How the replies of a split or fanned-out command become one reply. Pure functions over whole
// RESP2 frames, one per part in part order; each writes the merged frame to `out` (appending).
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
// else the first error (NOTBUSY when none was running).
void AnySuccess(const Replies& replies, std::string* out);

// SCRIPT EXISTS: element-wise AND of integer arrays (1 only where every master has the script).
void AndIntegerArrays(const Replies& replies, std::string_view command, std::string* out);

// RANDOMKEY: a random non-nil bulk reply; nil only when every part is nil. `random` picks among
// the candidates (any value; taken modulo their count).
void RandomNonNil(const Replies& replies, std::string_view command, uint64_t random,
                  std::string* out);

// CONFIG SET, CONFIG RESETSTAT, ... on every node: the first error, rewritten to name the node
// (`nodes[i]` is part i's address) and how many nodes succeeded; else the sum when every reply is
// an integer, else the first reply.
void AllNodes(const Replies& replies, const std::vector<std::string>& nodes, std::string* out);

// MGET split by slot: part p answered the keys whose `key_parts` entry is p, in key order;
// the result is one array in the client's key order.
void MergeByKeyOrder(const Replies& replies, const std::vector<uint32_t>& key_parts,
                     std::string_view command, std::string* out);

}  // namespace slotplane::dataplane::reduce
