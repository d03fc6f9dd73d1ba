#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/integration/child_process.h"
#include "tests/integration/test_util.h"

namespace slotplane::integration {

// An etcd cluster of `members` `etcd` processes (Debian's etcd-server, 3.4) on free loopback
// ports, plaintext, each with its data directory in one temporary directory. Start() returns once
// every member answers `etcdctl endpoint health`. The destructor kills every member (ChildProcess)
// and removes the directory. Owned by one thread.
class EtcdProcess {
 public:
  // Why the etcd tests skip: `etcd` or `etcdctl` not on $PATH (empty when both are).
  static std::string MissingReason();

  // `extra_args` go to every member. With `tls`, clients talk to the members over TLS with
  // client certificates (--client-cert-auth): tls_file("ca.pem"), "client.pem", "client.key".
  static absl::StatusOr<std::unique_ptr<EtcdProcess>> Start(
      int members = 1, const std::vector<std::string>& extra_args = {}, bool tls = false);

  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;
  ~EtcdProcess();

  int size() const { return static_cast<int>(members_.size()); }
  // "127.0.0.1:port" of member i's client URL.
  std::string endpoint(int i) const;
  // "etcd://127.0.0.1:p1,127.0.0.1:p2,...", for slotplane-control --store.
  std::string store_url() const;
  // SIGKILL member i.
  void Kill(int i);
  // Runs `etcdctl --endpoints <all live members> args...`.
  absl::StatusOr<CommandResult> Ctl(const std::vector<std::string>& args) const;
  void PrintLogs(size_t max_lines = 40) const;
  std::string tls_file(const std::string& name) const { return dir_.File("tls/" + name); }

 private:
  struct Member {
    std::string name;
    uint16_t client_port = 0;
    uint16_t peer_port = 0;
    std::string log_path;
    std::unique_ptr<ChildProcess> process;
  };

  explicit EtcdProcess(TempDir dir) : dir_(std::move(dir)) {}
  static absl::StatusOr<std::unique_ptr<EtcdProcess>> StartOnce(int members,
                                                                std::vector<std::string> extra_args,
                                                                bool tls);
  absl::Status Launch(Member& member, const std::string& initial_cluster,
                      const std::vector<std::string>& extra_args);
  absl::Status WaitHealthy(absl::Time deadline) const;

  TempDir dir_;
  bool tls_ = false;
  std::vector<Member> members_;
};

}  // namespace slotplane::integration
