#include "dataplane/scatter/info_fields.h"

namespace slotplane::dataplane {
namespace {

using M = InfoMerge;

struct FieldRule {
  std::string_view section;
  std::string_view field;
  InfoMerge merge;
};

// Every field of Redis 7.0's INFO EVERYTHING (7.0.15, including the fields printed only while
// loading, with AOF on, or on a replica), section by section. docs/info-merge.md gives the reasons.
constexpr FieldRule kRules[] = {
    // Server: one server's identity. The version is the lowest, as HELLO reports it.
    {"server", "redis_version", M::kLowestVersion},
    {"server", "redis_git_sha1", M::kFirst},
    {"server", "redis_git_dirty", M::kFirst},
    {"server", "redis_build_id", M::kFirst},
    {"server", "redis_mode", M::kFixed},
    {"server", "os", M::kProxy},
    {"server", "arch_bits", M::kFirst},
    {"server", "monotonic_clock", M::kFirst},
    {"server", "multiplexing_api", M::kFirst},
    {"server", "atomicvar_api", M::kFirst},
    {"server", "gcc_version", M::kFirst},
    {"server", "process_id", M::kProxy},
    {"server", "process_supervised", M::kFirst},
    {"server", "run_id", M::kFirst},
    {"server", "tcp_port", M::kProxy},
    {"server", "server_time_usec", M::kFirst},
    {"server", "uptime_in_seconds", M::kProxy},
    {"server", "uptime_in_days", M::kProxy},
    {"server", "hz", M::kFirst},
    {"server", "configured_hz", M::kFirst},
    {"server", "lru_clock", M::kFirst},
    {"server", "executable", M::kFixed},
    {"server", "config_file", M::kFixed},
    {"server", "io_threads_active", M::kMax},
    // Clients: the proxy's clients; the nodes' counts of what clients wait for are summed.
    {"clients", "connected_clients", M::kProxy},
    {"clients", "cluster_connections", M::kFixed},
    {"clients", "maxclients", M::kProxy},
    {"clients", "client_recent_max_input_buffer", M::kMax},
    {"clients", "client_recent_max_output_buffer", M::kMax},
    {"clients", "blocked_clients", M::kSum},
    {"clients", "tracking_clients", M::kSum},
    {"clients", "clients_in_timeout_table", M::kSum},
    // Memory: bytes are summed; what is derived from them is recomputed.
    {"memory", "used_memory", M::kSum},
    {"memory", "used_memory_human", M::kDerived},
    {"memory", "used_memory_rss", M::kSum},
    {"memory", "used_memory_rss_human", M::kDerived},
    {"memory", "used_memory_peak", M::kSum},
    {"memory", "used_memory_peak_human", M::kDerived},
    {"memory", "used_memory_peak_perc", M::kDerived},
    {"memory", "used_memory_overhead", M::kSum},
    {"memory", "used_memory_startup", M::kSum},
    {"memory", "used_memory_dataset", M::kSum},
    {"memory", "used_memory_dataset_perc", M::kDerived},
    {"memory", "allocator_allocated", M::kSum},
    {"memory", "allocator_active", M::kSum},
    {"memory", "allocator_resident", M::kSum},
    {"memory", "total_system_memory", M::kSum},
    {"memory", "total_system_memory_human", M::kDerived},
    {"memory", "used_memory_lua", M::kSum},
    {"memory", "used_memory_vm_eval", M::kSum},
    {"memory", "used_memory_lua_human", M::kDerived},
    {"memory", "used_memory_scripts_eval", M::kSum},
    // SCRIPT LOAD and FUNCTION LOAD go to every master: counted once, not once per master.
    {"memory", "number_of_cached_scripts", M::kMax},
    {"memory", "number_of_functions", M::kMax},
    {"memory", "number_of_libraries", M::kMax},
    {"memory", "used_memory_vm_functions", M::kSum},
    {"memory", "used_memory_vm_total", M::kSum},
    {"memory", "used_memory_vm_total_human", M::kDerived},
    {"memory", "used_memory_functions", M::kSum},
    {"memory", "used_memory_scripts", M::kSum},
    {"memory", "used_memory_scripts_human", M::kDerived},
    {"memory", "maxmemory", M::kSumOrUnlimited},
    {"memory", "maxmemory_human", M::kDerived},
    {"memory", "maxmemory_policy", M::kFirst},
    {"memory", "allocator_frag_ratio", M::kDerived},
    {"memory", "allocator_frag_bytes", M::kSum},
    {"memory", "allocator_rss_ratio", M::kDerived},
    {"memory", "allocator_rss_bytes", M::kSum},
    {"memory", "rss_overhead_ratio", M::kDerived},
    {"memory", "rss_overhead_bytes", M::kSum},
    {"memory", "mem_fragmentation_ratio", M::kDerived},
    {"memory", "mem_fragmentation_bytes", M::kSum},
    {"memory", "mem_not_counted_for_evict", M::kSum},
    {"memory", "mem_replication_backlog", M::kSum},
    {"memory", "mem_total_replication_buffers", M::kSum},
    {"memory", "mem_clients_slaves", M::kSum},
    {"memory", "mem_clients_normal", M::kSum},
    {"memory", "mem_cluster_links", M::kSum},
    {"memory", "mem_aof_buffer", M::kSum},
    {"memory", "mem_allocator", M::kFirst},
    {"memory", "active_defrag_running", M::kMax},
    {"memory", "lazyfree_pending_objects", M::kSum},
    {"memory", "lazyfreed_objects", M::kSum},
    // Persistence: flags are "any master", counts summed, times the oldest or longest.
    {"persistence", "loading", M::kMax},
    {"persistence", "async_loading", M::kMax},
    {"persistence", "current_cow_peak", M::kSum},
    {"persistence", "current_cow_size", M::kSum},
    {"persistence", "current_cow_size_age", M::kMax},
    {"persistence", "current_fork_perc", M::kDerived},
    {"persistence", "current_save_keys_processed", M::kSum},
    {"persistence", "current_save_keys_total", M::kSum},
    {"persistence", "rdb_changes_since_last_save", M::kSum},
    {"persistence", "rdb_bgsave_in_progress", M::kMax},
    {"persistence", "rdb_last_save_time", M::kMin},
    {"persistence", "rdb_last_bgsave_status", M::kWorstStatus},
    {"persistence", "rdb_last_bgsave_time_sec", M::kMax},
    {"persistence", "rdb_current_bgsave_time_sec", M::kMax},
    {"persistence", "rdb_saves", M::kSum},
    {"persistence", "rdb_last_cow_size", M::kSum},
    {"persistence", "rdb_last_load_keys_expired", M::kSum},
    {"persistence", "rdb_last_load_keys_loaded", M::kSum},
    {"persistence", "aof_enabled", M::kMin},
    {"persistence", "aof_rewrite_in_progress", M::kMax},
    {"persistence", "aof_rewrite_scheduled", M::kMax},
    {"persistence", "aof_last_rewrite_time_sec", M::kMax},
    {"persistence", "aof_current_rewrite_time_sec", M::kMax},
    {"persistence", "aof_last_bgrewrite_status", M::kWorstStatus},
    {"persistence", "aof_rewrites", M::kSum},
    {"persistence", "aof_rewrites_consecutive_failures", M::kMax},
    {"persistence", "aof_last_write_status", M::kWorstStatus},
    {"persistence", "aof_last_cow_size", M::kSum},
    {"persistence", "module_fork_in_progress", M::kMax},
    {"persistence", "module_fork_last_cow_size", M::kSum},
    {"persistence", "aof_current_size", M::kSum},
    {"persistence", "aof_base_size", M::kSum},
    {"persistence", "aof_pending_rewrite", M::kMax},
    {"persistence", "aof_buffer_length", M::kSum},
    {"persistence", "aof_pending_bio_fsync", M::kSum},
    {"persistence", "aof_delayed_fsync", M::kSum},
    {"persistence", "loading_start_time", M::kMin},
    {"persistence", "loading_total_bytes", M::kSum},
    {"persistence", "loading_rdb_used_mem", M::kSum},
    {"persistence", "loading_loaded_bytes", M::kSum},
    {"persistence", "loading_loaded_perc", M::kDerived},
    {"persistence", "loading_eta_seconds", M::kMax},
    // Stats: counters and rates summed; the proxy counts the connections its clients make.
    {"stats", "total_connections_received", M::kProxy},
    {"stats", "total_commands_processed", M::kSum},
    {"stats", "instantaneous_ops_per_sec", M::kSum},
    {"stats", "total_net_input_bytes", M::kSum},
    {"stats", "total_net_output_bytes", M::kSum},
    {"stats", "total_net_repl_input_bytes", M::kSum},
    {"stats", "total_net_repl_output_bytes", M::kSum},
    {"stats", "instantaneous_input_kbps", M::kSum},
    {"stats", "instantaneous_output_kbps", M::kSum},
    {"stats", "instantaneous_input_repl_kbps", M::kSum},
    {"stats", "instantaneous_output_repl_kbps", M::kSum},
    {"stats", "rejected_connections", M::kProxy},
    {"stats", "sync_full", M::kSum},
    {"stats", "sync_partial_ok", M::kSum},
    {"stats", "sync_partial_err", M::kSum},
    {"stats", "expired_keys", M::kSum},
    {"stats", "expired_stale_perc", M::kMax},
    {"stats", "expired_time_cap_reached_count", M::kSum},
    {"stats", "expire_cycle_cpu_milliseconds", M::kSum},
    {"stats", "evicted_keys", M::kSum},
    {"stats", "evicted_clients", M::kSum},
    {"stats", "total_eviction_exceeded_time", M::kSum},
    {"stats", "current_eviction_exceeded_time", M::kMax},
    {"stats", "keyspace_hits", M::kSum},
    {"stats", "keyspace_misses", M::kSum},
    {"stats", "pubsub_channels", M::kSum},
    {"stats", "pubsub_patterns", M::kSum},
    {"stats", "pubsubshard_channels", M::kSum},
    {"stats", "latest_fork_usec", M::kMax},
    {"stats", "total_forks", M::kSum},
    {"stats", "migrate_cached_sockets", M::kSum},
    {"stats", "slave_expires_tracked_keys", M::kSum},
    {"stats", "active_defrag_hits", M::kSum},
    {"stats", "active_defrag_misses", M::kSum},
    {"stats", "active_defrag_key_hits", M::kSum},
    {"stats", "active_defrag_key_misses", M::kSum},
    {"stats", "total_active_defrag_time", M::kSum},
    {"stats", "current_active_defrag_time", M::kMax},
    {"stats", "tracking_total_keys", M::kSum},
    {"stats", "tracking_total_items", M::kSum},
    {"stats", "tracking_total_prefixes", M::kSum},
    {"stats", "unexpected_error_replies", M::kSum},
    {"stats", "total_error_replies", M::kSum},
    {"stats", "dump_payload_sanitizations", M::kSum},
    {"stats", "total_reads_processed", M::kSum},
    {"stats", "total_writes_processed", M::kSum},
    {"stats", "io_threaded_reads_processed", M::kSum},
    {"stats", "io_threaded_writes_processed", M::kSum},
    {"stats", "reply_buffer_shrinks", M::kSum},
    {"stats", "reply_buffer_expands", M::kSum},
    // Replication: a standalone master without replicas (the slaveN lines are dropped); ids and
    // offsets belong to one replication stream, so they are the first master's together.
    {"replication", "role", M::kFixed},
    {"replication", "connected_slaves", M::kFixed},
    {"replication", "master_failover_state", M::kFirst},
    {"replication", "master_replid", M::kFirst},
    {"replication", "master_replid2", M::kFirst},
    {"replication", "master_repl_offset", M::kFirst},
    {"replication", "second_repl_offset", M::kFirst},
    {"replication", "repl_backlog_active", M::kFirst},
    {"replication", "repl_backlog_size", M::kFirst},
    {"replication", "repl_backlog_first_byte_offset", M::kFirst},
    {"replication", "repl_backlog_histlen", M::kFirst},
    // CPU: the cluster's CPU time.
    {"cpu", "used_cpu_sys", M::kSum},
    {"cpu", "used_cpu_user", M::kSum},
    {"cpu", "used_cpu_sys_children", M::kSum},
    {"cpu", "used_cpu_user_children", M::kSum},
    {"cpu", "used_cpu_sys_main_thread", M::kSum},
    {"cpu", "used_cpu_user_main_thread", M::kSum},
    // Cluster: the proxy hides it.
    {"cluster", "cluster_enabled", M::kFixed},
};

InfoMerge SectionDefault(std::string_view section) {
  if (section == "clients" || section == "memory" || section == "stats" || section == "cpu") {
    return M::kSum;
  }
  if (section == "commandstats" || section == "errorstats") return M::kSumPerEntry;
  if (section == "latencystats") return M::kMaxPerEntry;
  if (section == "keyspace") return M::kKeyspace;
  return M::kFirst;
}

const FieldRule* Find(std::string_view section, std::string_view field) {
  for (const FieldRule& rule : kRules) {
    if (rule.field == field && rule.section == section) return &rule;
  }
  return nullptr;
}

}  // namespace

InfoMerge InfoMergeOf(std::string_view section, std::string_view field) {
  const FieldRule* rule = Find(section, field);
  return rule != nullptr ? rule->merge : SectionDefault(section);
}

bool InfoFieldListed(std::string_view section, std::string_view field) {
  return Find(section, field) != nullptr;
}

}  // namespace slotplane::dataplane
