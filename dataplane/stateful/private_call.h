#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/backend/private_conn.h"
#include "dataplane/command/client_command.h"
#include "dataplane/core/errors.h"
#include "dataplane/net/event_loop.h"
#include "dataplane/router/redirect.h"
#include "dataplane/stateful/transaction.h"

namespace slotplane::dataplane {

class ClientSession;
class WorkerContext;
struct Request;

// One command of a client that runs on a private connection and holds the client until it is
// answered: the base of the WATCH, EXEC, blocking and node fan-out calls (watch_call.h,
// exec_call.h, blocking_call.h, fanout_call.h). A client has at most one call in flight, since
// the call holds it.
//
// Ordering: the call is sent once every earlier reply of the client is in (so it sees the
// client's earlier writes) and the client's next commands wait until it is answered (so they see
// its effects), as on a single Redis connection. Begin() takes the call's place in the client's
// reply queue and holds the client (ClientSession::Hold); the call goes when that place is the
// head of the queue, at once or from OnBarrier().
//
// Sending: by default the call writes its command (after ASKING when an ASK led it there) on a
// private connection to its slot's master (any master without a slot) from the worker's
// PrivatePool, which goes back to the pool when its state is clean again. It follows MOVED and
// ASK up to max-redirects times and TRYAGAIN up to tryagain-retries times (after 10 ms, doubling
// up to 320 ms), each time on a connection to the node named, unless its state ties it to its
// node (pinned()).
//
// Ending: Finish() completes the client's request, tells the owner and resumes the client,
// exactly once per Begin(). A lost connection ends the call with the connection's error. A client
// that leaves mid-call ends it without a reply (Abandon()).
//
// The owner (the client's SessionState) is the PrivateConnUser of the call's connections and
// forwards their frames and losses here. It keeps one object per call kind and reuses it for the
// kind's next run, so a call allocates nothing of its own. Worker thread only.
class PrivateCall {
 public:
  // The client's SessionState: the user of the call's connections, told when a call ended.
  class Owner : public PrivateConnUser {
   public:
    // The call's reply is queued and the client is about to resume.
    virtual void OnCallDone() = 0;

   protected:
    ~Owner() = default;
  };

  virtual ~PrivateCall();
  PrivateCall(const PrivateCall&) = delete;
  PrivateCall& operator=(const PrivateCall&) = delete;

  // After a subclass's Start returned true: takes the call's place in the client's reply queue
  // and holds the client. The call may be answered before this returns.
  void Begin();
  // The held request reached the head of the client's reply queue: the call goes.
  void OnBarrier() { Launch(); }
  // Whether `conn` is the call's connection and a reply is expected on it.
  bool Awaits(const PrivateConn* conn) const { return Holds(conn) && frames_left_ > 0; }
  // Whether `conn` is the call's connection.
  bool Holds(const PrivateConn* conn) const { return conn == conn_ && conn_ != nullptr; }
  // A reply frame on the call's connection (Awaits() is true).
  void OnFrame(std::string_view frame);
  // The call's connection was lost; the owner discarded it already. `error` is the client's
  // reply.
  void OnConnLost(const std::string& error);
  // The client disconnected mid-call: the call ends without a reply.
  void Abandon();

 protected:
  PrivateCall(WorkerContext* worker, ClientSession* client, Owner* owner);

  // A new run of the call for keys in `slot` (a hash slot or kNoKeySlot): forgets the last run.
  void Prepare(int slot);
  // The run starts on `conn`, which holds state of the client's, instead of a new connection.
  void UseConn(PrivateConn* conn, bool asking);
  // The command Send() writes, unless AppendRequest() is overridden.
  void SetCommand(const ClientCommand& command) { command.WireForm(&command_); }
  // Answers the client with `error` now (the call does not start) and counts it.
  void ReplyError(ErrorKind kind, const std::string& error);
  // Sends the request on the call's connection, acquiring one first if it has none.
  void Send();
  // Answers the client and ends the call.
  void Finish(std::string_view reply);

  // Runs the call once the client's earlier replies are in. Default: Send().
  virtual void Launch() { Send(); }
  // Appends the request Send() writes after ASKING and readies the call for its replies; returns
  // how many reply frames it produces. Default: the command, one frame.
  virtual size_t AppendRequest(std::string* out);
  // A reply frame before the last one; `index` counts from 0, after ASKING's. Default: ignored.
  virtual void OnLeadingFrame(size_t /*index*/, std::string_view /*frame*/) {}
  // Whether the answer whose last frame is `last` asks for the request to be sent once more on
  // the same connection (before redirects are looked at). Default: never.
  virtual bool SendAgain(std::string_view /*last*/) { return false; }
  // The redirect the answer asks for, given its last frame. Default: that frame's, if any.
  virtual Redirect RedirectOf(std::string_view last);
  // Whether the call's state ties it to its node, so that a redirect cannot be followed.
  virtual bool pinned() const { return false; }
  // The client's reply to a redirect of a pinned call.
  virtual std::string_view PinnedReply() { return {}; }
  // Before the reply is queued: hands the call's connection (if any) back, or on. Default:
  // released to the pool.
  virtual void Settle(std::string_view reply);
  // The client left mid-call: hands back what the call holds. Default: the connection is
  // closed, since its state is unknown.
  virtual void Leave();

  WorkerContext* worker() const { return worker_; }
  ClientSession* client() const { return client_; }
  PrivateConn* conn() const { return conn_; }
  bool asking() const { return asking_; }
  int slot() const { return slot_; }
  // Reply frames still expected on the connection (0 before the request is written).
  size_t frames_left() const { return frames_left_; }

 private:
  // The client's request ran into `redirect` with `reply` as its answer.
  void Retry(const Redirect& redirect, std::string_view reply);
  // TRYAGAIN: sends again after a delay, on a new connection to the slot's owner by then.
  void RetryLater(std::string_view reply);
  // MOVED or ASK: the node named.
  void Redirected(const Redirect& redirect);

  WorkerContext* const worker_;
  ClientSession* const client_;
  Owner* const owner_;
  Request* request_ = nullptr;  // the client's place in its reply queue; null when not running
  PrivateConn* conn_ = nullptr;
  int slot_ = kNoKeySlot;
  bool asking_ = false;  // send ASKING first (after an ASK redirect)
  uint8_t redirects_ = 0;
  uint8_t tryagains_ = 0;
  size_t frames_left_ = 0;
  size_t frames_seen_ = 0;
  EventLoop::TimerId retry_timer_ = 0;
  WireBytes command_;
  std::string out_;  // the bytes of one send
};

}  // namespace slotplane::dataplane
