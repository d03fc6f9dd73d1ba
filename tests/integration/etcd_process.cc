#include "tests/integration/etcd_process.h"

#include <sys/stat.h>

#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tests/integration/tls_certs.h"

namespace slotplane::integration {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(60);
constexpr absl::Duration kPollInterval = absl::Milliseconds(100);
constexpr int kMaxPortAttempts = 3;

std::string Url(uint16_t port, bool tls = false) {
  return absl::StrCat(tls ? "https" : "http", "://127.0.0.1:", port);
}

}  // namespace

std::string EtcdProcess::MissingReason() {
  for (const char* name : {"etcd", "etcdctl"}) {
    if (!FindOnPath(name).ok()) {
      return absl::StrCat(name, " is not installed (apt-get install etcd-server etcd-client; ",
                          "scripts/bootstrap.sh installs them)");
    }
  }
  return "";
}

absl::StatusOr<std::unique_ptr<EtcdProcess>> EtcdProcess::Start(
    int members, const std::vector<std::string>& extra_args, bool tls) {
  // Another process may take a free port before etcd binds it: start over on other ports.
  absl::StatusOr<std::unique_ptr<EtcdProcess>> etcd;
  for (int attempt = 0; attempt < kMaxPortAttempts; ++attempt) {
    etcd = StartOnce(members, extra_args, tls);
    if (etcd.ok() || !absl::StrContains(etcd.status().message(), "address already in use")) break;
  }
  return etcd;
}

absl::StatusOr<std::unique_ptr<EtcdProcess>> EtcdProcess::StartOnce(
    int members, std::vector<std::string> extra_args, bool tls) {
  absl::StatusOr<TempDir> dir = TempDir::Create("slotplane-etcd");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<EtcdProcess> etcd(new EtcdProcess(*std::move(dir)));
  if (tls) {
    etcd->tls_ = true;
    const std::string tls_dir = etcd->dir_.File("tls");
    if (::mkdir(tls_dir.c_str(), 0700) != 0) return absl::InternalError("mkdir " + tls_dir);
    if (absl::Status s = MakeTestCa(tls_dir); !s.ok()) return s;
    if (absl::Status s = MakeTestCertificate(tls_dir, "etcd", "etcd"); !s.ok()) return s;
    if (absl::Status s = MakeTestCertificate(tls_dir, "client", "slotplane"); !s.ok()) return s;
    extra_args.insert(extra_args.end(), {"--cert-file", etcd->tls_file("etcd.pem"), "--key-file",
                                         etcd->tls_file("etcd.key"), "--trusted-ca-file",
                                         etcd->tls_file("ca.pem"), "--client-cert-auth"});
  }
  std::vector<std::string> peers;
  for (int i = 0; i < members; ++i) {
    Member member;
    member.name = absl::StrCat("m", i);
    absl::StatusOr<uint16_t> client = PickFreePort(/*with_cluster_bus=*/false);
    if (!client.ok()) return client.status();
    absl::StatusOr<uint16_t> peer = PickFreePort(/*with_cluster_bus=*/false);
    if (!peer.ok()) return peer.status();
    member.client_port = *client;
    member.peer_port = *peer;
    member.log_path = etcd->dir_.File(member.name + ".log");
    peers.push_back(absl::StrCat(member.name, "=", Url(member.peer_port)));
    etcd->members_.push_back(std::move(member));
  }
  const std::string initial_cluster = absl::StrJoin(peers, ",");
  for (Member& member : etcd->members_) {
    if (absl::Status s = etcd->Launch(member, initial_cluster, extra_args); !s.ok()) return s;
  }
  if (absl::Status s = etcd->WaitHealthy(absl::Now() + kStartTimeout); !s.ok()) {
    etcd->PrintLogs();
    return s;
  }
  return etcd;
}

EtcdProcess::~EtcdProcess() {
  for (Member& member : members_) member.process.reset();  // SIGKILL and reap
}

absl::Status EtcdProcess::Launch(Member& member, const std::string& initial_cluster,
                                 const std::vector<std::string>& extra_args) {
  SpawnOptions spawn;
  spawn.argv = {"etcd", "--name", member.name, "--data-dir", dir_.File(member.name + ".etcd"),
                "--listen-client-urls", Url(member.client_port, tls_), "--advertise-client-urls",
                Url(member.client_port, tls_), "--listen-peer-urls", Url(member.peer_port),
                "--initial-advertise-peer-urls", Url(member.peer_port), "--initial-cluster",
                initial_cluster, "--initial-cluster-state", "new", "--initial-cluster-token",
                dir_.path(),
                // Loopback: elections in well under a second even on a loaded machine.
                "--heartbeat-interval", "100", "--election-timeout", "1000", "--logger", "zap"};
  spawn.argv.insert(spawn.argv.end(), extra_args.begin(), extra_args.end());
  spawn.output_path = member.log_path;
  absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Spawn(spawn);
  if (!process.ok()) return process.status();
  member.process = *std::move(process);
  return absl::OkStatus();
}

std::string EtcdProcess::endpoint(int i) const {
  return absl::StrCat("127.0.0.1:", members_[i].client_port);
}

std::string EtcdProcess::store_url() const {
  std::vector<std::string> endpoints;
  for (int i = 0; i < size(); ++i) endpoints.push_back(endpoint(i));
  return "etcd://" + absl::StrJoin(endpoints, ",");
}

void EtcdProcess::Kill(int i) {
  if (members_[i].process != nullptr) members_[i].process->Kill();
}

absl::StatusOr<CommandResult> EtcdProcess::Ctl(const std::vector<std::string>& args) const {
  std::vector<std::string> endpoints;
  for (int i = 0; i < size(); ++i) {
    if (members_[i].process != nullptr && members_[i].process->IsRunning()) {
      endpoints.push_back(endpoint(i));
    }
  }
  std::vector<std::string> argv = {
      "etcdctl",           "--endpoints", absl::StrJoin(endpoints, ","), "--dial-timeout", "2s",
      "--command-timeout", "5s"};
  if (tls_) {
    argv.insert(argv.end(), {"--cacert", tls_file("ca.pem"), "--cert", tls_file("client.pem"),
                             "--key", tls_file("client.key")});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, dir_.path(), absl::Seconds(30));
}

absl::Status EtcdProcess::WaitHealthy(absl::Time deadline) const {
  std::string last;
  while (absl::Now() < deadline) {
    for (const Member& member : members_) {
      if (!const_cast<ChildProcess&>(*member.process).IsRunning()) {
        return absl::InternalError(absl::StrCat("etcd member ", member.name, " exited: ",
                                                LastLines(ReadFileOrEmpty(member.log_path), 20)));
      }
    }
    absl::StatusOr<CommandResult> health = Ctl({"endpoint", "health"});
    if (health.ok() && health->Succeeded()) return absl::OkStatus();
    if (health.ok()) last = health->output;
    absl::SleepFor(kPollInterval);
  }
  return absl::DeadlineExceededError("etcd did not become healthy: " + last);
}

void EtcdProcess::PrintLogs(size_t max_lines) const {
  for (const Member& member : members_) {
    std::cerr << "--- etcd " << member.name << " log (last " << max_lines << " lines) ---\n"
              << LastLines(ReadFileOrEmpty(member.log_path), max_lines) << "\n";
  }
}

}  // namespace slotplane::integration
