#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dataplane/stateful/node_fanout.h"
#include "dataplane/stateful/private_call.h"

namespace slotplane::dataplane {

// WAIT and the PUBSUB queries (CHANNELS, NUMPAT, NUMSUB, SHARDCHANNELS, SHARDNUMSUB): the
// client's command on every master that owns slots, each over a private connection of its own
// (NodeFanout), answered with the merge of the masters' answers (node_answers.h). Without a
// topology the client gets an error at once.
//
// WAIT numreplicas timeout runs on every master, each on a private connection that first makes
// one replicated no-op write (a script that sets and deletes a reserved key), so that the node's
// WAIT covers every write made before it; the answer is the smallest count.
//
// No redirect is followed: each part is answered by the node it was sent to. Worker thread only;
// owned by the client's SessionState.
class FanoutCall : public PrivateCall {
 public:
  FanoutCall(WorkerContext* worker, ClientSession* client, Owner* owner)
      : PrivateCall(worker, client, owner), fanout_(worker) {}

  // Each returns true when the call goes (the caller calls Begin()); false when the client was
  // answered already.
  bool StartWait(const ClientCommand& command);
  // A PUBSUB subcommand (CHANNELS, NUMSUB, NUMPAT, SHARDCHANNELS, SHARDNUMSUB).
  bool StartPubSubQuery(const ClientCommand& command);

 protected:
  // Runs the parts on NodeFanout instead of on a connection of the call's.
  void Launch() override;
  // Closes the connections still waiting.
  void Leave() override;

 private:
  // Merges the masters' answers (in part order) into the client's reply.
  using Merge = std::string (*)(std::string_view subcommand,
                                const std::vector<std::string>& answers);

  // One part per master, the command preceded by WAIT's marker write when `marker_write`.
  bool StartOnMasters(const ClientCommand& command, bool marker_write);

  std::vector<NodeFanout::Part> parts_;
  std::string_view subcommand_;  // what `merge_` is given: a command table name (static)
  std::string scratch_;          // an inline command, encoded
  Merge merge_ = nullptr;
  NodeFanout fanout_;
};

}  // namespace slotplane::dataplane
