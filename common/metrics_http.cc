#include "common/metrics_http.h"

#include <cstring>
#include <sstream>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "civetweb.h"
#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"

namespace slotplane {
namespace {

// Probes and scrapes are small and rare: two threads keep a slow scrape from delaying a probe.
constexpr const char* kThreads = "2";
constexpr const char* kRequestTimeoutMs = "10000";

bool IsGetOrHead(mg_connection* conn) {
  const char* method = mg_get_request_info(conn)->request_method;
  return std::strcmp(method, "GET") == 0 || std::strcmp(method, "HEAD") == 0;
}

bool IsHead(mg_connection* conn) {
  return std::strcmp(mg_get_request_info(conn)->request_method, "HEAD") == 0;
}

// Writes a complete response; returns the HTTP status, as civetweb handlers do.
int Respond(mg_connection* conn, int status, const char* content_type, std::string_view body) {
  mg_response_header_start(conn, status);
  mg_response_header_add(conn, "Content-Type", content_type, -1);
  mg_response_header_add(conn, "Content-Length", std::to_string(body.size()).c_str(), -1);
  mg_response_header_add(conn, "Cache-Control", "no-store", -1);
  mg_response_header_send(conn);
  if (!IsHead(conn)) mg_write(conn, body.data(), body.size());
  return status;
}

int MethodNotAllowed(mg_connection* conn) {
  return Respond(conn, 405, "text/plain; charset=utf-8", "only GET and HEAD\n");
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& address, std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
    Readiness readiness) {
  std::unique_ptr<MetricsHttpServer> server(
      new MetricsHttpServer(std::move(collectables), std::move(readiness)));
  const char* options[] = {"listening_ports",    address.c_str(),   "num_threads", kThreads,
                           "request_timeout_ms", kRequestTimeoutMs, nullptr};
  mg_callbacks callbacks{};
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = server.get();
  init.configuration_options = options;
  char error_text[256] = {};
  mg_error_data error{};
  error.text = error_text;
  error.text_buffer_size = sizeof(error_text);
  server->context_ = mg_start2(&init, &error);
  if (server->context_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address, ": ",
                                               error_text[0] != '\0' ? error_text : "failed"));
  }
  mg_set_request_handler(server->context_, "/metrics$", HandleMetrics, server.get());
  mg_set_request_handler(server->context_, "/healthz$", HandleHealthz, server.get());
  mg_set_request_handler(server->context_, "/readyz$", HandleReadyz, server.get());
  mg_server_port ports[1] = {};
  if (mg_get_server_ports(server->context_, 1, ports) == 1) server->port_ = ports[0].port;
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (context_ != nullptr) mg_stop(context_);
}

int MetricsHttpServer::HandleMetrics(mg_connection* conn, void* self) {
  if (!IsGetOrHead(conn)) return MethodNotAllowed(conn);
  const auto* server = static_cast<const MetricsHttpServer*>(self);
  std::vector<prometheus::MetricFamily> families;
  for (const auto& collectable : server->collectables_) {
    std::vector<prometheus::MetricFamily> more = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()),
                    std::make_move_iterator(more.end()));
  }
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, families);
  return Respond(conn, 200, "text/plain; version=0.0.4; charset=utf-8", text.str());
}

int MetricsHttpServer::HandleHealthz(mg_connection* conn, void* self) {
  if (!IsGetOrHead(conn)) return MethodNotAllowed(conn);
  return Respond(conn, 200, "text/plain; charset=utf-8", "ok\n");
}

int MetricsHttpServer::HandleReadyz(mg_connection* conn, void* self) {
  if (!IsGetOrHead(conn)) return MethodNotAllowed(conn);
  const auto* server = static_cast<const MetricsHttpServer*>(self);
  absl::Status ready = server->readiness_ ? server->readiness_() : absl::OkStatus();
  if (ready.ok()) return Respond(conn, 200, "text/plain; charset=utf-8", "ready\n");
  return Respond(conn, 503, "text/plain; charset=utf-8",
                 absl::StrCat("not ready: ", ready.message(), "\n"));
}

}  // namespace slotplane
