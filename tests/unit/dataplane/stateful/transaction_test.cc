// The transaction state machine: Redis's MULTI/EXEC/DISCARD/WATCH rules and error texts, and the
// cluster rule that every key of a transaction hashes to one slot.

#include "dataplane/stateful/transaction.h"

#include <gtest/gtest.h>

#include <string>

namespace slotplane::dataplane {
namespace {

constexpr char kOk[] = "+OK\r\n";
constexpr char kQueued[] = "+QUEUED\r\n";
constexpr char kCrossSlotError[] = "-CROSSSLOT Keys in request don't hash to the same slot\r\n";

using Action = Transaction::ExecAction;

TEST(TransactionTest, QueuesCommandsAndBuildsTheExecBlock) {
  Transaction txn;
  EXPECT_EQ(txn.Multi(), kOk);
  EXPECT_TRUE(txn.in_multi());
  EXPECT_EQ(txn.Queue("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n", 15495), kQueued);
  EXPECT_EQ(txn.Queue("*1\r\n$4\r\nPING\r\n", kNoKeySlot), kQueued);
  EXPECT_EQ(txn.Queue("*2\r\n$4\r\nINCR\r\n$1\r\na\r\n", 15495), kQueued);
  EXPECT_EQ(txn.slot(), 15495);
  EXPECT_EQ(txn.queued(), 3u);
  EXPECT_EQ(txn.Exec(), Action::kRun);
  std::string block;
  txn.AppendExecBlock(&block);
  EXPECT_EQ(block,
            "*1\r\n$5\r\nMULTI\r\n"
            "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
            "*1\r\n$4\r\nPING\r\n"
            "*2\r\n$4\r\nINCR\r\n$1\r\na\r\n"
            "*1\r\n$4\r\nEXEC\r\n");
  txn.Finish();
  EXPECT_FALSE(txn.in_multi());
  EXPECT_EQ(txn.slot(), kNoKeySlot);
  EXPECT_EQ(txn.queued(), 0u);
}

TEST(TransactionTest, ExecAndDiscardWithoutMulti) {
  Transaction txn;
  EXPECT_EQ(txn.Exec(), Action::kNotInMulti);
  EXPECT_EQ(txn.Discard(), "-ERR DISCARD without MULTI\r\n");
}

TEST(TransactionTest, NestedMultiIsAnErrorThatDoesNotAbort) {
  Transaction txn;
  EXPECT_EQ(txn.Multi(), kOk);
  EXPECT_EQ(txn.Multi(), "-ERR MULTI calls can not be nested\r\n");
  EXPECT_FALSE(txn.flagged());
  EXPECT_EQ(txn.Queue("*1\r\n$4\r\nPING\r\n", kNoKeySlot), kQueued);
  EXPECT_EQ(txn.Exec(), Action::kRun);
}

TEST(TransactionTest, EmptyTransactionAnswersAnEmptyArrayLocally) {
  Transaction txn;
  txn.Multi();
  EXPECT_EQ(txn.Exec(), Action::kEmpty);
  EXPECT_FALSE(txn.in_multi());
}

TEST(TransactionTest, EmptyTransactionWithWatchRunsOnTheNode) {
  // An empty EXEC still answers nil when a watched key changed: the node must see it.
  Transaction txn;
  txn.Watched(100);
  txn.Multi();
  EXPECT_EQ(txn.Exec(), Action::kRun);
}

TEST(TransactionTest, FlaggedTransactionAbortsAtExec) {
  Transaction txn;
  txn.Watched(7);
  txn.Multi();
  txn.Queue("*1\r\n$4\r\nPING\r\n", kNoKeySlot);
  txn.Flag();  // e.g. an unknown command, answered by the dispatcher
  EXPECT_EQ(txn.Exec(), Action::kAbort);
  EXPECT_FALSE(txn.in_multi());
  EXPECT_FALSE(txn.watching());  // EXEC forgets the watches, as in Redis
}

TEST(TransactionTest, KeysInAnotherSlotAreRefusedAndAbortTheTransaction) {
  Transaction txn;
  txn.Multi();
  EXPECT_EQ(txn.Queue("*2\r\n$3\r\nGET\r\n$1\r\na\r\n", 15495), kQueued);
  EXPECT_EQ(txn.Queue("*2\r\n$3\r\nGET\r\n$1\r\nb\r\n", 3300), kCrossSlotError);
  EXPECT_TRUE(txn.flagged());
  EXPECT_EQ(txn.queued(), 1u);
  EXPECT_EQ(txn.Exec(), Action::kAbort);
}

TEST(TransactionTest, OneCommandWithKeysInSeveralSlotsIsRefused) {
  Transaction txn;
  txn.Multi();
  EXPECT_EQ(txn.Queue("*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n", kCrossSlot), kCrossSlotError);
  EXPECT_TRUE(txn.flagged());
}

TEST(TransactionTest, KeylessCommandsFitAnySlot) {
  Transaction txn;
  txn.Multi();
  EXPECT_EQ(txn.Queue("*1\r\n$4\r\nTIME\r\n", kNoKeySlot), kQueued);
  EXPECT_EQ(txn.slot(), kNoKeySlot);
  EXPECT_EQ(txn.Queue("*2\r\n$3\r\nGET\r\n$1\r\na\r\n", 15495), kQueued);
  EXPECT_EQ(txn.Queue("*1\r\n$4\r\nPING\r\n", kNoKeySlot), kQueued);
  EXPECT_EQ(txn.slot(), 15495);
  EXPECT_FALSE(txn.flagged());
}

TEST(TransactionTest, WatchedKeysPinTheSlot) {
  Transaction txn;
  EXPECT_EQ(txn.CheckWatch(42), "");
  txn.Watched(42);
  EXPECT_TRUE(txn.watching());
  EXPECT_EQ(txn.CheckWatch(42), "");
  EXPECT_EQ(txn.CheckWatch(43), kCrossSlotError);
  EXPECT_EQ(txn.CheckWatch(kCrossSlot), kCrossSlotError);
  txn.Multi();
  EXPECT_EQ(txn.Queue("*2\r\n$3\r\nGET\r\n$1\r\nx\r\n", 43), kCrossSlotError);
  EXPECT_EQ(txn.Exec(), Action::kAbort);
}

TEST(TransactionTest, WatchInsideMultiIsAnErrorThatDoesNotAbort) {
  Transaction txn;
  txn.Multi();
  EXPECT_EQ(txn.CheckWatch(1), "-ERR WATCH inside MULTI is not allowed\r\n");
  EXPECT_FALSE(txn.flagged());
}

TEST(TransactionTest, UnwatchForgetsTheSlot) {
  Transaction txn;
  txn.Watched(42);
  txn.Unwatch();
  EXPECT_FALSE(txn.watching());
  EXPECT_EQ(txn.CheckWatch(43), "");
}

TEST(TransactionTest, DiscardEndsTheTransactionAndTheWatches) {
  Transaction txn;
  txn.Watched(42);
  txn.Multi();
  txn.Queue("*2\r\n$3\r\nGET\r\n$1\r\nx\r\n", 42);
  EXPECT_EQ(txn.Discard(), kOk);
  EXPECT_FALSE(txn.in_multi());
  EXPECT_FALSE(txn.watching());
  EXPECT_EQ(txn.queued(), 0u);
  EXPECT_EQ(txn.slot(), kNoKeySlot);
}

TEST(TransactionTest, ResetForgetsEverything) {
  Transaction txn;
  txn.Watched(42);
  txn.Multi();
  txn.Flag();
  txn.Reset();
  EXPECT_FALSE(txn.in_multi());
  EXPECT_FALSE(txn.watching());
  EXPECT_FALSE(txn.flagged());
  EXPECT_EQ(txn.Exec(), Action::kNotInMulti);
}

TEST(TransactionTest, CountsQueuedBytes) {
  Transaction txn;
  txn.Multi();
  txn.Queue("*1\r\n$4\r\nPING\r\n", kNoKeySlot);
  txn.Queue("*1\r\n$4\r\nTIME\r\n", kNoKeySlot);
  EXPECT_EQ(txn.queued_bytes(), 28u);
  txn.Discard();
  EXPECT_EQ(txn.queued_bytes(), 0u);
}

}  // namespace
}  // namespace slotplane::dataplane
