#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "controlplane/store/etcd_client.h"
#include "etcd/kv.pb.h"

namespace slotplane::control {

// Follows one etcd key on its own thread: reads it (Range), then watches it from the next
// revision on a Watch stream (with etcd's `hasleader` metadata, so a member cut off from its
// cluster ends the stream). `on_change` gets the key's value after every read and every event
// (nullopt: the key does not exist / was deleted); it may repeat a value, never skips the last
// one. A broken stream or a compaction starts over with a read on the next endpoint, 200 ms
// later. on_change runs on the watcher's thread.
class EtcdWatcher {
 public:
  using OnChange = std::function<void(const std::optional<mvccpb::KeyValue>&)>;
  EtcdWatcher(EtcdClient* client, std::string key, OnChange on_change)
      : client_(client), key_(std::move(key)), on_change_(std::move(on_change)) {}
  ~EtcdWatcher() { Stop(); }
  EtcdWatcher(const EtcdWatcher&) = delete;
  EtcdWatcher& operator=(const EtcdWatcher&) = delete;

  void Start();
  void Stop();

 private:
  void Run();
  // Reads the key, then follows it until the stream ends; returns why it ended.
  absl::Status Follow();

  EtcdClient* const client_;
  const std::string key_;
  const OnChange on_change_;

  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  grpc::ClientContext* stream_ = nullptr;  // the open stream's context, to cancel it
  std::thread thread_;
};

}  // namespace slotplane::control
