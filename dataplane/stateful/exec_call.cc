#include "dataplane/stateful/exec_call.h"

#include "dataplane/backend/private_pool.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/session/client_session.h"

namespace slotplane::dataplane {
namespace {

constexpr std::string_view kNil = "*-1\r\n";
constexpr std::string_view kNull3 = "_\r\n";  // RESP3's null
constexpr std::string_view kEmptyArray = "*0\r\n";

}  // namespace

bool ExecCall::Start() {
  if (!Runs(txn_->Exec())) return false;
  worker()->stats().transactions.Add();
  if (watches_->broken) {
    txn_->Finish();
    watches_->Drop(&worker()->private_pool());
    client()->Reply(client()->resp3() ? kNull3 : kNil);
    return false;
  }
  Prepare(txn_->slot());
  if (watches_->conn != nullptr) {
    // The block must run where the watches are.
    UseConn(watches_->conn, watches_->asking);
    watches_->conn = nullptr;
  }
  return true;
}

bool ExecCall::Runs(Transaction::ExecAction action) {
  switch (action) {
    case Transaction::ExecAction::kNotInMulti:
      ReplyError(ErrorKind::kCommand, errors::ExecWithoutMulti());
      return false;
    case Transaction::ExecAction::kAbort:
      ReplyError(ErrorKind::kCommand, errors::ExecAbort());
      watches_->Drop(&worker()->private_pool());
      return false;
    case Transaction::ExecAction::kEmpty:
      client()->Reply(kEmptyArray);
      return false;
    case Transaction::ExecAction::kRun:
      break;
  }
  return true;
}

size_t ExecCall::AppendRequest(std::string* out) {
  txn_->AppendExecBlock(out);
  redirect_ = Redirect();
  return txn_->queued() + 2;  // MULTI, each command, EXEC
}

void ExecCall::OnLeadingFrame(size_t index, std::string_view frame) {
  // A redirect means the node does not own the slot (any more): it aborts the transaction, so
  // nothing runs.
  if (index > 0 && frame[0] == '-' && redirect_.kind == RedirectKind::kNone) {
    redirect_ = ParseRedirect(frame);
  }
}

std::string_view ExecCall::PinnedReply() {
  // As if a watched key had changed; the client's retry watches on the new owner.
  return client()->resp3() ? kNull3 : kNil;
}

void ExecCall::Settle(std::string_view reply) {
  txn_->Finish();
  watches_->asking = false;
  watches_->broken = false;
  PrivateCall::Settle(reply);
}

void ExecCall::Leave() {
  if (conn() == nullptr) return;
  if (frames_left() > 0) {
    worker()->private_pool().ReleaseAfter(conn(), frames_left());  // EXEC clears the watches
  } else {
    ReleaseUnwatched(&worker()->private_pool(), conn(), 0);
  }
}

}  // namespace slotplane::dataplane
