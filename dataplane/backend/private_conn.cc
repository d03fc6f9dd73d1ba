#include "dataplane/backend/private_conn.h"

#include <utility>

#include "absl/status/status.h"
#include "common/logging.h"
#include "dataplane/backend/private_pool.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_stats.h"
#include "dataplane/net/socket.h"

namespace slotplane::dataplane {
namespace {

constexpr size_t kKeepIdleBuffer = 256 * 1024;

}  // namespace

PrivateConn::PrivateConn(PrivatePool* pool, NodeAddress address, const BackendOptions& options)
    : pool_(pool),
      options_(options),
      socket_(&pool->loop(), std::move(address), this, /*source=*/nullptr, kKeepIdleBuffer) {}

PrivateConn::~PrivateConn() { pool_->loop().Cancel(timer_); }

bool PrivateConn::quiet() const {
  // The socket counts the frame being delivered as read: a user may give the connection back
  // from inside OnPrivateFrame.
  return !dead() && socket_.quiet() && frames_to_drain == 0;
}

void PrivateConn::Connect() {
  absl::Status status = socket_.Connect(options_);
  if (!status.ok()) {
    // Reported on the next pass so that the user never sees a failure inside its own call.
    timer_ = pool_->loop().RunAfter(0, [this, reason = std::string(status.message())] {
      timer_ = 0;
      Fail(reason, false);
    });
    return;
  }
  pool_->stats().private_connects.Add();
}

void PrivateConn::Fail(const std::string& reason, bool was_connected) {
  pool_->loop().Cancel(timer_);
  timer_ = 0;
  socket_.Close();
  pool_->stats().backend_failures.Add();
  if (user != nullptr) {
    SP_LOG(kWarning) << "private connection to cluster node " << address_text() << " "
                     << (was_connected ? "lost: " : "failed: ") << reason;
    std::string error = was_connected ? errors::ConnectionLost(address_text())
                                      : errors::NodeUnreachable(address_text(), reason);
    user->OnPrivateConnLost(this, error);
  } else {
    pool_->Discard(this);
  }
}

void PrivateConn::Write(std::string_view bytes) {
  if (dead()) return;  // the failure report is on its way to the user
  socket_.Write(bytes);
  if (socket_.connected() && !flush_scheduled) pool_->ScheduleFlush(this);
}

void PrivateConn::Flush() {
  flush_scheduled = false;
  socket_.Flush();
}

void PrivateConn::OnEvents(uint32_t events) { socket_.OnEvents(events); }

void PrivateConn::OnSocketFrame(std::string_view frame) {
  if (user != nullptr) {
    user->OnPrivateFrame(this, frame);
    return;
  }
  if (frames_to_drain > 0) {
    if (--frames_to_drain == 0) pool_->Release(this);
    return;
  }
  pool_->OnOrphanFrame(this);
}

void PrivateConn::Close() {
  pool_->loop().Cancel(timer_);
  timer_ = 0;
  socket_.Close();
}

}  // namespace slotplane::dataplane
