#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "tests/integration/proxy_process.h"
#include "tests/integration/redis_cluster.h"

namespace slotplane::integration {

// The cluster (and, optionally, the proxy in front of it) that all tests of one binary share:
// started once before the first test and stopped after the last. Tests that break the cluster
// (failover, resharding) start their own instead. Register it once at namespace scope:
//
//   const auto* const kEnv = SharedClusterEnvironment::Register({});
class SharedClusterEnvironment : public ::testing::Environment {
 public:
  struct Options {
    RedisClusterOptions cluster;
    bool with_proxy = true;
    // `seeds` is filled in with every node of the cluster.
    ProxyOptions proxy;
  };

  static SharedClusterEnvironment* Register(Options options);
  // The registered environment; null before Register().
  static SharedClusterEnvironment* Get();

  explicit SharedClusterEnvironment(Options options) : options_(std::move(options)) {}

  void SetUp() override;
  void TearDown() override;

  bool with_proxy() const { return options_.with_proxy; }
  RedisCluster* cluster() { return cluster_.get(); }
  ProxyProcess* proxy() { return proxy_.get(); }

 private:
  Options options_;
  std::unique_ptr<RedisCluster> cluster_;
  std::unique_ptr<ProxyProcess> proxy_;
};

// Base fixture for tests of a binary with a SharedClusterEnvironment. A test fails at once if the
// environment did not come up; when a test fails, the proxy log it produced is printed.
class SharedClusterTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  RedisCluster& cluster() { return *SharedClusterEnvironment::Get()->cluster(); }
  ProxyProcess& proxy() { return *SharedClusterEnvironment::Get()->proxy(); }

 private:
  size_t proxy_log_offset_ = 0;
};

}  // namespace slotplane::integration
