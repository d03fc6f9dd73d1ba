#pragma once

#include <string_view>
#include <vector>

namespace slotplane::dataplane {

// What a Redis 7.0 server answers about one command, captured by scripts/gen_command_table.py so
// that the proxy can answer COMMAND, COMMAND INFO, COMMAND DOCS and COMMAND LIST itself. Static
// data: safe to read from any thread.
struct CommandReplies {
  std::string_view name;   // lower case; "parent|sub" for a subcommand
  std::string_view info;   // raw RESP2 of the command's COMMAND INFO entry (an array of 10)
  std::string_view docs;   // raw RESP2 of its COMMAND DOCS value (a flattened map)
  std::string_view info3;  // the same entry in RESP3 (flags, categories... are sets)
  std::string_view docs3;  // the same value in RESP3 (a map of maps)
  std::string_view acl_categories;  // space-separated, e.g. "@keyspace @read @fast"
};

// The captured replies of `lower_name` ("get", "config|get"), or nullptr when Redis has no such
// command. slotplane's own commands are not here.
const CommandReplies* FindCommandReplies(std::string_view lower_name);

// Every captured command and subcommand in name order.
const std::vector<CommandReplies>& AllCommandReplies();

}  // namespace slotplane::dataplane
