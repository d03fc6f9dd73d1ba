// slotplane-proxy: a RESP proxy in front of a Redis Cluster.

#include <memory>

#include "common/daemon.h"
#include "common/fleet_options.h"
#include "dataplane/command/acl_catalog.h"
#include "dataplane/control/control_client.h"
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

// --check-config: the files the proxy reads at start (the control plane's token and TLS files).
absl::Status CheckOffline(const ProxyOptions& options) {
  if (options.control_plane.empty()) return absl::OkStatus();
  return slotplane::dataplane::ControlClientOptionsFrom(options).status();
}

}  // namespace

int main(int argc, char** argv) {
  slotplane::SetFleetCommandCatalog(&slotplane::dataplane::CommandTableAclCatalog());
  slotplane::DaemonSpec<ProxyOptions> spec;
  spec.program = "slotplane-proxy";
  spec.parse = slotplane::dataplane::ParseCommandLine;
  spec.check_offline = CheckOffline;
  spec.create = [](const ProxyOptions& options) -> std::unique_ptr<slotplane::Service> {
    return std::make_unique<ProxyService>(options);
  };
  spec.hide_secrets = slotplane::dataplane::HideSecretArguments;
  return slotplane::DaemonMain(argc, argv, spec);
}
