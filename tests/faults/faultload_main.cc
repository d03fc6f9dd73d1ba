// slotplane-faultload: the fault suite's load-and-verify client as a command (see README.md).
// Prints a human summary on stderr and one JSON line on stdout; exits 0 when no acknowledged
// write was lost, 1 when one was, 2 on a usage error.

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include "tests/faults/fault_load.h"

namespace {

using slotplane::faults::FaultLoad;
using slotplane::faults::LoadOptions;
using slotplane::faults::LoadReport;

constexpr int kMaxSeconds = 24 * 3600;

void Usage() {
  std::cerr << "Usage: slotplane-faultload --port PORT [options]\n"
               "  --host HOST          target address (default 127.0.0.1)\n"
               "  --port PORT          the proxy, or a cluster node with --cluster\n"
               "  --cluster            speak to the nodes directly, following MOVED/ASK\n"
               "  --connections N      connections, one thread each (default 8)\n"
               "  --pipeline N         commands per round trip (default 1)\n"
               "  --keys N             counters, spread over all slots (default 4096)\n"
               "  --duration SECONDS   how long to load (default 10)\n"
               "  --read-every N       every N-th command is a GET (0: none; default 8)\n"
               "  --prefix TEXT        key prefix (default fl:<pid>:<time>; keys must be new)\n"
               "  --password TEXT      AUTH after connecting\n"
               "  --io-timeout MS      per-reply timeout (default 30000)\n"
               "  --verify-cluster HOST:PORT  read the final values from the nodes directly\n"
               "  --name TEXT          label in the report (default faultload)\n";
}

bool ParseHostPort(const std::string& text, std::string& host, uint16_t& port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  host = text.substr(0, colon);
  port = static_cast<uint16_t>(std::atoi(text.c_str() + colon + 1));
  return port != 0;
}

// Applies one "--flag value" (or bare "--cluster"); false on an unknown flag or a bad value.
bool ApplyFlag(const std::string& flag, const char* value, LoadOptions& options, std::string& name,
               bool& consumed) {
  consumed = true;
  if (flag == "--cluster") {
    options.sender.cluster_mode = true;
    consumed = false;
    return true;
  }
  if (value == nullptr) return false;
  const std::string text = value;
  const int number = std::atoi(value);
  if (flag == "--host")
    options.sender.host = text;
  else if (flag == "--port")
    options.sender.port = static_cast<uint16_t>(number);
  else if (flag == "--connections")
    options.connections = number;
  else if (flag == "--pipeline")
    options.pipeline = number;
  else if (flag == "--keys")
    options.keys = number;
  else if (flag == "--duration")
    options.duration = std::chrono::seconds(number);
  else if (flag == "--read-every")
    options.read_every = number;
  else if (flag == "--prefix")
    options.key_prefix = text;
  else if (flag == "--password")
    options.sender.password = text;
  else if (flag == "--io-timeout")
    options.sender.io_timeout = std::chrono::milliseconds(number);
  else if (flag == "--name")
    name = text;
  else if (flag == "--verify-cluster") {
    options.verify_with_other_sender = true;
    options.verify_sender.cluster_mode = true;
    return ParseHostPort(text, options.verify_sender.host, options.verify_sender.port);
  } else {
    return false;
  }
  return true;
}

bool Valid(const LoadOptions& options) {
  return options.sender.port != 0 && options.connections >= 1 && options.connections <= 1024 &&
         options.pipeline >= 1 && options.pipeline <= 10000 && options.keys >= 1 &&
         options.keys <= 1000000 && options.duration.count() >= 1 &&
         options.duration <= std::chrono::seconds(kMaxSeconds) && options.read_every >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  LoadOptions options;
  options.key_prefix = "fl:" + std::to_string(getpid()) + ":" +
                       std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  std::string name = "faultload";
  for (int i = 1; i < argc; ++i) {
    bool consumed = false;
    if (!ApplyFlag(argv[i], i + 1 < argc ? argv[i + 1] : nullptr, options, name, consumed)) {
      Usage();
      return 2;
    }
    if (consumed) ++i;
  }
  if (!Valid(options)) {
    Usage();
    return 2;
  }
  options.verify_sender.io_timeout = options.sender.io_timeout;
  options.verify_sender.password = options.sender.password;
  FaultLoad load(options);
  load.Start();
  load.Wait();
  const LoadReport report = load.Finish();
  std::cerr << report.ToText(name);
  std::cout << report.ToJson(name) << std::endl;
  return report.lost_writes() == 0 ? 0 : 1;
}
