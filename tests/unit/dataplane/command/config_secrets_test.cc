#include "dataplane/command/config_secrets.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "dataplane/resp/reply_writer.h"

namespace slotplane::dataplane {
namespace {

// A RESP2 flat array of name/value pairs, as CONFIG GET answers.
std::string Pairs(const std::vector<std::string_view>& names_and_values) {
  std::string out;
  resp::AppendArrayHeader(&out, names_and_values.size());
  for (std::string_view item : names_and_values) resp::AppendBulk(&out, item);
  return out;
}

std::string Filter(std::string_view reply) {
  std::string out = "prefix:";  // the filter appends
  AppendConfigGetWithoutSecrets(reply, &out);
  return out.substr(7);
}

TEST(ConfigSecretsTest, SecretParametersAnyCase) {
  for (std::string_view name : {"requirepass", "masterauth", "masteruser", "tls-key-file-pass",
                                "tls-client-key-file-pass", "RequirePass", "MASTERAUTH"}) {
    EXPECT_TRUE(IsSecretConfigParameter(name)) << name;
  }
  for (std::string_view name :
       {"maxmemory", "tls-key-file", "tls-client-key-file", "tls-auth-clients", "requirepas",
        "requirepass ", "", "*pass*", "masterauth2"}) {
    EXPECT_FALSE(IsSecretConfigParameter(name)) << name;
  }
}

TEST(ConfigSecretsTest, FindSecretConfigSetLooksAtNamesOnly) {
  using Args = std::vector<std::string_view>;
  EXPECT_EQ(FindSecretConfigSet(Args{"config", "set", "requirepass", "x"}), "requirepass");
  EXPECT_EQ(FindSecretConfigSet(Args{"CONFIG", "SET", "maxmemory", "0", "MasterAuth", "x"}),
            "MasterAuth");
  // A value that happens to be a secret's name is not a name.
  EXPECT_EQ(FindSecretConfigSet(Args{"config", "set", "maxmemory-policy", "requirepass"}), "");
  EXPECT_EQ(FindSecretConfigSet(Args{"config", "set", "maxmemory", "0", "hz", "10"}), "");
  // An odd trailing name (Redis answers the arity error) is still checked.
  EXPECT_EQ(FindSecretConfigSet(Args{"config", "set", "hz", "10", "masteruser"}), "masteruser");
}

TEST(ConfigSecretsTest, FiltersSecretPairs) {
  EXPECT_EQ(Filter(Pairs({"requirepass", "hunter2"})), "*0\r\n");
  EXPECT_EQ(Filter(Pairs({"masterauth", "hunter2", "maxmemory", "0", "masteruser", "repl",
                          "tls-key-file-pass", "k", "tls-client-key-file-pass", "c", "hz", "10"})),
            Pairs({"maxmemory", "0", "hz", "10"}));
  // Names as a node would never spell them are filtered too.
  EXPECT_EQ(Filter(Pairs({"REQUIREPASS", "hunter2", "tls-key-file", "/k.pem"})),
            Pairs({"tls-key-file", "/k.pem"}));
}

// A RESP3 client gets a map, as Redis 7.0 answers CONFIG GET in RESP3, filtered or not.
TEST(ConfigSecretsTest, Resp3Map) {
  std::string out;
  AppendConfigGetWithoutSecrets(Pairs({"requirepass", "x", "hz", "10"}), &out, true);
  EXPECT_EQ(out, "%1\r\n$2\r\nhz\r\n$2\r\n10\r\n");
  out.clear();
  AppendConfigGetWithoutSecrets(Pairs({"maxmemory", "0"}), &out, true);
  EXPECT_EQ(out, "%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
  out.clear();
  AppendConfigGetWithoutSecrets("*0\r\n", &out, true);
  EXPECT_EQ(out, "%0\r\n");
}

TEST(ConfigSecretsTest, KeepsEverythingElseAsItIs) {
  const std::string plain = Pairs({"maxmemory", "0", "maxmemory-policy", "noeviction"});
  EXPECT_EQ(Filter(plain), plain);
  EXPECT_EQ(Filter("*0\r\n"), "*0\r\n");
  // A value equal to a secret's name is a value, not a name.
  const std::string value_named = Pairs({"maxmemory-policy", "requirepass"});
  EXPECT_EQ(Filter(value_named), value_named);
  // Not a flat array of pairs: unchanged.
  for (std::string_view reply :
       {std::string_view("-ERR wrong number of arguments\r\n"), std::string_view("*-1\r\n"),
        std::string_view("+OK\r\n"), std::string_view("%1\r\n$11\r\nrequirepass\r\n$1\r\nx\r\n"),
        std::string_view("*1\r\n$11\r\nrequirepass\r\n"), std::string_view("*2\r\n$11\r\nreq")}) {
    EXPECT_EQ(Filter(reply), reply);
  }
}

}  // namespace
}  // namespace slotplane::dataplane
