#pragma once

#include <functional>
#include <memory>
#include <string>

#include "controlplane/store/etcd_client.h"
#include "controlplane/store/etcd_watcher.h"
#include "controlplane/store/policy_store.h"

namespace slotplane::control {

// The PolicyStore of several control-plane replicas: the state (a serialized v1::ProxyConfig)
// in the etcd key `<prefix>state` and its version, in decimal, in `<prefix>version`. Save is
// one etcd transaction: if `<prefix>version` still holds `previous_version` (0: `<prefix>state`
// was never created), put both keys; otherwise nothing is written and Save fails with Aborted.
// So of two replicas that edit the same version, exactly one wins; the admin API's
// expected-version check rests on it. Watch() follows `<prefix>state` so that each replica adopts
// (and publishes to its proxies) every version another replica saved.
//
// Values are bounded (kMaxEtcdValueBytes, under etcd's default 1.5 MiB request limit): a larger
// state fails Save with ResourceExhausted. Durable when Save returns OK: etcd has committed it
// on a majority of its members.
class EtcdStore : public PolicyStore {
 public:
  EtcdStore(EtcdClient* client, std::string prefix) : client_(client), prefix_(std::move(prefix)) {}
  ~EtcdStore() override { StopWatch(); }

  absl::StatusOr<std::optional<v1::ProxyConfig>> Load() override;
  absl::Status Save(const v1::ProxyConfig& state, uint64_t previous_version) override;
  std::string Describe() const override;

  // Calls `on_state` (on the watcher's thread) with every state found in etcd: at start, after
  // each change and after each reconnection. It may repeat a version; the caller keeps only newer
  // ones. An unreadable value is logged and skipped.
  void Watch(std::function<void(const v1::ProxyConfig&)> on_state);
  void StopWatch();

  std::string state_key() const { return prefix_ + "state"; }
  std::string version_key() const { return prefix_ + "version"; }

 private:
  EtcdClient* const client_;
  const std::string prefix_;
  std::unique_ptr<EtcdWatcher> watcher_;
};

}  // namespace slotplane::control
