#include "dataplane/net/io_engine.h"

#include <liburing.h>

#include <cstring>

#include "common/logging.h"

namespace slotplane::dataplane {
namespace {

// The operations UringPoller submits.
constexpr int kNeededOps[] = {IORING_OP_POLL_ADD, IORING_OP_POLL_REMOVE, IORING_OP_SENDMSG};

bool ProbeIoUring() {
  io_uring ring;
  const int err = io_uring_queue_init(8, &ring, 0);
  if (err < 0) {
    SP_LOG(kInfo) << "io_uring is not available: " << std::strerror(-err);
    return false;
  }
  bool usable = (ring.features & IORING_FEAT_NODROP) != 0;
  io_uring_probe* probe = io_uring_get_probe_ring(&ring);
  if (probe == nullptr) {
    usable = false;
  } else {
    for (int op : kNeededOps) usable = usable && io_uring_opcode_supported(probe, op);
    io_uring_free_probe(probe);
  }
  io_uring_queue_exit(&ring);
  if (!usable) {
    SP_LOG(kInfo) << "io_uring lacks an operation the proxy needs";
  }
  return usable;
}

}  // namespace

const char* IoEngineName(IoEngine engine) {
  return engine == IoEngine::kIoUring ? "io_uring" : "epoll";
}

bool IoUringUsable() {
  static const bool usable = ProbeIoUring();
  return usable;
}

IoEngine ResolveIoEngine(std::string_view name) {
  if (name == "epoll") return IoEngine::kEpoll;
  if (IoUringUsable()) return IoEngine::kIoUring;
  if (name == "io_uring") {
    SP_LOG(kWarning) << "io-engine io_uring: not usable here, using epoll";
  }
  return IoEngine::kEpoll;
}

}  // namespace slotplane::dataplane
