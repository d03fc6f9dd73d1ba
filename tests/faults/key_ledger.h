#pragma once

// What the fault load knows about each key it increments, and the checks made from it.
//
// Every key has exactly one writer (one load connection), so the INCR replies it gets for a key
// must grow: an acknowledged value at or below an earlier one means an acknowledged increment
// was lost; a jump larger than the increments sent without a clear answer means one was applied
// twice. A read must return at least what was acknowledged before it was sent.
//
// Threading: entries are disjoint per writer thread during the run; the final checks run after
// every writer has been joined.

#include <cstdint>
#include <string>
#include <vector>

namespace slotplane::faults {

struct LedgerCounts {
  int64_t acked_increments = 0;
  // An INCR reply at or below an earlier acknowledged value of the key.
  int64_t backwards_acks = 0;
  // Increments applied beyond those sent (a write executed twice, or one reported failed that
  // took effect later).
  int64_t unexpected_increments = 0;
  // A GET below the value acknowledged before it was sent (normal for replica reads).
  int64_t stale_reads = 0;
  // A GET below an earlier GET of the same key.
  int64_t backwards_reads = 0;
  // Final check: keys whose value is below their highest acknowledged value, and by how much.
  int64_t lost_keys = 0;
  int64_t lost_increments = 0;
  // Final check: keys that could not be read at the end.
  int64_t unverified_keys = 0;

  void Add(const LedgerCounts& other);
};

class KeyLedger {
 public:
  explicit KeyLedger(size_t keys) : keys_(keys) {}

  size_t size() const { return keys_.size(); }
  int64_t max_ack(size_t key) const { return keys_[key].max_ack; }

  // The writer of `key` got `value` as INCR's reply.
  void OnIncrAck(size_t key, int64_t value, LedgerCounts& counts);
  // The writer of `key` sent an INCR and got an error or no reply: it may or may not have run.
  void OnIncrUnknown(size_t key) { ++keys_[key].unknown_since_ack; }
  // A GET of `key`, sent when the key's highest acknowledged value was `floor`, returned `value`.
  void OnRead(size_t key, int64_t floor, int64_t value, LedgerCounts& counts);
  // The final value of `key` (nullopt-like: `readable` false when it could not be read).
  void OnFinal(size_t key, bool readable, int64_t value, LedgerCounts& counts) const;

 private:
  struct KeyState {
    int64_t last_ack = 0;
    int64_t max_ack = 0;
    int64_t unknown_since_ack = 0;
    int64_t last_read = 0;
  };

  std::vector<KeyState> keys_;
};

}  // namespace slotplane::faults
