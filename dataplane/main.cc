// slotplane-proxy: a RESP proxy in front of a Redis Cluster.

#include <memory>

#include "common/daemon.h"
#include "dataplane/core/proxy_config.h"
#include "dataplane/proxy.h"

namespace {

using slotplane::dataplane::ProxyOptions;

// The proxy as the service RunDaemon runs. A fatal error inside asks it to stop (RequestStop).
class ProxyService final : public slotplane::Service {
 public:
  explicit ProxyService(const ProxyOptions& options) : proxy_(options) {
    proxy_.context().request_shutdown = slotplane::RequestStop;
  }
  absl::Status Start() override { return proxy_.Start(); }
  void Stop() override { proxy_.Stop(); }
  void Reload() override { proxy_.ReloadTls(); }

 private:
  slotplane::dataplane::Proxy proxy_;
};

}  // namespace

int main(int argc, char** argv) {
  return slotplane::DaemonMain(
      "slotplane-proxy", slotplane::dataplane::ParseCommandLine(argc, argv),
      [](const ProxyOptions& options) { return std::make_unique<ProxyService>(options); });
}
