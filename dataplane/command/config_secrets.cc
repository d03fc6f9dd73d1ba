#include "dataplane/command/config_secrets.h"

#include <string>
#include <vector>

#include "common/strings.h"
#include "dataplane/resp/reply_reader.h"
#include "dataplane/resp/reply_writer.h"

namespace slotplane::dataplane {
namespace {

// Every Redis 7.0 parameter whose value is a password or authenticates as someone (masteruser
// names the user masterauth logs in as). Checked against config.c's standard configs.
constexpr std::string_view kSecretParameters[] = {
    "masterauth", "masteruser", "requirepass", "tls-client-key-file-pass", "tls-key-file-pass",
};

}  // namespace

bool IsSecretConfigParameter(std::string_view name) {
  for (std::string_view secret : kSecretParameters) {
    if (EqualsIgnoreCase(name, secret)) return true;
  }
  return false;
}

std::string_view FindSecretConfigSet(const std::vector<std::string_view>& args) {
  for (size_t i = 2; i < args.size(); i += 2) {
    if (IsSecretConfigParameter(args[i])) return args[i];
  }
  return {};
}

void AppendConfigGetWithoutSecrets(std::string_view reply, std::string* out, bool resp3) {
  std::vector<std::string_view> elements;
  bool is_null = false;
  if (!resp::ReadArray(reply, &elements, &is_null) || is_null || elements.size() % 2 != 0) {
    out->append(reply);
    return;
  }
  // Names are bulk strings; a name that cannot be read is kept, as Redis never sends one.
  std::vector<bool> keep(elements.size() / 2, true);
  size_t kept = 0;
  for (size_t pair = 0; pair < keep.size(); ++pair) {
    std::string_view name;
    bool name_null = false;
    if (resp::ReadBulk(elements[2 * pair], &name, &name_null) && !name_null &&
        IsSecretConfigParameter(name)) {
      keep[pair] = false;
    } else {
      ++kept;
    }
  }
  if (kept == keep.size() && !resp3) {
    out->append(reply);
    return;
  }
  resp::AppendMapHeader(out, kept, resp3);
  for (size_t pair = 0; pair < keep.size(); ++pair) {
    if (!keep[pair]) continue;
    out->append(elements[2 * pair]);
    out->append(elements[2 * pair + 1]);
  }
}

}  // namespace slotplane::dataplane
