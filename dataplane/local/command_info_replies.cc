#include "dataplane/local/command_info_replies.h"

#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"
#include "dataplane/command/command_replies.h"
#include "dataplane/command/command_table.h"
#include "dataplane/command/key_extractor.h"
#include "dataplane/core/errors.h"
#include "dataplane/core/worker_context.h"
#include "dataplane/resp/reply_writer.h"
#include "dataplane/router/request_forwarder.h"
#include "dataplane/session/client_session.h"

namespace slotplane::dataplane {
namespace {

// slotplane's own entries, in the shape Redis gives its commands (RESP2, then RESP3: the same
// with sets for flags, categories, tips, key specs and subcommands, and a map for the docs).
struct OwnCommand {
  std::string_view name;
  std::string_view info;
  std::string_view docs;
  std::string_view info3;
  std::string_view docs3;
  std::string_view acl_categories;
};

constexpr OwnCommand kOwnCommands[] = {
    {"client|setinfo",
     "*10\r\n$14\r\nclient|setinfo\r\n:-4\r\n*3\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n"
     ":0\r\n*2\r\n+@slow\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n",
     "*8\r\n$7\r\nsummary\r\n$54\r\nSets information specific to the client or connection.\r\n"
     "$5\r\nsince\r\n$5\r\n7.2.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n"
     "$4\r\nO(1)\r\n",
     "*10\r\n$14\r\nclient|setinfo\r\n:-4\r\n~3\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n"
     ":0\r\n~2\r\n+@slow\r\n+@connection\r\n~0\r\n~0\r\n~0\r\n",
     "%4\r\n$7\r\nsummary\r\n$54\r\nSets information specific to the client or connection.\r\n"
     "$5\r\nsince\r\n$5\r\n7.2.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n"
     "$4\r\nO(1)\r\n",
     "@slow @connection"},
    {"proxy",
     "*10\r\n$5\r\nproxy\r\n:-2\r\n*3\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*"
     "1\r\n"
     "+@slow\r\n*0\r\n*0\r\n*0\r\n",
     "*8\r\n$7\r\nsummary\r\n$57\r\nslotplane proxy administration (PROXY HELP lists it all).\r\n"
     "$5\r\nsince\r\n$5\r\n0.1.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$4\r\nO(1)"
     "\r\n",
     "*10\r\n$5\r\nproxy\r\n:-2\r\n~3\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n~"
     "1\r\n"
     "+@slow\r\n~0\r\n~0\r\n~0\r\n",
     "%4\r\n$7\r\nsummary\r\n$57\r\nslotplane proxy administration (PROXY HELP lists it all).\r\n"
     "$5\r\nsince\r\n$5\r\n0.1.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$4\r\nO(1)"
     "\r\n",
     "@slow"},
};

struct Entry {
  std::string_view name;
  std::string_view info;
  std::string_view docs;
  std::string_view info3;
  std::string_view docs3;
  std::string_view acl_categories;

  // The COMMAND INFO entry / COMMAND DOCS value in the client's protocol.
  std::string_view Info(bool resp3) const { return resp3 ? info3 : info; }
  std::string_view Docs(bool resp3) const { return resp3 ? docs3 : docs; }
};

// The entry of a lower-case name ("get", "config|get"), captured or slotplane's own.
bool FindEntry(std::string_view name, Entry* entry) {
  if (const CommandReplies* r = FindCommandReplies(name)) {
    *entry = {r->name, r->info, r->docs, r->info3, r->docs3, r->acl_categories};
    return true;
  }
  for (const OwnCommand& own : kOwnCommands) {
    if (own.name == name) {
      *entry = {own.name, own.info, own.docs, own.info3, own.docs3, own.acl_categories};
      return true;
    }
  }
  return false;
}

std::string Lower(std::string_view text) { return absl::AsciiStrToLower(AbslView(text)); }

// Every top-level command of the proxy's table, in name order.
std::vector<Entry> TopLevelEntries() {
  std::vector<Entry> entries;
  for (const CommandInfo* cmd : CommandTable::Get().All()) {
    Entry entry;
    if (FindEntry(cmd->name, &entry)) entries.push_back(entry);
  }
  return entries;
}

void ReplyAllInfo(ClientSession* client) {
  std::vector<Entry> entries = TopLevelEntries();
  std::string reply;
  resp::AppendArrayHeader(&reply, entries.size());
  for (const Entry& entry : entries) reply.append(entry.Info(client->resp3()));
  client->Reply(reply);
}

void ReplyInfo(ClientSession* client, const std::vector<std::string_view>& args) {
  if (args.size() == 2) {
    ReplyAllInfo(client);
    return;
  }
  std::string reply;
  resp::AppendArrayHeader(&reply, args.size() - 2);
  for (size_t i = 2; i < args.size(); ++i) {
    Entry entry;
    if (FindEntry(Lower(args[i]), &entry)) {
      reply.append(entry.Info(client->resp3()));
    } else {
      resp::AppendNull(&reply, client->resp3());
    }
  }
  client->Reply(reply);
}

void ReplyDocs(ClientSession* client, const std::vector<std::string_view>& args) {
  std::vector<Entry> entries;
  if (args.size() == 2) {
    entries = TopLevelEntries();
  } else {
    for (size_t i = 2; i < args.size(); ++i) {
      Entry entry;
      if (FindEntry(Lower(args[i]), &entry)) entries.push_back(entry);
    }
  }
  std::string reply;
  resp::AppendMapHeader(&reply, entries.size(), client->resp3());
  for (const Entry& entry : entries) {
    resp::AppendBulk(&reply, entry.name);
    reply.append(entry.Docs(client->resp3()));
  }
  client->Reply(reply);
}

// Every command and subcommand name, in name order.
std::vector<Entry> AllEntries() {
  std::vector<Entry> entries;
  for (const CommandReplies& r : AllCommandReplies()) {
    entries.push_back({r.name, r.info, r.docs, r.info3, r.docs3, r.acl_categories});
  }
  for (const OwnCommand& own : kOwnCommands) {
    entries.push_back({own.name, own.info, own.docs, own.info3, own.docs3, own.acl_categories});
  }
  return entries;
}

bool HasCategory(std::string_view categories, std::string_view wanted) {
  for (absl::string_view category : absl::StrSplit(AbslView(categories), ' ')) {
    if (category.size() > 1 && absl::EqualsIgnoreCase(category.substr(1), AbslView(wanted))) {
      return true;
    }
  }
  return false;
}

void ReplyList(ClientSession* client, const std::vector<std::string_view>& args) {
  enum class Filter { kNone, kModule, kAclCat, kPattern } filter = Filter::kNone;
  if (args.size() == 5 && EqualsIgnoreCase(args[2], "FILTERBY")) {
    if (EqualsIgnoreCase(args[3], "MODULE")) {
      filter = Filter::kModule;
    } else if (EqualsIgnoreCase(args[3], "ACLCAT")) {
      filter = Filter::kAclCat;
    } else if (EqualsIgnoreCase(args[3], "PATTERN")) {
      filter = Filter::kPattern;
    }
  }
  if (args.size() != 2 && filter == Filter::kNone) {
    client->Reply(errors::Generic("syntax error"));
    return;
  }
  std::vector<std::string_view> names;
  if (filter != Filter::kModule) {  // the proxy loads no modules
    for (const Entry& entry : AllEntries()) {
      if (filter == Filter::kAclCat && !HasCategory(entry.acl_categories, args[4])) continue;
      if (filter == Filter::kPattern && !GlobMatch(args[4], entry.name, /*nocase=*/true)) continue;
      names.push_back(entry.name);
    }
  }
  std::string reply;
  resp::AppendArrayHeader(&reply, names.size());
  for (std::string_view name : names) resp::AppendBulk(&reply, name);
  client->Reply(reply);
}

// COMMAND GETKEYS <command> [arg ...], with Redis's error texts.
void ReplyGetKeys(ClientSession* client, const std::vector<std::string_view>& args) {
  const std::vector<std::string_view> argv(args.begin() + 2, args.end());
  const CommandTable& table = CommandTable::Get();
  const CommandInfo* cmd = table.Find(argv[0]);
  if (cmd != nullptr && cmd->num_subcommands > 0) {
    cmd = argv.size() >= 2 ? table.FindSubcommand(*cmd, argv[1]) : nullptr;
  }
  if (cmd == nullptr) {
    client->Reply(errors::Generic("Invalid command specified"));
    return;
  }
  if (cmd->num_key_specs == 0) {
    client->Reply(errors::Generic("The command has no key arguments"));
    return;
  }
  if (!ArityOk(*cmd, argv.size())) {
    client->Reply(errors::Generic("Invalid number of arguments specified for command"));
    return;
  }
  std::vector<int> positions;
  if (!ExtractKeyPositions(*cmd, argv, &positions) || positions.empty()) {
    // Scripts and functions may have no keys (Redis's no_mandatory_keys flag).
    const std::string_view name(cmd->name);
    if (name == "eval" || name == "evalsha" || name == "eval_ro" || name == "evalsha_ro" ||
        name == "fcall" || name == "fcall_ro") {
      client->Reply("*0\r\n");
    } else {
      client->Reply(errors::Generic("Invalid arguments specified for command"));
    }
    return;
  }
  std::string reply;
  resp::AppendArrayHeader(&reply, positions.size());
  for (int position : positions) resp::AppendBulk(&reply, argv[position]);
  client->Reply(reply);
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase) {
  auto lower = [nocase](char c) {
    return nocase ? absl::ascii_tolower(static_cast<unsigned char>(c)) : c;
  };
  size_t p = 0, t = 0;
  while (p < pattern.size() && t < text.size()) {
    switch (pattern[p]) {
      case '*': {
        while (p + 1 < pattern.size() && pattern[p + 1] == '*') ++p;
        if (p + 1 == pattern.size()) return true;
        for (size_t i = t; i < text.size(); ++i) {
          if (GlobMatch(pattern.substr(p + 1), text.substr(i), nocase)) return true;
        }
        return false;
      }
      case '?':
        break;
      case '[': {
        ++p;
        const bool negate = p < pattern.size() && pattern[p] == '^';
        if (negate) ++p;
        bool match = false;
        while (p < pattern.size() && pattern[p] != ']') {
          if (pattern[p] == '\\' && p + 1 < pattern.size()) {
            ++p;
            if (lower(pattern[p]) == lower(text[t])) match = true;
          } else if (p + 2 < pattern.size() && pattern[p + 1] == '-') {
            char start = lower(pattern[p]), end = lower(pattern[p + 2]);
            if (start > end) std::swap(start, end);
            const char c = lower(text[t]);
            if (c >= start && c <= end) match = true;
            p += 2;
          } else if (lower(pattern[p]) == lower(text[t])) {
            match = true;
          }
          ++p;
        }
        if (p == pattern.size()) --p;  // unterminated class: its last char closes it
        if (match == negate) return false;
        break;
      }
      case '\\':
        if (p + 1 < pattern.size()) ++p;
        [[fallthrough]];
      default:
        if (lower(pattern[p]) != lower(text[t])) return false;
        break;
    }
    ++p;
    ++t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size() && t == text.size();
}

void ExecuteCommandCommand(WorkerContext* worker, ClientSession* client, std::string_view sub,
                           const std::vector<std::string_view>& args) {
  if (sub.empty()) {
    ReplyAllInfo(client);
  } else if (sub == "count") {
    std::string reply;
    resp::AppendInteger(&reply, static_cast<int64_t>(CommandTable::Get().All().size()));
    client->Reply(reply);
  } else if (sub == "info") {
    ReplyInfo(client, args);
  } else if (sub == "docs") {
    ReplyDocs(client, args);
  } else if (sub == "list") {
    ReplyList(client, args);
  } else if (sub == "getkeys") {
    ReplyGetKeys(client, args);
  } else {
    worker->forwarder().ForwardToAnyMaster(client, args);
  }
}

}  // namespace slotplane::dataplane
