#include "tests/integration/shared_cluster.h"

namespace slotplane::integration {
namespace {

SharedClusterEnvironment* registered = nullptr;

}  // namespace

SharedClusterEnvironment* SharedClusterEnvironment::Register(Options options) {
  // gtest owns environments and deletes them at exit.
  registered = new SharedClusterEnvironment(std::move(options));
  ::testing::AddGlobalTestEnvironment(registered);
  return registered;
}

SharedClusterEnvironment* SharedClusterEnvironment::Get() { return registered; }

void SharedClusterEnvironment::SetUp() {
  ASSERT_OK_AND_ASSIGN(cluster_, RedisCluster::Start(options_.cluster));
  if (!options_.with_proxy) return;
  ProxyOptions proxy_options = options_.proxy;
  proxy_options.seeds = cluster_->addresses();
  ASSERT_OK_AND_ASSIGN(proxy_, ProxyProcess::Start(proxy_options));
}

void SharedClusterEnvironment::TearDown() {
  proxy_.reset();  // before the cluster, so the proxy sees no backend vanish while it stops
  cluster_.reset();
}

void SharedClusterTest::SetUp() {
  SharedClusterEnvironment* env = SharedClusterEnvironment::Get();
  ASSERT_NE(env, nullptr) << "SharedClusterEnvironment::Register() was not called";
  ASSERT_NE(env->cluster(), nullptr) << "the shared cluster did not start";
  if (!env->with_proxy()) return;
  ASSERT_NE(env->proxy(), nullptr) << "the shared slotplane-proxy did not start";
  ASSERT_TRUE(proxy().IsAlive()) << "the shared slotplane-proxy died in an earlier test";
  proxy_log_offset_ = proxy().LogText().size();
}

void SharedClusterTest::TearDown() {
  SharedClusterEnvironment* env = SharedClusterEnvironment::Get();
  if (!HasFailure() || env == nullptr || env->proxy() == nullptr) return;
  env->proxy()->PrintLog(proxy_log_offset_);
}

}  // namespace slotplane::integration
