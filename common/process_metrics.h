#pragma once

#include <string>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace slotplane {

// The process metrics every Prometheus client exports under their standard names (so standard
// dashboards and alerts work): process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds, process_start_time_seconds,
// read from /proc/self at scrape time; plus `<prefix>_build_info{version,revision}` = 1.
class ProcessMetrics : public prometheus::Collectable {
 public:
  // `prefix`: "slotplane_proxy" or "slotplane_control".
  explicit ProcessMetrics(std::string prefix) : prefix_(std::move(prefix)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::string prefix_;
};

}  // namespace slotplane
