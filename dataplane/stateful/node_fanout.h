#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "common/cluster_view.h"
#include "dataplane/backend/private_conn.h"

namespace slotplane::dataplane {

class WorkerContext;

// Runs one command on each of several nodes over pooled private connections and hands back the
// last reply frame of each when all are in: for the commands a client's connection state
// cannot share with other clients (WAIT blocks its connection; its count depends on the
// connection's own writes) and for PUBSUB's node-local answers. One batch at a time; worker
// thread only.
class NodeFanout : public PrivateConnUser {
 public:
  struct Part {
    NodeAddress address;
    std::string payload;  // one or more RESP commands
    size_t frames = 1;    // replies the payload produces; the last one is the part's answer
  };
  // The answer of each part in part order: a whole RESP frame, or an error line when its node
  // failed.
  using Done = std::function<void(std::vector<std::string>& answers)>;

  explicit NodeFanout(WorkerContext* worker) : worker_(worker) {}
  ~NodeFanout() { Cancel(); }
  NodeFanout(const NodeFanout&) = delete;
  NodeFanout& operator=(const NodeFanout&) = delete;

  // `done` runs once, from a later callback (never inside Start).
  void Start(std::vector<Part> parts, Done done);
  // Forgets the batch (the client left): connections still waiting are closed.
  void Cancel();
  bool running() const { return outstanding_ > 0; }

  // --- PrivateConnUser ---
  void OnPrivateFrame(PrivateConn* conn, std::string_view frame) override;
  void OnPrivateConnLost(PrivateConn* conn, const std::string& error) override;

 private:
  struct Slot {
    PrivateConn* conn = nullptr;
    size_t frames_left = 0;
  };
  size_t IndexOf(PrivateConn* conn) const;
  void PartDone(size_t index);

  WorkerContext* worker_;
  std::vector<Slot> slots_;
  std::vector<std::string> answers_;
  size_t outstanding_ = 0;
  Done done_;
};

}  // namespace slotplane::dataplane
