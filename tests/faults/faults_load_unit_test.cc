// The load client's bookkeeping without a server: error kinds, the latency histogram, the key
// ledger's loss and duplicate detection, and key placement over the slots.

#include <gtest/gtest.h>

#include <set>

#include "common/slot.h"
#include "tests/faults/error_kinds.h"
#include "tests/faults/fault_load.h"
#include "tests/faults/key_ledger.h"
#include "tests/faults/latency_histogram.h"

namespace slotplane::faults {
namespace {

TEST(ErrorKindsTest, WordsWithDigitsAreFolded) {
  EXPECT_EQ(ErrorReplyKind("MOVED 3999 127.0.0.1:6381"), "MOVED # #");
  EXPECT_EQ(ErrorReplyKind("ERR cluster node 127.0.0.1:4444 is unreachable"),
            "ERR cluster node # is unreachable");
  EXPECT_EQ(ErrorReplyKind("CLUSTERDOWN The cluster is down"), "CLUSTERDOWN The cluster is down");
  EXPECT_LE(ErrorReplyKind(std::string(300, 'x')).size(), 80u);
}

TEST(ErrorKindsTest, TransportErrorsByCause) {
  EXPECT_EQ(TransportErrorKind("Resource temporarily unavailable"), "conn: timeout");
  EXPECT_EQ(TransportErrorKind("Server closed the connection"), "conn: closed");
  EXPECT_EQ(TransportErrorKind("Connection reset by peer"), "conn: closed");
  EXPECT_EQ(TransportErrorKind("Connection refused"), "conn: Connection refused");
}

TEST(LatencyHistogramTest, PercentilesWithinOnePercent) {
  LatencyHistogram histogram;
  for (int i = 1; i <= 1000; ++i) histogram.Record(i * 100);
  EXPECT_EQ(histogram.count(), 1000);
  EXPECT_EQ(histogram.max_micros(), 100000);
  EXPECT_NEAR(histogram.PercentileMicros(0.5), 50000, 600);
  EXPECT_NEAR(histogram.PercentileMicros(0.99), 99000, 1100);
  LatencyHistogram other;
  other.Record(5'000'000);
  histogram.Merge(other);
  EXPECT_EQ(histogram.max_micros(), 5'000'000);
}

TEST(KeyLedgerTest, CleanRunHasNoFindings) {
  KeyLedger ledger(1);
  LedgerCounts counts;
  ledger.OnIncrAck(0, 1, counts);
  ledger.OnIncrUnknown(0);  // applied, reply lost
  ledger.OnIncrAck(0, 3, counts);
  ledger.OnRead(0, 3, 3, counts);
  ledger.OnFinal(0, true, 3, counts);
  EXPECT_EQ(counts.acked_increments, 2);
  EXPECT_EQ(counts.backwards_acks + counts.unexpected_increments + counts.stale_reads +
                counts.backwards_reads + counts.lost_keys + counts.lost_increments,
            0);
}

TEST(KeyLedgerTest, FindsLossDuplicatesAndStaleReads) {
  KeyLedger ledger(2);
  LedgerCounts counts;
  ledger.OnIncrAck(0, 1, counts);
  ledger.OnIncrAck(0, 3, counts);  // one increment applied twice
  EXPECT_EQ(counts.unexpected_increments, 1);
  ledger.OnIncrAck(0, 2, counts);  // the counter went back: an acknowledged write lost
  EXPECT_EQ(counts.backwards_acks, 1);
  ledger.OnRead(0, 3, 1, counts);
  EXPECT_EQ(counts.stale_reads, 1);
  ledger.OnRead(0, 0, 0, counts);
  EXPECT_EQ(counts.backwards_reads, 1);
  ledger.OnIncrAck(1, 1, counts);
  ledger.OnIncrAck(1, 2, counts);
  ledger.OnFinal(1, true, 1, counts);
  EXPECT_EQ(counts.lost_keys, 1);
  EXPECT_EQ(counts.lost_increments, 1);
  ledger.OnFinal(0, false, 0, counts);
  EXPECT_EQ(counts.unverified_keys, 1);
}

TEST(LoadKeyTest, SpreadOverEverySlot) {
  std::set<int> slots;
  for (int i = 0; i < kSlotCount; ++i) slots.insert(KeyHashSlot(LoadKey("p", i, kSlotCount)));
  EXPECT_EQ(slots.size(), static_cast<size_t>(kSlotCount));
  EXPECT_EQ(KeyHashSlot(LoadKey("p", 1, 4096)), 4);
}

}  // namespace
}  // namespace slotplane::faults
