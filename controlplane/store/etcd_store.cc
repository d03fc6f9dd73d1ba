#include "controlplane/store/etcd_store.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace slotplane::control {
namespace {

absl::StatusOr<v1::ProxyConfig> Decode(const std::string& key, const std::string& bytes) {
  v1::ProxyConfig state;
  if (!state.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("etcd key ", key, " (", bytes.size(),
                                            " bytes) is not a slotplane-control state"));
  }
  return state;
}

etcdserverpb::RequestOp PutOp(const std::string& key, const std::string& value) {
  etcdserverpb::RequestOp op;
  op.mutable_request_put()->set_key(key);
  op.mutable_request_put()->set_value(value);
  return op;
}

}  // namespace

std::string EtcdStore::Describe() const {
  return absl::StrCat(client_->Describe(), " prefix ", prefix_);
}

absl::StatusOr<std::optional<v1::ProxyConfig>> EtcdStore::Load() {
  etcdserverpb::RangeRequest request;
  request.set_key(state_key());
  absl::StatusOr<etcdserverpb::RangeResponse> response = client_->Range(request);
  if (!response.ok()) return response.status();
  if (response->kvs().empty()) return std::nullopt;
  absl::StatusOr<v1::ProxyConfig> state = Decode(state_key(), response->kvs(0).value());
  if (!state.ok()) return state.status();
  return std::optional<v1::ProxyConfig>(*std::move(state));
}

absl::Status EtcdStore::Save(const v1::ProxyConfig& state, uint64_t previous_version) {
  const std::string bytes = state.SerializeAsString();
  if (bytes.size() > kMaxEtcdValueBytes) {
    return absl::ResourceExhaustedError(absl::StrCat("the state is ", bytes.size(),
                                                     " bytes, more than the ", kMaxEtcdValueBytes,
                                                     " bytes kept in one etcd value"));
  }
  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* compare = txn.add_compare();
  compare->set_result(etcdserverpb::Compare::EQUAL);
  if (previous_version == 0) {
    compare->set_target(etcdserverpb::Compare::CREATE);
    compare->set_key(state_key());
    compare->set_create_revision(0);  // never created
  } else {
    compare->set_target(etcdserverpb::Compare::VALUE);
    compare->set_key(version_key());
    compare->set_value(std::to_string(previous_version));
  }
  *txn.add_success() = PutOp(state_key(), bytes);
  *txn.add_success() = PutOp(version_key(), std::to_string(state.version()));
  txn.add_failure()->mutable_request_range()->set_key(state_key());

  absl::StatusOr<etcdserverpb::TxnResponse> response = client_->Txn(txn);
  if (!response.ok()) return response.status();
  if (response->succeeded()) return absl::OkStatus();
  // A retry (after a lost reply) of a transaction that did commit finds its own value.
  const auto& failure = response->responses();
  std::string stored_version = "none";
  if (!failure.empty() && !failure[0].response_range().kvs().empty()) {
    const std::string& stored = failure[0].response_range().kvs(0).value();
    if (stored == bytes) return absl::OkStatus();
    if (absl::StatusOr<v1::ProxyConfig> other = Decode(state_key(), stored); other.ok()) {
      stored_version = std::to_string(other->version());
    }
  }
  return absl::AbortedError(absl::StrCat("the stored version is ", stored_version, ", not ",
                                         previous_version, ": another replica saved a change"));
}

void EtcdStore::Watch(std::function<void(const v1::ProxyConfig&)> on_state) {
  watcher_ = std::make_unique<EtcdWatcher>(
      client_, state_key(),
      [key = state_key(),
       on_state = std::move(on_state)](const std::optional<mvccpb::KeyValue>& kv) {
        if (!kv.has_value()) return;  // deleted by hand: keep serving what we have
        absl::StatusOr<v1::ProxyConfig> state = Decode(key, kv->value());
        if (!state.ok()) {
          SP_LOG(kError) << state.status().message();
          return;
        }
        on_state(*state);
      });
  watcher_->Start();
}

void EtcdStore::StopWatch() {
  if (watcher_ != nullptr) watcher_->Stop();
  watcher_.reset();
}

}  // namespace slotplane::control
