#pragma once

#include <string_view>
#include <vector>

namespace slotplane::dataplane {

class ClientSession;

// Where a client connection hands each parsed command: the worker's CommandDispatcher. An
// interface so that session/ (the connection) does not depend on the handlers above it.
class CommandSink {
 public:
  // `raw` is the command's RESP bytes when it arrived as multibulk (forwarded verbatim), empty
  // when it arrived inline (re-encoded before forwarding). Both are valid only during the call.
  virtual void Dispatch(ClientSession* client, const std::vector<std::string_view>& args,
                        std::string_view raw) = 0;

 protected:
  ~CommandSink() = default;
};

}  // namespace slotplane::dataplane
