#pragma once

#include <string>
#include <string_view>
#include <vector>

// The Redis configuration parameters whose value is a credential, and the two rules slotplane
// applies to them: CONFIG GET never returns them, CONFIG SET never changes them. The cluster's
// credentials belong to slotplane (the `auth` option, the control plane); a proxy client that
// read them could bypass the proxy, and one that changed them would lock slotplane out of every
// node on its next reconnect. Managed Redis services filter the same parameters.
namespace slotplane::dataplane {

// Whether `name` (any case) is a secret-carrying parameter: requirepass, masterauth,
// masteruser, tls-key-file-pass, tls-client-key-file-pass (Redis 7.0's config.c; none of them
// has an alias). Allocates nothing.
bool IsSecretConfigParameter(std::string_view name);

// CONFIG SET's `args` ("config", "set", name, value, ...): the first parameter name, as the
// client spelled it, that is secret; empty when none is. Values are never looked at.
std::string_view FindSecretConfigSet(const std::vector<std::string_view>& args);

// Appends CONFIG GET's `reply` to `out` without the name/value pairs that name a secret
// parameter. The reply is a RESP2 flat array of name/value pairs; any other reply (an error, a
// malformed or odd-length array, another type) is appended unchanged. `resp3`: the pairs are
// written as a RESP3 map, as Redis answers a RESP3 client.
void AppendConfigGetWithoutSecrets(std::string_view reply, std::string* out, bool resp3 = false);

}  // namespace slotplane::dataplane
