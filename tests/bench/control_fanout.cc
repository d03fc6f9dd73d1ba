// control_fanout: how long a policy change takes to reach many proxies. Opens --streams
// ProxyDiscovery.Watch streams to a running slotplane-control (on --channels connections, with
// gRPC's callback client API: a few threads for all streams), each acting as a proxy that says
// Hello and ACKs every snapshot; then makes --rounds policy changes through the Admin API and
// records, per stream, the time from the UpdatePolicy call to the arrival of the new version.
// Reports p50/p99/max over all arrivals, the time until every proxy ACKed (WaitForVersion), and
// the control plane's RSS, threads and CPU time (from /proc/--control-pid). Measures; never
// passes or fails on timing. Driven by control_fanout.sh; see README.md.
//
// --addr A,B,C (several control-plane replicas on one etcd store): the connections, and so the
// streams, are spread over the replicas in turn; UpdatePolicy, GetConfig and WaitForVersion go to
// the first one (its WaitForVersion counts its own streams only; the arrivals count them all).

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/client_callback.h"
#include "slotplane/v1/admin.grpc.pb.h"
#include "slotplane/v1/discovery.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string addr = "127.0.0.1:7700";
  int streams = 1000;
  int channels = 8;
  int rounds = 20;
  int control_pid = 0;
  std::string token_file;
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// Shared by all streams: which version counts as "new" in the current round and who got it.
struct Round {
  std::atomic<uint64_t> base{0};  // a version above this one is this round's arrival
  std::vector<std::atomic<int64_t>> arrival_ns;
  std::atomic<int> arrived{0};
  std::atomic<int> duplicates{0};  // a stream got a version it already had (must stay 0)
  std::atomic<int> ended{0};
  std::mutex mu;
  std::condition_variable cv;

  explicit Round(int streams) : arrival_ns(streams) {}
  void Notify() {
    std::lock_guard<std::mutex> lock(mu);
    cv.notify_all();
  }
  template <typename Pred>
  bool WaitUntil(Pred pred, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, timeout, pred);
  }
};

// One simulated proxy: Hello, then an ACK for every snapshot. One write in flight at a time; an
// ACK that cannot be written yet replaces the pending one.
class ProxyStream
    : public grpc::ClientBidiReactor<slotplane::v1::ProxyMessage, slotplane::v1::ControlMessage> {
 public:
  ProxyStream(slotplane::v1::ProxyDiscovery::Stub* stub, int index, Round* round,
              const std::string& proxy_token)
      : index_(index), round_(round) {
    if (!proxy_token.empty()) context_.AddMetadata("authorization", "Bearer " + proxy_token);
    slotplane::v1::Hello* hello = out_.mutable_hello();
    hello->set_proxy_id("bench-" + std::to_string(index));
    hello->set_hostname("bench");
    hello->set_listen_address("127.0.0.1:" + std::to_string(20000 + index));
    hello->set_build_version("bench");
    stub->async()->Watch(&context_, this);
    writing_ = true;
    StartWrite(&out_);
    StartRead(&in_);
    StartCall();
  }

  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    const slotplane::v1::Snapshot& snapshot = in_.snapshot();
    const uint64_t version = snapshot.version();
    if (version <= last_version_) round_->duplicates.fetch_add(1);
    last_version_ = std::max(last_version_, version);
    if (version > round_->base.load() && round_->arrival_ns[index_].load() == 0) {
      round_->arrival_ns[index_].store(NowNs());
      if (round_->arrived.fetch_add(1) + 1 == static_cast<int>(round_->arrival_ns.size())) {
        round_->Notify();
      }
    }
    slotplane::v1::ProxyMessage ack;
    ack.mutable_ack()->set_version(version);
    ack.mutable_ack()->set_nonce(snapshot.nonce());
    QueueWrite(std::move(ack));
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok || !pending_.has_value()) return;
    out_ = std::move(*pending_);
    pending_.reset();
    writing_ = true;
    lock.unlock();
    StartWrite(&out_);  // out_ is left alone while writing_
  }

  void OnDone(const grpc::Status& status) override {
    status_ = status;
    round_->ended.fetch_add(1);
    round_->Notify();
  }

 private:
  void QueueWrite(slotplane::v1::ProxyMessage message) {
    std::unique_lock<std::mutex> lock(mu_);
    if (writing_) {
      pending_ = std::move(message);
      return;
    }
    out_ = std::move(message);
    writing_ = true;
    lock.unlock();
    StartWrite(&out_);
  }

  const int index_;
  Round* const round_;
  grpc::ClientContext context_;
  slotplane::v1::ControlMessage in_;
  std::mutex mu_;
  slotplane::v1::ProxyMessage out_;
  std::optional<slotplane::v1::ProxyMessage> pending_;
  bool writing_ = false;
  uint64_t last_version_ = 0;
  grpc::Status status_;
};

struct ProcStatus {
  long rss_kb = 0;
  int threads = 0;
  double cpu_seconds = 0;
};

ProcStatus ReadProc(int pid) {
  ProcStatus out;
  if (pid <= 0) return out;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) out.rss_kb = std::atol(line.c_str() + 6);
    if (line.rfind("Threads:", 0) == 0) out.threads = std::atoi(line.c_str() + 8);
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = all.rfind(')');
  if (paren != std::string::npos) {
    std::istringstream fields(all.substr(paren + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; fields >> field; ++i) {
      if (i == 14) utime = std::atol(field.c_str());
      if (i == 15) {
        stime = std::atol(field.c_str());
        break;
      }
    }
    out.cpu_seconds = static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
  }
  return out;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}

std::string Token(const Args& args) {
  if (args.token_file.empty()) {
    const char* env = std::getenv("SLOTPLANE_ADMIN_TOKEN");
    return env != nullptr ? env : "";
  }
  std::ifstream in(args.token_file);
  std::string token;
  std::getline(in, token);
  return token;
}

bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--addr") {
      args->addr = value;
    } else if (flag == "--streams") {
      args->streams = std::atoi(value);
    } else if (flag == "--channels") {
      args->channels = std::atoi(value);
    } else if (flag == "--rounds") {
      args->rounds = std::atoi(value);
    } else if (flag == "--control-pid") {
      args->control_pid = std::atoi(value);
    } else if (flag == "--token-file") {
      args->token_file = value;
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && args->streams > 0 && args->channels > 0 && args->rounds > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    std::fprintf(
        stderr,
        "usage: control_fanout [--addr HOST:PORT[,HOST:PORT...]] [--streams N] [--channels N] "
        "[--rounds N] [--control-pid PID] [--token-file F]\n");
    return 1;
  }
  const std::string token = Token(args);
  // The watch streams' credential (slotplane-control's proxy-token-file or the same variable).
  const char* proxy_token_env = std::getenv("SLOTPLANE_PROXY_TOKEN");
  const std::string proxy_token = proxy_token_env != nullptr ? proxy_token_env : "";
  std::vector<std::string> addrs;
  for (size_t start = 0; start <= args.addr.size();) {
    const size_t comma = std::min(args.addr.find(',', start), args.addr.size());
    if (comma > start) addrs.push_back(args.addr.substr(start, comma - start));
    start = comma + 1;
  }
  if (addrs.empty()) return 1;
  auto admin_channel = grpc::CreateChannel(addrs[0], grpc::InsecureChannelCredentials());
  auto admin = slotplane::v1::Admin::NewStub(admin_channel);
  auto call = [&](auto method, const auto& request, auto* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    return ((*admin).*method)(&context, request, response);
  };

  const ProcStatus idle = ReadProc(args.control_pid);
  std::vector<std::unique_ptr<slotplane::v1::ProxyDiscovery::Stub>> stubs;
  for (int c = 0; c < args.channels; ++c) {
    grpc::ChannelArguments channel_args;
    channel_args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one connection per channel
    stubs.push_back(slotplane::v1::ProxyDiscovery::NewStub(grpc::CreateCustomChannel(
        addrs[c % addrs.size()], grpc::InsecureChannelCredentials(), channel_args)));
  }
  Round round(args.streams);
  std::vector<std::unique_ptr<ProxyStream>> streams;
  const auto open_start = Clock::now();
  for (int i = 0; i < args.streams; ++i) {
    streams.push_back(
        std::make_unique<ProxyStream>(stubs[i % args.channels].get(), i, &round, proxy_token));
  }
  const int total = args.streams;
  if (!round.WaitUntil([&] { return round.arrived.load() == total; }, std::chrono::seconds(120))) {
    std::fprintf(stderr, "only %d of %d streams got their first snapshot\n", round.arrived.load(),
                 total);
    return 1;
  }
  const double open_s = std::chrono::duration<double>(Clock::now() - open_start).count();

  slotplane::v1::GetConfigResponse config;
  if (grpc::Status s =
          call(&slotplane::v1::Admin::Stub::GetConfig, slotplane::v1::GetConfigRequest(), &config);
      !s.ok()) {
    std::fprintf(stderr, "GetConfig: %s\n", s.error_message().c_str());
    return 1;
  }
  // Let the initial ACKs settle, then measure the steady state with every stream open.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const ProcStatus loaded = ReadProc(args.control_pid);

  std::vector<double> arrivals_ms, round_max_ms, spread_ms, acked_ms, rpc_ms;
  uint64_t version = config.version();
  for (int r = 0; r < args.rounds; ++r) {
    round.base.store(version);
    for (auto& a : round.arrival_ns) a.store(0);
    round.arrived.store(0);
    slotplane::v1::UpdatePolicyRequest update;
    (*update.mutable_options())["tryagain-retries"] = std::to_string(1 + (r % 2));
    update.set_origin("control_fanout");
    slotplane::v1::UpdatePolicyResponse updated;
    const int64_t t0 = NowNs();
    grpc::Status s = call(&slotplane::v1::Admin::Stub::UpdatePolicy, update, &updated);
    const int64_t t_rpc = NowNs();
    if (!s.ok()) {
      std::fprintf(stderr, "UpdatePolicy: %s\n", s.error_message().c_str());
      return 1;
    }
    version = updated.version();
    if (!round.WaitUntil([&] { return round.arrived.load() == total; }, std::chrono::seconds(60))) {
      std::fprintf(stderr, "round %d: only %d of %d streams got version %llu\n", r,
                   round.arrived.load(), total, static_cast<unsigned long long>(version));
      return 1;
    }
    slotplane::v1::WaitForVersionRequest wait;
    wait.set_version(version);
    wait.set_timeout_ms(60000);
    slotplane::v1::WaitForVersionResponse waited;
    s = call(&slotplane::v1::Admin::Stub::WaitForVersion, wait, &waited);
    const int64_t t_acked = NowNs();
    if (!s.ok()) {
      std::fprintf(stderr, "WaitForVersion: %s\n", s.error_message().c_str());
      return 1;
    }
    double max_ms = 0, min_ms = 1e18;
    for (auto& a : round.arrival_ns) {
      const double ms = (a.load() - t0) / 1e6;
      arrivals_ms.push_back(ms);
      max_ms = std::max(max_ms, ms);
      min_ms = std::min(min_ms, ms);
    }
    round_max_ms.push_back(max_ms);
    spread_ms.push_back(max_ms - min_ms);
    acked_ms.push_back((t_acked - t0) / 1e6);
    rpc_ms.push_back((t_rpc - t0) / 1e6);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const ProcStatus after = ReadProc(args.control_pid);

  std::printf("streams: %d on %d connections (opened and first snapshot on all in %.2f s)\n", total,
              args.channels, open_s);
  std::printf("rounds: %d policy changes (UpdatePolicy, then every stream gets the version)\n",
              args.rounds);
  std::printf(
      "arrival after UpdatePolicy, all %zu (stream, round) pairs, ms: p50 %.2f  p99 %.2f  "
      "max %.2f\n",
      arrivals_ms.size(), Percentile(arrivals_ms, 0.5), Percentile(arrivals_ms, 0.99),
      Percentile(arrivals_ms, 1.0));
  std::printf("last stream reached, per round, ms: p50 %.2f  max %.2f\n",
              Percentile(round_max_ms, 0.5), Percentile(round_max_ms, 1.0));
  std::printf("fan-out (first to last stream of a round), ms: p50 %.2f  max %.2f\n",
              Percentile(spread_ms, 0.5), Percentile(spread_ms, 1.0));
  std::printf("every proxy ACKed (WaitForVersion returned), per round, ms: p50 %.2f  max %.2f\n",
              Percentile(acked_ms, 0.5), Percentile(acked_ms, 1.0));
  std::printf(
      "UpdatePolicy call (store write, then a write started on every stream), ms: "
      "p50 %.2f  max %.2f\n",
      Percentile(rpc_ms, 0.5), Percentile(rpc_ms, 1.0));
  std::printf("duplicate versions seen by any stream: %d\n", round.duplicates.load());
  if (args.control_pid > 0) {
    std::printf(
        "slotplane-control: RSS %.1f MB idle, %.1f MB with %d streams, %.1f MB after; "
        "threads %d idle, %d with streams; CPU %.2f s during the %d rounds\n",
        idle.rss_kb / 1024.0, loaded.rss_kb / 1024.0, total, after.rss_kb / 1024.0, idle.threads,
        loaded.threads, after.cpu_seconds - loaded.cpu_seconds, args.rounds);
  }
  for (auto& stream : streams) stream->Cancel();
  round.WaitUntil([&] { return round.ended.load() == total; }, std::chrono::seconds(30));
  if (round.ended.load() != total) {
    std::fprintf(stderr, "%d streams did not end\n", total - round.ended.load());
    std::_Exit(0);  // the reactors are still referenced by gRPC; do not destroy them
  }
  return 0;
}
