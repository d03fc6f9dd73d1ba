#include "tests/integration/watch_client.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"

namespace slotplane::integration {

absl::StatusOr<std::unique_ptr<WatchClient>> WatchClient::Open(const WatchClientOptions& options) {
  std::unique_ptr<WatchClient> client(new WatchClient(options));
  grpc::ChannelArguments args;
  if (!options.tls_server_name.empty()) args.SetSslTargetNameOverride(options.tls_server_name);
  args.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);  // as a proxy: snapshots of any size
  auto credentials =
      options.credentials != nullptr ? options.credentials : grpc::InsecureChannelCredentials();
  auto channel = grpc::CreateCustomChannel(options.address, credentials, args);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    return absl::UnavailableError(absl::StrCat("cannot connect to ", options.address));
  }
  client->stub_ = v1::ProxyDiscovery::NewStub(channel);
  if (!options.token.empty()) {
    client->context_.AddMetadata("authorization", "Bearer " + options.token);
  }
  client->stream_ = client->stub_->Watch(&client->context_);
  if (client->stream_ == nullptr) return absl::InternalError("Watch returned no stream");
  client->reader_ = std::thread([c = client.get()] { c->ReadLoop(); });
  if (options.send_hello) {
    if (absl::Status s = client->Hello(); !s.ok()) return s;
  }
  return client;
}

WatchClient::~WatchClient() {
  context_.TryCancel();
  if (reader_.joinable()) reader_.join();
}

void WatchClient::ReadLoop() {
  v1::ControlMessage message;
  while (stream_->Read(&message)) {
    std::lock_guard<std::mutex> lock(mu_);
    if (message.has_snapshot()) received_.push_back(message.snapshot());
    changed_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mu_);
  read_done_ = true;
  changed_.notify_all();
}

absl::StatusOr<v1::Snapshot> WatchClient::Next(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                    [this] { return !received_.empty() || read_done_; });
  if (received_.empty()) {
    return read_done_ ? absl::UnavailableError("the stream ended")
                      : absl::DeadlineExceededError(
                            absl::StrCat("no snapshot within ", absl::FormatDuration(timeout)));
  }
  v1::Snapshot snapshot = std::move(received_.front());
  received_.pop_front();
  return snapshot;
}

size_t WatchClient::Queued() {
  std::lock_guard<std::mutex> lock(mu_);
  return received_.size();
}

absl::Status WatchClient::Send(const v1::ProxyMessage& message) {
  if (!stream_->Write(message)) return absl::UnavailableError("write failed: the stream ended");
  return absl::OkStatus();
}

absl::Status WatchClient::Hello() {
  v1::ProxyMessage message;
  v1::Hello* hello = message.mutable_hello();
  hello->set_proxy_id(options_.proxy_id);
  hello->set_hostname(options_.hostname);
  hello->set_listen_address(options_.listen_address);
  hello->set_max_message_bytes(options_.max_message_bytes);
  hello->set_build_version(options_.build_version);
  hello->set_cached_version(options_.cached_version);
  return Send(message);
}

absl::Status WatchClient::Ack(const v1::Snapshot& snapshot) {
  v1::ProxyMessage message;
  message.mutable_ack()->set_version(snapshot.version());
  message.mutable_ack()->set_nonce(snapshot.nonce());
  return Send(message);
}

absl::Status WatchClient::Nack(const v1::Snapshot& snapshot, const std::string& error) {
  v1::ProxyMessage message;
  message.mutable_nack()->set_version(snapshot.version());
  message.mutable_nack()->set_nonce(snapshot.nonce());
  message.mutable_nack()->set_error(error);
  return Send(message);
}

absl::Status WatchClient::ReportMoved(uint32_t slot, const std::string& address) {
  v1::ProxyMessage message;
  message.mutable_moved()->set_slot(slot);
  message.mutable_moved()->set_address(address);
  return Send(message);
}

absl::Status WatchClient::SendStats(const v1::ProxyStats& stats) {
  v1::ProxyMessage message;
  *message.mutable_stats() = stats;
  return Send(message);
}

void WatchClient::CloseSend() { stream_->WritesDone(); }

absl::StatusOr<grpc::Status> WatchClient::WaitForEnd(absl::Duration timeout) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                           [this] { return read_done_; })) {
      return absl::DeadlineExceededError("the stream is still open");
    }
    if (final_status_.has_value()) return *final_status_;
  }
  if (reader_.joinable()) reader_.join();
  grpc::Status status = stream_->Finish();  // no other operation is running now
  std::lock_guard<std::mutex> lock(mu_);
  final_status_ = status;
  return status;
}

}  // namespace slotplane::integration
