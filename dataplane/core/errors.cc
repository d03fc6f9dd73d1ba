#include "dataplane/core/errors.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>

namespace slotplane::dataplane {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kProtocol:
      return "protocol";
    case ErrorKind::kUnknownCommand:
      return "unknown_command";
    case ErrorKind::kWrongArity:
      return "wrong_arity";
    case ErrorKind::kCrossSlot:
      return "crossslot";
    case ErrorKind::kClusterDown:
      return "clusterdown";
    case ErrorKind::kBackendUnavailable:
      return "backend_unavailable";
    case ErrorKind::kRedirectLimit:
      return "redirect_limit";
    case ErrorKind::kUnsupported:
      return "unsupported";
    case ErrorKind::kLimit:
      return "limit";
    case ErrorKind::kCommand:
      return "command";
    case ErrorKind::kAuth:
      return "auth";
    case ErrorKind::kCount:
      break;
  }
  return "other";
}

namespace errors {
namespace {

// Concatenates pieces of text (std::string_view throughout; see common/strings.h on why not
// absl::StrCat here).
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p.data(), p.size());
  return out;
}

// Redis replaces newlines with spaces in error replies so an error stays one line, and cuts the
// names it echoes back at 128 bytes (%.128s).
std::string OneLine(std::string text) {
  for (char& c : text) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return text;
}

std::string Line(std::string_view text) { return Cat({"-", OneLine(std::string(text)), "\r\n"}); }

// What Redis's printf("%.*s") prints of `text`: at most `max` bytes, and nothing from the first
// NUL on (the argument is a C string there).
std::string_view Cut(std::string_view text, size_t max = 128) {
  return text.substr(0, std::min(max, text.find('\0')));
}

}  // namespace

std::string Protocol(std::string_view message) { return Line(Cat({"ERR ", message})); }

std::string UnknownCommand(const std::vector<std::string_view>& args) {
  // Redis 7.0 appends "'%.*s' " per argument while the list is shorter than 128 bytes, each
  // argument cut to the room that is left.
  std::string listed;
  for (size_t i = 1; i < args.size() && listed.size() < 128; ++i) {
    listed += Cat({"'", Cut(args[i], 128 - listed.size()), "' "});
  }
  return Line(
      Cat({"ERR unknown command '", Cut(args[0]), "', with args beginning with: ", listed}));
}

std::string UnknownSubcommand(std::string_view command, std::string_view subcommand) {
  std::string upper(command);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return Line(Cat({"ERR unknown subcommand '", Cut(subcommand), "'. Try ", upper, " HELP."}));
}

std::string WrongArity(std::string_view full_name) {
  return Line(Cat({"ERR wrong number of arguments for '", full_name, "' command"}));
}

std::string CrossSlot() { return Line("CROSSSLOT Keys in request don't hash to the same slot"); }

std::string SlotNotServed() { return Line("CLUSTERDOWN Hash slot not served"); }

std::string NoTopology() {
  return Line("CLUSTERDOWN slotplane has no cluster topology yet (no entry point answered)");
}

std::string NodeUnreachable(std::string_view address, std::string_view reason) {
  return Line(Cat({"ERR slotplane: cluster node ", address, " is unreachable (", reason, ")"}));
}

std::string ConnectionLost(std::string_view address) {
  return Line(Cat({"ERR slotplane: connection to cluster node ", address,
                   " was lost before the reply arrived"}));
}

std::string BackendTimeout(std::string_view address, int timeout_ms) {
  return Line(Cat({"ERR slotplane: cluster node ", address, " did not answer within ",
                   std::to_string(timeout_ms), " ms (backend-timeout)"}));
}

std::string HoldExpired(std::string_view error, int hold_ms) {
  if (error.size() >= 2 && error.substr(error.size() - 2) == "\r\n") {
    error.remove_suffix(2);
  }
  if (!error.empty() && error[0] == '-') error.remove_prefix(1);
  return Line(Cat(
      {error, "; no new master within ", std::to_string(hold_ms), " ms (failover-hold-timeout)"}));
}

std::string TooManyRedirects(int slot) {
  return Line(Cat({"ERR slotplane: too many MOVED/ASK redirects for slot ", std::to_string(slot),
                   "; the cluster is being resharded, try again"}));
}

std::string UnexpectedReply(std::string_view command) {
  return Line(
      Cat({"ERR slotplane: unexpected reply type from a cluster node for '", Cut(command), "'"}));
}

std::string FromNode(std::string_view error_frame, std::string_view address, size_t succeeded,
                     size_t total) {
  std::string_view text = error_frame.substr(error_frame.empty() ? 0 : 1);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  return Line(Cat({text, " (cluster node ", address, "; ", std::to_string(succeeded), " of ",
                   std::to_string(total), " nodes succeeded)"}));
}

std::string InvalidCursor() { return Line("ERR invalid cursor"); }

std::string Unsupported(std::string_view command, std::string_view why) {
  return Line(Cat({"ERR slotplane does not support '", Cut(command), "': ", why}));
}

std::string ConfigSetSecretRefused(std::string_view parameter) {
  return Line(Cat({"ERR slotplane: CONFIG SET ", Cut(parameter),
                   " is refused through the proxy: cluster credentials are managed by slotplane "
                   "(auth / the control plane)"}));
}

std::string ConfigSetNodeSpecificRefused(std::string_view parameter) {
  return Line(Cat({"ERR slotplane: CONFIG SET ", Cut(parameter),
                   " is refused through the proxy: it is a per-node setting; set it on each "
                   "cluster node"}));
}

std::string NotYetSupported(std::string_view command) {
  return Line(Cat({"ERR slotplane does not support '", Cut(command),
                   "' yet (it needs fan-out or a private connection)"}));
}

std::string MaxClients() { return Line("ERR max number of clients reached"); }

std::string Generic(std::string_view message) { return Line(Cat({"ERR ", message})); }

std::string NoAuth() { return Line("NOAUTH Authentication required."); }

std::string NoPermCommand(std::string_view full_name) {
  return Line(Cat({"NOPERM this user has no permissions to run the '", full_name, "' command"}));
}

std::string NoPermKey() {
  return Line("NOPERM this user has no permissions to access one of the keys used as arguments");
}

std::string NoPermChannel() {
  return Line(
      "NOPERM this user has no permissions to access one of the channels used as arguments");
}

std::string WrongPass() {
  return Line("WRONGPASS invalid username-password pair or user is disabled.");
}

std::string HelloNoAuth() {
  return Line(
      "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
      "<proto> AUTH <user> <pass> option can be used to authenticate the client and select the "
      "RESP protocol version at the same time");
}

std::string AuthWithoutPassword() {
  return Line(
      "ERR AUTH <password> called without any password configured for the default user. Are you "
      "sure your configuration is correct?");
}

std::string MultiNested() { return Line("ERR MULTI calls can not be nested"); }

std::string ExecWithoutMulti() { return Line("ERR EXEC without MULTI"); }

std::string DiscardWithoutMulti() { return Line("ERR DISCARD without MULTI"); }

std::string WatchInsideMulti() { return Line("ERR WATCH inside MULTI is not allowed"); }

std::string ExecAbort() {
  return Line("EXECABORT Transaction discarded because of previous errors.");
}

std::string NotAllowedInMulti() { return Line("ERR Command not allowed inside a transaction"); }

std::string NotAllowedSubscribed(std::string_view full_name) {
  return Line(Cat({"ERR Can't execute '", full_name,
                   "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed "
                   "in this context"}));
}

}  // namespace errors
}  // namespace slotplane::dataplane
