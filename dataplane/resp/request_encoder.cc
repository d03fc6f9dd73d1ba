#include "dataplane/resp/request_encoder.h"

#include <cstdio>

namespace slotplane::dataplane {

void EncodeCommand(const std::vector<std::string_view>& args, std::string* out) {
  out->clear();
  char header[32];
  int n = snprintf(header, sizeof(header), "*%zu\r\n", args.size());
  out->append(header, n);
  for (std::string_view arg : args) {
    n = snprintf(header, sizeof(header), "$%zu\r\n", arg.size());
    out->append(header, n);
    out->append(arg.data(), arg.size());
    out->append("\r\n", 2);
  }
}

}  // namespace slotplane::dataplane
