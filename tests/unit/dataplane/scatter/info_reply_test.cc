#include "dataplane/scatter/info_reply.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "dataplane/scatter/info_fields.h"

namespace slotplane::dataplane {
namespace {

const char kNodeA[] =
    "# Server\r\nredis_version:7.0.15\r\nredis_mode:cluster\r\nos:Linux\r\nprocess_id:11\r\n"
    "tcp_port:7001\r\nuptime_in_seconds:500\r\nuptime_in_days:0\r\nexecutable:/usr/bin/"
    "redis-server\r\n\r\n"
    "# Clients\r\nconnected_clients:4\r\nblocked_clients:1\r\nmaxclients:10000\r\n\r\n"
    "# Memory\r\nused_memory:2048\r\nused_memory_human:2.00K\r\nmem_fragmentation_ratio:1.5\r\n\r\n"
    "# Stats\r\ntotal_commands_processed:10\r\ninstantaneous_input_kbps:0.50\r\n\r\n"
    "# Replication\r\nrole:master\r\nconnected_slaves:1\r\nslave0:ip=127.0.0.1,port=7004,"
    "state=online,offset=1,lag=0\r\nmaster_repl_offset:1\r\n\r\n"
    "# Commandstats\r\ncmdstat_get:calls=2,usec=10,usec_per_call=5.00,rejected_calls=0,failed_"
    "calls=0\r\n\r\n"
    "# Errorstats\r\n\r\n"
    "# Cluster\r\ncluster_enabled:1\r\n\r\n"
    "# Keyspace\r\ndb0:keys=10,expires=2,avg_ttl=1000\r\n";

const char kNodeB[] =
    "# Server\r\nredis_version:7.0.15\r\nredis_mode:cluster\r\nos:Linux\r\nprocess_id:12\r\n"
    "tcp_port:7002\r\nuptime_in_seconds:400\r\nuptime_in_days:0\r\nexecutable:/usr/bin/"
    "redis-server\r\n\r\n"
    "# Clients\r\nconnected_clients:3\r\nblocked_clients:2\r\nmaxclients:10000\r\n\r\n"
    "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\nmem_fragmentation_ratio:2.5\r\n"
    "\r\n"
    "# Stats\r\ntotal_commands_processed:5\r\ninstantaneous_input_kbps:0.25\r\n\r\n"
    "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_repl_offset:9\r\n\r\n"
    "# Commandstats\r\ncmdstat_get:calls=3,usec=20,usec_per_call=6.67,rejected_calls=0,failed_"
    "calls=1\r\ncmdstat_set:calls=1,usec=4,usec_per_call=4.00,rejected_calls=0,failed_calls=0\r\n"
    "\r\n"
    "# Errorstats\r\nerrorstat_ERR:count=2\r\n\r\n"
    "# Cluster\r\ncluster_enabled:1\r\n\r\n"
    "# Keyspace\r\ndb0:keys=30,expires=6,avg_ttl=3000\r\n";

InfoOverrides Overrides() {
  InfoOverrides o;
  o.connected_clients = 7;
  o.maxclients = 500;
  o.process_id = 4242;
  o.tcp_port = 7777;
  o.uptime_seconds = 90000;
  o.os = "Linux 6.1 x86_64";
  return o;
}

TEST(InfoReplyTest, MergedLooksLikeOneStandaloneServer) {
  const std::string merged = MergeInfo({kNodeA, kNodeB}, Overrides());
  for (const char* line :
       {"redis_version:7.0.15\r\n",
        "redis_mode:standalone\r\n",
        "os:Linux 6.1 x86_64\r\n",
        "process_id:4242\r\n",
        "tcp_port:7777\r\n",
        "uptime_in_seconds:90000\r\n",
        "uptime_in_days:1\r\n",
        "executable:\r\n",
        "connected_clients:7\r\n",
        "blocked_clients:3\r\n",
        "maxclients:500\r\n",
        "used_memory:1050624\r\n",
        "used_memory_human:1.00M\r\n",
        "mem_fragmentation_ratio:1.5\r\n",
        "total_commands_processed:15\r\n",
        "instantaneous_input_kbps:0.75\r\n",
        "role:master\r\n",
        "connected_slaves:0\r\n",
        "master_repl_offset:1\r\n",
        "cmdstat_get:calls=5,usec=30,usec_per_call=6.00,rejected_calls=0,failed_calls=1\r\n",
        "cmdstat_set:calls=1,usec=4,usec_per_call=4.00,rejected_calls=0,failed_calls=0\r\n",
        "errorstat_ERR:count=2\r\n",
        "cluster_enabled:0\r\n",
        "db0:keys=40,expires=8,avg_ttl=2500\r\n"}) {
    EXPECT_NE(merged.find(line), std::string::npos) << line << " in:\n" << merged;
  }
  EXPECT_EQ(merged.find("slave0:"), std::string::npos);
  EXPECT_EQ(merged.rfind("# Server\r\n", 0), 0u);
  EXPECT_NE(merged.find("\r\n\r\n# Keyspace\r\n"), std::string::npos);
}

TEST(InfoReplyTest, ProxySectionComesFirst) {
  InfoOverrides o = Overrides();
  o.proxy_section = "# Proxy\r\nproxy_version:0.1.0\r\n";
  const std::string merged = MergeInfo({kNodeA, kNodeB}, o);
  EXPECT_EQ(merged.rfind("# Proxy\r\nproxy_version:0.1.0\r\n\r\n# Server\r\n", 0), 0u) << merged;
}

TEST(InfoReplyTest, OneSection) {
  const std::string merged = MergeInfo(
      {"# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n", "# Keyspace\r\n"}, Overrides());
  EXPECT_EQ(merged, "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n");
}

// The fields of INFO EVERYTHING of a Redis 7.0.15 master (no AOF, not loading), per section.
constexpr std::pair<const char*, const char*> kRedis70Fields[] = {
    {"server",
     "redis_version redis_git_sha1 redis_git_dirty redis_build_id redis_mode os "
     "arch_bits monotonic_clock multiplexing_api atomicvar_api gcc_version process_id "
     "process_supervised run_id tcp_port server_time_usec uptime_in_seconds "
     "uptime_in_days hz configured_hz lru_clock executable config_file "
     "io_threads_active "},
    {"clients",
     "connected_clients cluster_connections maxclients client_recent_max_input_buffer "
     "client_recent_max_output_buffer blocked_clients tracking_clients "
     "clients_in_timeout_table "},
    {"memory",
     "used_memory used_memory_human used_memory_rss used_memory_rss_human "
     "used_memory_peak used_memory_peak_human used_memory_peak_perc "
     "used_memory_overhead used_memory_startup used_memory_dataset "
     "used_memory_dataset_perc allocator_allocated allocator_active allocator_resident "
     "total_system_memory total_system_memory_human used_memory_lua "
     "used_memory_vm_eval used_memory_lua_human used_memory_scripts_eval "
     "number_of_cached_scripts number_of_functions number_of_libraries "
     "used_memory_vm_functions used_memory_vm_total used_memory_vm_total_human "
     "used_memory_functions used_memory_scripts used_memory_scripts_human maxmemory "
     "maxmemory_human maxmemory_policy allocator_frag_ratio allocator_frag_bytes "
     "allocator_rss_ratio allocator_rss_bytes rss_overhead_ratio rss_overhead_bytes "
     "mem_fragmentation_ratio mem_fragmentation_bytes mem_not_counted_for_evict "
     "mem_replication_backlog mem_total_replication_buffers mem_clients_slaves "
     "mem_clients_normal mem_cluster_links mem_aof_buffer mem_allocator "
     "active_defrag_running lazyfree_pending_objects lazyfreed_objects "},
    {"persistence",
     "loading async_loading current_cow_peak current_cow_size current_cow_size_age "
     "current_fork_perc current_save_keys_processed current_save_keys_total "
     "rdb_changes_since_last_save rdb_bgsave_in_progress rdb_last_save_time "
     "rdb_last_bgsave_status rdb_last_bgsave_time_sec rdb_current_bgsave_time_sec "
     "rdb_saves rdb_last_cow_size rdb_last_load_keys_expired rdb_last_load_keys_loaded "
     "aof_enabled aof_rewrite_in_progress aof_rewrite_scheduled "
     "aof_last_rewrite_time_sec aof_current_rewrite_time_sec aof_last_bgrewrite_status "
     "aof_rewrites aof_rewrites_consecutive_failures aof_last_write_status "
     "aof_last_cow_size module_fork_in_progress module_fork_last_cow_size "},
    {"stats",
     "total_connections_received total_commands_processed instantaneous_ops_per_sec "
     "total_net_input_bytes total_net_output_bytes total_net_repl_input_bytes "
     "total_net_repl_output_bytes instantaneous_input_kbps instantaneous_output_kbps "
     "instantaneous_input_repl_kbps instantaneous_output_repl_kbps "
     "rejected_connections sync_full sync_partial_ok sync_partial_err expired_keys "
     "expired_stale_perc expired_time_cap_reached_count expire_cycle_cpu_milliseconds "
     "evicted_keys evicted_clients total_eviction_exceeded_time "
     "current_eviction_exceeded_time keyspace_hits keyspace_misses pubsub_channels "
     "pubsub_patterns pubsubshard_channels latest_fork_usec total_forks "
     "migrate_cached_sockets slave_expires_tracked_keys active_defrag_hits "
     "active_defrag_misses active_defrag_key_hits active_defrag_key_misses "
     "total_active_defrag_time current_active_defrag_time tracking_total_keys "
     "tracking_total_items tracking_total_prefixes unexpected_error_replies "
     "total_error_replies dump_payload_sanitizations total_reads_processed "
     "total_writes_processed io_threaded_reads_processed io_threaded_writes_processed "
     "reply_buffer_shrinks reply_buffer_expands "},
    {"replication",
     "role connected_slaves master_failover_state master_replid master_replid2 "
     "master_repl_offset second_repl_offset repl_backlog_active repl_backlog_size "
     "repl_backlog_first_byte_offset repl_backlog_histlen "},
    {"cpu",
     "used_cpu_sys used_cpu_user used_cpu_sys_children used_cpu_user_children "
     "used_cpu_sys_main_thread used_cpu_user_main_thread "},
    {"cluster", "cluster_enabled "},
};

TEST(InfoReplyTest, EveryRedis70FieldHasADecidedRule) {
  for (const auto& [section, names] : kRedis70Fields) {
    for (absl::string_view name : absl::StrSplit(names, ' ', absl::SkipEmpty())) {
      EXPECT_TRUE(InfoFieldListed(section, std::string_view(name.data(), name.size())))
          << section << ":" << name;
    }
  }
}

// A master as a Redis 7.0 cluster node shows it; only the fields the rules below need.
std::string Master(const std::string& version, int changes, int scripts, int64_t maxmemory,
                   int64_t last_save, const std::string& bgsave_status, int bgsave_in_progress) {
  return absl::StrCat(
      "# Server\r\nredis_version:", version, "\r\nredis_mode:cluster\r\n\r\n",
      "# Clients\r\nconnected_clients:4\r\ncluster_connections:10\r\n",
      "client_recent_max_input_buffer:", scripts * 10, "\r\nblocked_clients:1\r\n\r\n",
      "# Memory\r\nused_memory:1000\r\nused_memory_human:1000B\r\nused_memory_rss:3000\r\n"
      "used_memory_peak:2000\r\nused_memory_peak_perc:50.00%\r\nused_memory_startup:200\r\n"
      "used_memory_dataset:400\r\nused_memory_dataset_perc:50.00%\r\n"
      "allocator_allocated:1000\r\nallocator_active:1500\r\nallocator_resident:2000\r\n",
      "number_of_cached_scripts:", scripts, "\r\nnumber_of_functions:", scripts,
      "\r\nmaxmemory:", maxmemory, "\r\nmaxmemory_human:", maxmemory, "B\r\n",
      "allocator_frag_ratio:9.99\r\nallocator_rss_ratio:9.99\r\nrss_overhead_ratio:9.99\r\n"
      "mem_fragmentation_ratio:9.99\r\n\r\n",
      "# Persistence\r\nloading:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:",
      changes, "\r\ncurrent_save_keys_total:", 4 * changes,
      "\r\nrdb_changes_since_last_save:", changes,
      "\r\nrdb_bgsave_in_progress:", bgsave_in_progress, "\r\nrdb_last_save_time:", last_save,
      "\r\nrdb_last_bgsave_status:", bgsave_status, "\r\nrdb_last_bgsave_time_sec:", changes,
      "\r\n\r\n", "# Stats\r\ntotal_connections_received:100\r\nrejected_connections:5\r\n",
      "latest_fork_usec:", changes * 100, "\r\nexpired_keys:", changes, "\r\n\r\n",
      "# Latencystats\r\nlatency_percentiles_usec_get:p50=", scripts, ".001,p99=", 10 - scripts,
      ".003,p99.9=9.001\r\n", scripts == 1 ? "latency_percentiles_usec_set:p50=2.001\r\n" : "",
      "\r\n# Cluster\r\ncluster_enabled:1\r\n");
}

InfoOverrides ProxyOverrides() {
  InfoOverrides o = Overrides();
  o.total_connections_received = 12;
  o.rejected_connections = 1;
  return o;
}

bool HasLine(const std::string& merged, const std::string& line) {
  return merged.find("\r\n" + line + "\r\n") != std::string::npos;
}

TEST(InfoReplyTest, FieldsFollowTheirRules) {
  const std::string a = Master("7.0.15", 3, 3, 1000, 1700000300, "ok", 0);
  const std::string b = Master("7.0.9", 5, 3, 3000, 1700000100, "err", 1);
  const std::string c = Master("7.2.4", 0, 1, 2000, 1700000200, "ok", 0);
  const std::string merged = MergeInfo({a, b, c}, ProxyOverrides());
  for (const char* line :
       {// the lowest version, as HELLO reports it
        "redis_version:7.0.9",
        // the cluster bus is hidden; the biggest recent buffer; waiting clients summed
        "cluster_connections:0", "client_recent_max_input_buffer:30", "blocked_clients:3",
        // bytes summed, derived fields recomputed from the sums
        "used_memory:3000", "used_memory_human:2.93K", "used_memory_peak_perc:50.00%",
        "used_memory_dataset_perc:50.00%", "allocator_frag_ratio:1.50", "allocator_rss_ratio:1.33",
        "rss_overhead_ratio:1.50", "mem_fragmentation_ratio:3.00",
        // SCRIPT LOAD reaches every master: counted once
        "number_of_cached_scripts:3", "number_of_functions:3",
        // every master has a limit: their sum
        "maxmemory:6000", "maxmemory_human:5.86K",
        // writes since the last save on every master; the oldest save; any failure shows
        "rdb_changes_since_last_save:8", "rdb_last_save_time:1700000100",
        "rdb_last_bgsave_status:err", "rdb_bgsave_in_progress:1", "rdb_last_bgsave_time_sec:5",
        "current_fork_perc:25.00",
        // the proxy's connections; the longest fork; counters summed
        "total_connections_received:12", "rejected_connections:1", "latest_fork_usec:500",
        "expired_keys:8",
        // each percentile the largest; an entry only one master has is kept
        "latency_percentiles_usec_get:p50=3.001,p99=9.003,p99.9=9.001",
        "latency_percentiles_usec_set:p50=2.001", "cluster_enabled:0"}) {
    EXPECT_TRUE(HasLine(merged, line)) << line << " in:\n" << merged;
  }
}

TEST(InfoReplyTest, NoMaxmemoryOnOneMasterMeansNoLimit) {
  const std::string merged =
      MergeInfo({Master("7.0.15", 1, 1, 1000, 1, "ok", 0), Master("7.0.15", 1, 1, 0, 1, "ok", 0)},
                ProxyOverrides());
  EXPECT_TRUE(HasLine(merged, "maxmemory:0")) << merged;
  EXPECT_TRUE(HasLine(merged, "maxmemory_human:0B")) << merged;
}

TEST(InfoReplyTest, LowestRedisVersion) {
  EXPECT_EQ(LowestRedisVersion({"# Server\r\nredis_version:7.0.15\r\n",
                                "# Server\r\nredis_version:7.0.9\r\n",
                                "# Server\r\nredis_version:7.2.0\r\n"}),
            "7.0.9");
  EXPECT_EQ(LowestRedisVersion({"# Server\r\nredis_version:7.2.0\r\n", "-ERR x"}), "7.2.0");
  EXPECT_EQ(LowestRedisVersion({"# Server\r\nos:Linux\r\n"}), "");
}

TEST(InfoReplyTest, WantsProxySection) {
  EXPECT_TRUE(InfoWantsProxySection({"INFO"}));
  EXPECT_TRUE(InfoWantsProxySection({"INFO", "ALL"}));
  EXPECT_TRUE(InfoWantsProxySection({"info", "server", "proxy"}));
  EXPECT_FALSE(InfoWantsProxySection({"INFO", "server"}));
  EXPECT_FALSE(InfoWantsProxySection({"INFO", "keyspace"}));
}

}  // namespace
}  // namespace slotplane::dataplane
