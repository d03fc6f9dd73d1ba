#include "controlplane/metrics/metrics.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/process_metrics.h"
#include "common/slot.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace slotplane::control {
namespace {

prometheus::Counter& MakeCounter(prometheus::Registry& registry, const std::string& name,
                                 const std::string& help) {
  return prometheus::BuildCounter()
      .Name("slotplane_control_" + name + "_total")
      .Help(help)
      .Register(registry)
      .Add({});
}

prometheus::Gauge& MakeGauge(prometheus::Registry& registry, const std::string& name,
                             const std::string& help) {
  return prometheus::BuildGauge()
      .Name("slotplane_control_" + name)
      .Help(help)
      .Register(registry)
      .Add({});
}

// slotplane_control_up: 1 whenever a scrape gets an answer.
class Liveness : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily family;
    family.name = "slotplane_control_up";
    family.help = "1 while slotplane-control is serving";
    family.type = prometheus::MetricType::Gauge;
    prometheus::ClientMetric metric;
    metric.gauge.value = 1;
    family.metric.push_back(metric);
    return {family};
  }
};

}  // namespace

ControlMetrics::ControlMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
#define SLOTPLANE_INIT_COUNTER(name, help) name(MakeCounter(*registry_, #name, help)),
      SLOTPLANE_CONTROL_COUNTERS(SLOTPLANE_INIT_COUNTER)
#undef SLOTPLANE_INIT_COUNTER
#define SLOTPLANE_INIT_GAUGE(name, help) name(MakeGauge(*registry_, #name, help)),
          SLOTPLANE_CONTROL_GAUGES(SLOTPLANE_INIT_GAUGE)
#undef SLOTPLANE_INIT_GAUGE
              admin_calls_(&prometheus::BuildCounter()
                                .Name("slotplane_control_admin_calls_total")
                                .Help("Admin API calls, by method and gRPC status code")
                                .Register(*registry_)),
      proxy_acked_(&prometheus::BuildGauge()
                        .Name("slotplane_control_proxy_acked_version")
                        .Help("Last version each connected proxy acked, by proxy id")
                        .Register(*registry_)) {
  auto& nacks =
      prometheus::BuildCounter()
          .Name("slotplane_control_nacks_total")
          .Help("NACKs received from proxies (and snapshots too large for one), by reason")
          .Register(*registry_);
  for (int i = 0; i < kNackReasonCount; ++i) {
    nacks_[i] = &nacks.Add({{"reason", NackReasonName(static_cast<NackReason>(i))}});
  }
  convergence_ =
      &prometheus::BuildHistogram()
           .Name("slotplane_control_fleet_convergence_seconds")
           .Help("Time from publishing a version to every connected proxy having acked it")
           .Register(*registry_)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                            0.5, 1, 2.5, 5, 10, 30, 60, 300});
}

const char* NackReasonName(NackReason reason) {
  switch (reason) {
    case NackReason::kTopology:
      return "topology";
    case NackReason::kPolicy:
      return "policy";
    case NackReason::kTooLarge:
      return "too_large";
    case NackReason::kOther:
      break;
  }
  return "other";
}

NackReason ClassifyNack(const std::string& error) {
  if (absl::StartsWith(error, "topology: ")) return NackReason::kTopology;
  if (absl::StartsWith(error, "policy: ")) return NackReason::kPolicy;
  return NackReason::kOther;
}

prometheus::Gauge* ControlMetrics::AddProxy(const std::string& proxy_id) {
  return &proxy_acked_->Add({{"proxy", proxy_id}});
}

void ControlMetrics::RemoveProxy(prometheus::Gauge* gauge) { proxy_acked_->Remove(gauge); }

void ControlMetrics::CountAdminCall(const char* method, grpc::StatusCode code) {
  admin_calls_->Add({{"method", method}, {"code", StatusCodeName(code)}}).Increment();
}

absl::Status ControlReadiness(const ControlMetrics& metrics) {
  const double covered = metrics.topology_slots_covered.Value();
  if (covered < kSlotCount) {
    return absl::UnavailableError(
        absl::StrCat("the topology covers ", covered, " of ", kSlotCount, " hash slots"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> StartMetricsServer(
    const std::string& address, const ControlMetrics& metrics) {
  return MetricsHttpServer::Start(address,
                                  {metrics.registry(), std::make_shared<Liveness>(),
                                   std::make_shared<ProcessMetrics>("slotplane_control")},
                                  [&metrics] { return ControlReadiness(metrics); });
}

const char* StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

}  // namespace slotplane::control
