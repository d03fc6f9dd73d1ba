#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dataplane/command/command_table.h"
#include "dataplane/resp/wire_bytes.h"

namespace slotplane::dataplane {

// One parsed client command as the handlers see it: its table entry (for a container command,
// the subcommand), its arguments (the command name first) and the bytes it arrived as. Views into
// the client's input buffer: valid only during the dispatch call that carries it.
struct ClientCommand {
  const CommandInfo& info;
  const std::vector<std::string_view>& args;
  // The command's RESP bytes when it arrived as multibulk; empty when it arrived inline.
  std::string_view raw;

  Handler handler() const { return info.handler; }
  // Writes the command's wire form to `out`, replacing its contents: the client's bytes
  // verbatim, or the arguments encoded as RESP when the command arrived inline.
  void WireForm(std::string* out) const;
  // The same into a request's buffer: in the steady state one memcpy (the forwarding hot path).
  void WireForm(WireBytes* out) const;
  // The wire form without a copy when the client's bytes can go as they are; else encoded into
  // `scratch`, which the view then points into.
  std::string_view WireView(std::string* scratch) const;
};

}  // namespace slotplane::dataplane
