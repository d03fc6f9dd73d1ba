#include "dataplane/command/client_command.h"

#include "dataplane/resp/request_encoder.h"

namespace slotplane::dataplane {

void ClientCommand::WireForm(std::string* out) const {
  if (raw.empty()) {
    EncodeCommand(args, out);
  } else {
    out->assign(raw.data(), raw.size());
  }
}

void ClientCommand::WireForm(WireBytes* out) const {
  if (raw.empty()) {
    EncodeCommand(args, out);
  } else {
    out->assign(raw.data(), raw.size());
  }
}

std::string_view ClientCommand::WireView(std::string* scratch) const {
  if (!raw.empty()) return raw;
  EncodeCommand(args, scratch);
  return *scratch;
}

}  // namespace slotplane::dataplane
