#include "controlplane/ctl/ctl_args.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/build_info.h"

namespace slotplane::ctl {
namespace {

constexpr char kDefaultAddr[] = "127.0.0.1:7700";

struct FlagDef {
  const char* name;
  bool takes_value;
};

constexpr FlagDef kFlags[] = {
    {"addr", true},
    {"token-file", true},
    {"tls", false},
    {"tls-ca", true},
    {"tls-cert", true},
    {"tls-key", true},
    {"tls-server-name", true},
    {"insecure", false},
    {"json", false},
    {"timeout", true},
    {"expected-version", true},
    {"password", true},
    {"password-stdin", false},
    {"nopass", false},
    {"no-nopass", false},
    {"enable", false},
    {"disable", false},
};

const FlagDef* FindFlag(const std::string& name) {
  for (const FlagDef& def : kFlags) {
    if (name == def.name) return &def;
  }
  return nullptr;
}

absl::Status ApplyGlobal(CtlArgs* args, const std::string& name, const std::string& value) {
  if (name == "addr") {
    args->addr = value;
  } else if (name == "token-file") {
    args->token_file = value;
  } else if (name == "tls") {
    args->tls = true;
  } else if (name == "tls-ca") {
    args->tls_ca = value;
    args->tls = true;
  } else if (name == "tls-cert") {
    args->tls_cert = value;
    args->tls = true;
  } else if (name == "tls-key") {
    args->tls_key = value;
  } else if (name == "tls-server-name") {
    args->tls_server_name = value;
  } else if (name == "insecure") {
    args->insecure = true;
    args->tls = true;
  } else if (name == "json") {
    args->json = true;
  } else if (name == "timeout") {
    double seconds;
    if (!absl::SimpleAtod(value, &seconds) || seconds <= 0 || seconds > 86400) {
      return absl::InvalidArgumentError(
          absl::StrCat("--timeout wants seconds (0 < S <= 86400), not '", value, "'"));
    }
    args->timeout = absl::Seconds(seconds);
  } else {
    args->flags.emplace(name, value);
  }
  return absl::OkStatus();
}

}  // namespace

std::string CtlUsage() {
  return R"usage(Usage: slotplanectl [FLAGS] COMMAND [ARGS]

Commands:
  status                          version, topology summary, proxies in sync, converged or
                                  not and why (rejections, proxies behind)
  proxies                         every connected proxy: id, address, acked version, last NACK
  config get [OPTION]             the fleet policy (secrets show as "(set)"); one option's value
  config set OPTION VALUE [OPTION VALUE ...] [--expected-version N]
                                  change options at once, as in proxy.conf; prints the version
  users ls                        client users (no passwords)
  users add NAME [RULE]... [--password P]... [--password-stdin] [--nopass] [--disable]
  users set NAME [RULE]... [--password P]... [--password-stdin] [--nopass|--no-nopass]
                  [--enable|--disable]
                                  passwords given replace the old ones; none given keeps them;
                                  RULEs as Redis's ACL SETUSER (on, off, nopass, >pw, +@read,
                                  -config|set, ~app:*, %R~k*, &chan*, ...) applied from no
                                  permission; a user added without rules may run everything,
                                  `set` without rules keeps them
  users rm NAME
  topology                        the cluster's nodes by slot, with role and state (online,
                                  loading, failed) and uncovered slot ranges
  refresh                         rediscover the topology now
  wait VERSION [--timeout S]      until every connected proxy acked VERSION (default 30 s)

Flags:
  --addr HOST:PORT       control plane (default $SLOTPLANE_CONTROL_ADDR, else 127.0.0.1:7700)
  --token-file FILE      admin token (default $SLOTPLANE_ADMIN_TOKEN)
  --tls                  use TLS, verifying the server with the system's CAs
  --tls-ca FILE          use TLS, verifying the server with this CA
  --tls-cert FILE        client certificate (mTLS), with --tls-key FILE
  --tls-server-name NAME name the server certificate must carry (default: the host of --addr)
  --insecure             use TLS without verifying the server certificate (testing only)
  --json                 machine-readable output (one JSON document)
  --timeout S            give up after S seconds (default 10; wait: 30)
  --password-stdin       read passwords from stdin, one per line
  -h, --help             this text; --version: the version

Exit codes:
  0  success
  1  usage error or local problem (bad flags, unreadable file)
  2  the control plane refused (INVALID_ARGUMENT, ABORTED on a stale --expected-version,
     NOT_FOUND, ALREADY_EXISTS, UNAUTHENTICATED, ...)
  3  no answer: unreachable, timed out (also wait's deadline), or shutting down
)usage";
}

absl::StatusOr<CtlArgs> ParseCtlArgs(int argc, const char* const* argv) {
  CtlArgs args;
  if (const char* env = std::getenv("SLOTPLANE_CONTROL_ADDR"); env != nullptr && *env != '\0') {
    args.addr = env;
  } else {
    args.addr = kDefaultAddr;
  }
  bool only_words = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (only_words || arg.size() < 2 || arg[0] != '-' || (arg[1] != '-' && arg != "-h")) {
      args.words.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_words = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") return absl::CancelledError(CtlUsage());
    if (arg == "--version") {
      return absl::CancelledError(
          absl::StrCat("slotplanectl ", BuildVersion(), " (git ", BuildRevision(), ")\n"));
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const FlagDef* def = FindFlag(name);
    if (def == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg));
    if (def->takes_value && !value.has_value()) {
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(arg, " needs a value"));
      value = argv[++i];
    }
    if (!def->takes_value && value.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
    }
    if (auto s = ApplyGlobal(&args, name, value.value_or("")); !s.ok()) return s;
  }
  if (args.words.empty()) return absl::InvalidArgumentError("no command given");
  if (args.tls_cert.empty() != args.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  return args;
}

}  // namespace slotplane::ctl
