#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace slotplane::ctl {

// Exit codes of slotplanectl, for scripts.
enum ExitCode {
  kExitOk = 0,
  kExitUsage = 1,        // bad command line or local problem (unreadable token file, ...)
  kExitRefused = 2,      // the control plane answered with an error (INVALID_ARGUMENT, ...)
  kExitUnreachable = 3,  // no answer: unreachable, timed out, shutting down
};

// The command line of slotplanectl: global flags (anywhere), the command words and the
// command's own flags.
struct CtlArgs {
  std::string addr;        // --addr, else $SLOTPLANE_CONTROL_ADDR, else 127.0.0.1:7700
  std::string token_file;  // --token-file, else $SLOTPLANE_ADMIN_TOKEN is the token
  bool tls = false;        // set by --tls, --tls-ca, --tls-cert
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_server_name;  // name the server certificate must carry (default: addr's host)
  bool insecure = false;        // TLS without verifying the server certificate
  bool json = false;
  std::optional<absl::Duration> timeout;  // --timeout S

  std::vector<std::string> words;  // the command and its arguments
  // Command flags: --expected-version, --password (repeatable), --password-stdin, --nopass,
  // --no-nopass, --enable, --disable. A flag without value maps to "".
  std::multimap<std::string, std::string> flags;

  bool Has(const std::string& flag) const { return flags.count(flag) > 0; }
};

// Parses argv. Cancelled (with the text to print) for --help and --version; InvalidArgument
// saying what is wrong otherwise.
absl::StatusOr<CtlArgs> ParseCtlArgs(int argc, const char* const* argv);

std::string CtlUsage();

}  // namespace slotplane::ctl
