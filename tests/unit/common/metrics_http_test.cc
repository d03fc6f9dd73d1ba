#include "common/metrics_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "common/process_metrics.h"
#include "gtest/gtest.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"

namespace slotplane {
namespace {

class OneGauge : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily family;
    family.name = "test_gauge";
    family.help = "A gauge";
    family.type = prometheus::MetricType::Gauge;
    prometheus::ClientMetric metric;
    metric.gauge.value = 42;
    family.metric.push_back(metric);
    return {family};
  }
};

// The whole HTTP/1.0 response to `method path` (the server closes after it).
std::string Request(int port, const std::string& method, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return "connect failed";
  }
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  const std::string request = method + " " + path + " HTTP/1.0\r\n\r\n";
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return "write failed";
  }
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, n);
  close(fd);
  return response;
}

TEST(MetricsHttpServerTest, ServesMetricsLivenessAndReadiness) {
  std::atomic<bool> ready{false};
  auto server = MetricsHttpServer::Start(
      "127.0.0.1:0", {std::make_shared<OneGauge>(), std::make_shared<ProcessMetrics>("test")},
      [&]() -> absl::Status {
        return ready ? absl::OkStatus() : absl::UnavailableError("no topology yet");
      });
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  ASSERT_GT(port, 0);

  const std::string metrics = Request(port, "GET", "/metrics");
  EXPECT_NE(metrics.find("200 OK"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("text/plain; version=0.0.4"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("# TYPE test_gauge gauge\ntest_gauge 42"), std::string::npos) << metrics;
  for (const char* name :
       {"process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds ",
        "process_max_fds ", "process_start_time_seconds ", "test_build_info{revision=\""}) {
    EXPECT_NE(metrics.find(name), std::string::npos) << name << "\n" << metrics;
  }

  const std::string healthz = Request(port, "GET", "/healthz");
  EXPECT_NE(healthz.find("200 OK"), std::string::npos) << healthz;
  const std::string not_ready = Request(port, "GET", "/readyz");
  EXPECT_NE(not_ready.find(" 503 "), std::string::npos) << not_ready;
  EXPECT_NE(not_ready.find("not ready: no topology yet"), std::string::npos) << not_ready;
  ready = true;
  const std::string is_ready = Request(port, "GET", "/readyz");
  EXPECT_NE(is_ready.find("200 OK"), std::string::npos) << is_ready;
  EXPECT_NE(is_ready.find("\r\n\r\nready\n"), std::string::npos) << is_ready;

  const std::string head = Request(port, "HEAD", "/healthz");
  EXPECT_NE(head.find("200 OK"), std::string::npos) << head;
  EXPECT_EQ(head.find("\r\n\r\nok"), std::string::npos) << "HEAD has no body: " << head;
  EXPECT_NE(Request(port, "POST", "/metrics").find(" 405 "), std::string::npos);
  EXPECT_NE(Request(port, "GET", "/other").find(" 404 "), std::string::npos);
}

TEST(MetricsHttpServerTest, AnAddressInUseIsAnError) {
  auto first = MetricsHttpServer::Start("127.0.0.1:0", {}, nullptr);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second =
      MetricsHttpServer::Start("127.0.0.1:" + std::to_string((*first)->port()), {}, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("cannot serve metrics on 127.0.0.1:"), std::string::npos)
      << second.status();
}

}  // namespace
}  // namespace slotplane
