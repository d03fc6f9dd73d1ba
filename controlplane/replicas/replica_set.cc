#include "controlplane/replicas/replica_set.h"

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "common/logging.h"

namespace slotplane::control {
namespace {

// The end of a prefix range: the prefix with its last byte incremented.
std::string PrefixEnd(std::string prefix) {
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

}  // namespace

void ReplicaSet::Start() {
  leader_watch_ = std::make_unique<EtcdWatcher>(client_, leader_key(),
                                                [this](const std::optional<mvccpb::KeyValue>& kv) {
                                                  if (kv.has_value()) return;
                                                  {
                                                    std::lock_guard<std::mutex> lock(mu_);
                                                    woken_ = true;
                                                  }
                                                  wake_.notify_all();  // no leader: campaign now
                                                });
  thread_ = std::thread([this] { Run(); });
  leader_watch_->Start();
}

void ReplicaSet::Stop() {
  if (leader_watch_ != nullptr) leader_watch_->Stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  int64_t lease = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease = lease_;
    lease_ = 0;
  }
  // The leader key and the registration go with the lease: a follower takes over at once.
  if (lease != 0) client_->LeaseRevoke(lease).IgnoreError();
}

bool ReplicaSet::leader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leader_;
}

void ReplicaSet::SetLeader(bool leader) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (leader_ == leader && role_known_) return;
    leader_ = leader;
    role_known_ = true;
  }
  SP_LOG(kInfo) << "replica " << options_.id
                << (leader ? " is now the leader: polling the topology"
                           : " is a follower: the leader polls the topology");
  on_leadership_(leader);
}

void ReplicaSet::Run() {
  std::string last_error;
  const absl::Duration period = absl::Seconds(options_.ttl_seconds) / 5;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    absl::Status s = Round();
    if (std::string error(s.message()); error != last_error) {
      if (!s.ok()) {
        SP_LOG(kWarning) << "replica " << options_.id << ": " << error;
      }
      last_error = error;
    }
    lock.lock();
    wake_.wait_for(lock, absl::ToChronoNanoseconds(period), [this] { return stop_ || woken_; });
    woken_ = false;
  }
}

absl::Status ReplicaSet::Round() {
  int64_t lease = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease = lease_;
  }
  if (lease == 0) {
    absl::StatusOr<etcdserverpb::LeaseGrantResponse> granted =
        client_->LeaseGrant(options_.ttl_seconds);
    if (!granted.ok()) return granted.status();
    etcdserverpb::PutRequest put;
    put.set_key(replicas_prefix() + options_.id);
    put.set_value(options_.advertise);
    put.set_lease(granted->id());
    if (auto s = client_->Put(put); !s.ok()) return s.status();
    std::lock_guard<std::mutex> lock(mu_);
    lease_ = granted->id();
    lease_renewed_ = absl::Now();
  } else if (absl::Status s = KeepAlive(); !s.ok()) {
    bool expired = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Step down before the lease can have expired on etcd's side.
      expired = absl::Now() - lease_renewed_ >
                absl::Seconds(options_.ttl_seconds) - absl::Seconds(options_.ttl_seconds) / 5;
      if (absl::IsNotFound(s)) lease_ = 0;
    }
    if (expired || absl::IsNotFound(s)) SetLeader(false);
    return s;
  }
  return Campaign();
}

absl::Status ReplicaSet::KeepAlive() {
  int64_t lease = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease = lease_;
  }
  size_t index = 0;
  EtcdClient::Endpoint& endpoint = client_->Current(&index);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + client_->options().call_timeout));
  if (absl::Status s = client_->PrepareContext(&context); !s.ok()) return s;
  auto stream = endpoint.lease->LeaseKeepAlive(&context);
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(lease);
  etcdserverpb::LeaseKeepAliveResponse response;
  const bool answered = stream->Write(request) && stream->Read(&response);
  stream->WritesDone();
  context.TryCancel();
  grpc::Status status = stream->Finish();
  if (!answered) {
    client_->Failed(index);
    return FromGrpc(
        "lease keep-alive",
        status.ok() ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "no answer") : status);
  }
  if (response.ttl() <= 0) return absl::NotFoundError("the lease expired; registering again");
  std::lock_guard<std::mutex> lock(mu_);
  lease_renewed_ = absl::Now();
  return absl::OkStatus();
}

absl::Status ReplicaSet::Campaign() {
  int64_t lease = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease = lease_;
  }
  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* compare = txn.add_compare();
  compare->set_result(etcdserverpb::Compare::EQUAL);
  compare->set_target(etcdserverpb::Compare::CREATE);
  compare->set_key(leader_key());
  compare->set_create_revision(0);
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(leader_key());
  put->set_value(options_.id);
  put->set_lease(lease);
  txn.add_failure()->mutable_request_range()->set_key(leader_key());
  absl::StatusOr<etcdserverpb::TxnResponse> response = client_->Txn(txn);
  if (!response.ok()) return response.status();
  bool leader = response->succeeded();
  if (!leader && !response->responses().empty()) {
    const auto& kvs = response->responses(0).response_range().kvs();
    leader = !kvs.empty() && kvs[0].value() == options_.id && kvs[0].lease() == lease;
  }
  SetLeader(leader);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ReplicaInfo>> ReplicaSet::List() const {
  etcdserverpb::RangeRequest leader_read;
  leader_read.set_key(leader_key());
  absl::StatusOr<etcdserverpb::RangeResponse> leader = client_->Range(leader_read);
  if (!leader.ok()) return leader.status();
  const std::string leader_id = leader->kvs().empty() ? "" : leader->kvs(0).value();
  etcdserverpb::RangeRequest read;
  read.set_key(replicas_prefix());
  read.set_range_end(PrefixEnd(replicas_prefix()));
  absl::StatusOr<etcdserverpb::RangeResponse> replicas = client_->Range(read);
  if (!replicas.ok()) return replicas.status();
  std::vector<ReplicaInfo> list;
  for (const mvccpb::KeyValue& kv : replicas->kvs()) {
    ReplicaInfo info;
    info.id = kv.key().substr(replicas_prefix().size());
    info.address = kv.value();
    info.leader = info.id == leader_id;
    list.push_back(std::move(info));
  }
  return list;
}

}  // namespace slotplane::control
