#include "dataplane/resp/request_encoder.h"

#include <cstdio>

namespace slotplane::dataplane {
namespace {

// `prefix` and `n` as a RESP header line ("*3\r\n", "$5\r\n").
template <typename Out>
void AppendHeader(Out* out, char prefix, size_t n) {
  char header[32];
  const int length = snprintf(header, sizeof(header), "%c%zu\r\n", prefix, n);
  out->append(header, static_cast<size_t>(length));
}

template <typename Out>
void AppendArg(Out* out, std::string_view arg) {
  AppendHeader(out, '$', arg.size());
  out->append(arg.data(), arg.size());
  out->append("\r\n", 2);
}

template <typename Out>
void Encode(const std::vector<std::string_view>& args, Out* out) {
  out->clear();
  AppendHeader(out, '*', args.size());
  for (std::string_view arg : args) AppendArg(out, arg);
}

}  // namespace

void EncodeCommand(const std::vector<std::string_view>& args, std::string* out) {
  Encode(args, out);
}

void EncodeCommand(const std::vector<std::string_view>& args, WireBytes* out) { Encode(args, out); }

void AppendCommandHeader(WireBytes* out, size_t count) { AppendHeader(out, '*', count); }

void AppendCommandArg(WireBytes* out, std::string_view arg) { AppendArg(out, arg); }

}  // namespace slotplane::dataplane
