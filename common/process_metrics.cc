#include "common/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/build_info.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_type.h"

namespace slotplane {
namespace {

prometheus::MetricFamily Single(const std::string& name, const std::string& help,
                                prometheus::MetricType type, double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

// Fields of /proc/self/stat after the command name (which may hold spaces): field 3 (state) is
// fields[0]; utime is field 14, stime 15, starttime 22, vsize 23, rss 24 (proc(5)).
std::vector<std::string> StatFields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  const size_t close = line.rfind(')');
  std::vector<std::string> fields;
  if (close == std::string::npos) return fields;
  std::istringstream rest(line.substr(close + 2));
  for (std::string field; rest >> field;) fields.push_back(field);
  return fields;
}

double StatField(const std::vector<std::string>& fields, int number) {
  const size_t index = static_cast<size_t>(number - 3);
  return index < fields.size() ? std::stod(fields[index]) : 0;
}

// Seconds since the epoch at boot, from /proc/stat's btime.
double BootTime() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double value = 0;
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

double OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the descriptor opendir itself holds
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  using prometheus::MetricType;
  const std::vector<std::string> stat = StatFields();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  std::vector<prometheus::MetricFamily> out;
  out.push_back(Single("process_cpu_seconds_total", "User and system CPU time spent, in seconds",
                       MetricType::Counter, (StatField(stat, 14) + StatField(stat, 15)) / ticks));
  out.push_back(Single("process_resident_memory_bytes", "Resident memory size, in bytes",
                       MetricType::Gauge, StatField(stat, 24) * page));
  out.push_back(Single("process_virtual_memory_bytes", "Virtual memory size, in bytes",
                       MetricType::Gauge, StatField(stat, 23)));
  out.push_back(Single("process_open_fds", "Open file descriptors", MetricType::Gauge, OpenFds()));
  out.push_back(Single("process_max_fds", "Limit of open file descriptors (soft RLIMIT_NOFILE)",
                       MetricType::Gauge, static_cast<double>(files.rlim_cur)));
  out.push_back(Single("process_start_time_seconds",
                       "Start time of the process since the Unix epoch, in seconds",
                       MetricType::Gauge, BootTime() + StatField(stat, 22) / ticks));
  prometheus::MetricFamily build =
      Single(prefix_ + "_build_info", "Always 1; the labels say which build is running",
             MetricType::Gauge, 1);
  build.metric[0].label = {{"revision", BuildRevision()}, {"version", BuildVersion()}};
  out.push_back(std::move(build));
  return out;
}

}  // namespace slotplane
