#pragma once

#include <string_view>
#include <vector>

namespace slotplane::dataplane {

class ClientSession;
class WorkerContext;

// COMMAND and its subcommands, answered from the proxy's own table (command_table.h) and the
// Redis replies captured with it (command_replies.h), so that every client sees the same command
// set whatever node it would have reached, and no node is asked:
//   COMMAND, COMMAND INFO [name ...]   the captured entries (nil for unknown names);
//   COMMAND DOCS [name ...]            the captured docs (unknown names left out), which
//                                      interactive redis-cli 7 reads at start;
//   COMMAND COUNT                      the number of top-level commands, PROXY included;
//   COMMAND LIST [FILTERBY MODULE m|ACLCAT c|PATTERN p]   command and subcommand names;
//   COMMAND GETKEYS cmd arg...         the keys as the proxy's key extraction finds them.
// COMMAND HELP and COMMAND GETKEYSANDFLAGS go to a master (routing.cc).
// `sub` is the lower-case subcommand ("" for bare COMMAND). Worker thread.
void ExecuteCommandCommand(WorkerContext* worker, ClientSession* client, std::string_view sub,
                           const std::vector<std::string_view>& args);

// Redis's stringmatchlen(): glob-style matching with *, ?, [...] and \ escapes.
bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase);

}  // namespace slotplane::dataplane
