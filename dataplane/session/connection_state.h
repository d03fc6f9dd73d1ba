#pragma once

namespace slotplane::dataplane {

struct ClientCommand;

// A client's connection state (transactions, watches, subscriptions, private calls): what the
// connection and the dispatcher call on it. The one implementation is stateful/SessionState; the
// interface keeps session/ and dispatch/ free of its details. Owned by its ClientSession; worker
// thread only.
class ConnectionState {
 public:
  virtual ~ConnectionState() = default;

  // A command of a client in a mode. Returns false when the dispatcher should route it as usual.
  virtual bool Intercept(const ClientCommand& command) = 0;
  // The dispatcher refused a command with an error (unknown, wrong arity): inside MULTI, EXEC
  // will abort.
  virtual void OnRejected() = 0;
  // The request the client was held on reached the head of its reply queue.
  virtual void OnBarrier() = 0;
  virtual void OnClientClosed() = 0;
  // The client's output was written (a paused subscriber may read again).
  virtual void OnClientFlushed() = 0;
  // The worker installed a new cluster view (subscriptions on every master follow it).
  virtual void OnTopologyChanged() = 0;
};

}  // namespace slotplane::dataplane
