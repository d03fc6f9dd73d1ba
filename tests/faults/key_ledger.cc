#include "tests/faults/key_ledger.h"

#include <algorithm>

namespace slotplane::faults {

void LedgerCounts::Add(const LedgerCounts& other) {
  acked_increments += other.acked_increments;
  backwards_acks += other.backwards_acks;
  unexpected_increments += other.unexpected_increments;
  stale_reads += other.stale_reads;
  backwards_reads += other.backwards_reads;
  lost_keys += other.lost_keys;
  lost_increments += other.lost_increments;
  unverified_keys += other.unverified_keys;
}

void KeyLedger::OnIncrAck(size_t key, int64_t value, LedgerCounts& counts) {
  KeyState& state = keys_[key];
  ++counts.acked_increments;
  if (value <= state.last_ack) {
    ++counts.backwards_acks;
  } else {
    // value - last_ack - 1 increments ran between the two acknowledgements without one of their
    // own; only those sent without a clear answer may have.
    const int64_t extra = value - state.last_ack - 1 - state.unknown_since_ack;
    if (extra > 0) counts.unexpected_increments += extra;
  }
  state.last_ack = value;
  state.max_ack = std::max(state.max_ack, value);
  state.unknown_since_ack = 0;
}

void KeyLedger::OnRead(size_t key, int64_t floor, int64_t value, LedgerCounts& counts) {
  KeyState& state = keys_[key];
  if (value < floor) ++counts.stale_reads;
  if (value < state.last_read) ++counts.backwards_reads;
  state.last_read = std::max(state.last_read, value);
}

void KeyLedger::OnFinal(size_t key, bool readable, int64_t value, LedgerCounts& counts) const {
  const KeyState& state = keys_[key];
  if (!readable) {
    ++counts.unverified_keys;
    return;
  }
  if (value < state.max_ack) {
    ++counts.lost_keys;
    counts.lost_increments += state.max_ack - value;
  } else if (value > state.last_ack + state.unknown_since_ack) {
    counts.unexpected_increments += value - state.last_ack - state.unknown_since_ack;
  }
}

}  // namespace slotplane::faults
