#include "common/fleet_options.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/acl_rules.h"
#include "gtest/gtest.h"
#include "slotplane/v1/config.pb.h"

namespace slotplane {
namespace {

std::string Message(const absl::Status& status) { return std::string(status.message()); }

const FleetOption& Option(const char* name) {
  const FleetOption* option = FindFleetOption(name);
  EXPECT_NE(option, nullptr) << name;
  return *option;
}

// A value every option accepts that differs from its default.
std::string OtherValue(const FleetOption& option) {
  switch (option.kind()) {
    case FleetKind::kYesNo:
      return option.Show(FleetSettings()) == "yes" ? "no" : "yes";
    case FleetKind::kInt:
      return "7";
    case FleetKind::kSize:
      return "3mb";
    case FleetKind::kEnum:
      return option.name() == std::string("read-policy") ? "prefer-replica" : "warning";
    case FleetKind::kWord:
    case FleetKind::kSecret:
      return "word";
    case FleetKind::kOutputLimits:
      return "normal 1mb 0 0";
    case FleetKind::kCommandList:
      return "set";
  }
  return "";
}

TEST(FleetOptionsTest, NamesAreUniqueAndLowerCase) {
  std::set<std::string> names;
  for (const FleetOption& option : FleetOptions()) {
    EXPECT_TRUE(names.insert(option.name()).second) << option.name();
    EXPECT_EQ(absl::AsciiStrToLower(option.name()), option.name());
    EXPECT_EQ(FindFleetOption(absl::AsciiStrToUpper(option.name())), &option);
  }
  EXPECT_EQ(FindFleetOption("port"), nullptr);
}

TEST(FleetOptionsTest, EveryOptionRoundTripsThroughTextSettingsAndPolicy) {
  for (const FleetOption& option : FleetOptions()) {
    SCOPED_TRACE(option.name());
    const std::string text = OtherValue(option);
    FleetSettings settings;
    ASSERT_TRUE(option.Parse(text, &settings).ok());
    const std::string shown = option.Show(settings);
    EXPECT_NE(shown, option.Show(FleetSettings()));
    v1::Policy policy;
    option.Put(settings, &policy);
    EXPECT_EQ(option.Show(policy), shown);
    v1::Policy parsed;
    ASSERT_TRUE(option.Parse(text, &parsed).ok());
    EXPECT_EQ(parsed.SerializeAsString(), policy.SerializeAsString());
    FleetSettings taken;
    ASSERT_TRUE(option.Take(policy, &taken).ok());
    EXPECT_EQ(option.Show(taken), shown);
  }
}

TEST(FleetOptionsTest, DefaultsMatchRedisClusterProxy) {
  const FleetSettings defaults;
  EXPECT_FALSE(defaults.enable_cross_slot);
  EXPECT_EQ(defaults.read_policy, ReadPolicy::kMaster);
  EXPECT_EQ(defaults.maxclients, 10000);
  EXPECT_EQ(defaults.proto_max_bulk_len, 512LL * 1024 * 1024);
  EXPECT_EQ(defaults.max_redirects, 5);
  EXPECT_EQ(defaults.connections_pool_spawn_every, 50);
  v1::Policy policy;
  PutFleetSettings(defaults, &policy);
  EXPECT_EQ(policy.read_policy(), v1::READ_POLICY_MASTER);
  EXPECT_EQ(policy.log_level(), "info");
  EXPECT_EQ(policy.limits().max_multibulk_len(), 1024 * 1024);
  EXPECT_TRUE(policy.has_backend());
  EXPECT_EQ(policy.backend().password(), "");
}

TEST(FleetOptionsTest, ProtoEnumsNumberTheChoicesFromOne) {
  const EnumNames& choices = kReadPolicyChoices;
  for (size_t i = 0; i < choices.names.size(); ++i) {
    const std::string proto_name = absl::StrCat(
        "READ_POLICY_", absl::AsciiStrToUpper(absl::StrReplaceAll(choices.names[i], {{"-", "_"}})));
    EXPECT_EQ(v1::ReadPolicy_Name(static_cast<v1::ReadPolicy>(i + 1)), proto_name);
  }
}

TEST(FleetOptionsTest, UnsetPolicyFieldsKeepTheSettings) {
  FleetSettings settings;
  settings.maxclients = 1234;
  settings.log_level = LogLevel::kDebug;
  settings.auth = "local";
  settings.read_policy = ReadPolicy::kReplica;
  settings.enable_cross_slot = true;
  ASSERT_TRUE(TakeFleetSettings(v1::Policy(), &settings).ok());
  EXPECT_EQ(settings.maxclients, 1234) << "0 is unset";
  EXPECT_EQ(settings.log_level, LogLevel::kDebug) << "empty is unset";
  EXPECT_EQ(settings.auth, "local");
  EXPECT_EQ(settings.read_policy, ReadPolicy::kMaster) << "UNSPECIFIED is the default";
  EXPECT_FALSE(settings.enable_cross_slot) << "a yes/no option is always set";
}

TEST(FleetOptionsTest, PolicyValuesTheOptionDoesNotAllowAreErrors) {
  FleetSettings settings;
  v1::Policy policy;
  policy.mutable_limits()->set_max_redirects(1000);
  EXPECT_EQ(Message(TakeFleetSettings(policy, &settings)),
            "max-redirects 1000 is out of range (1..100)");
  policy = v1::Policy();
  policy.set_connections_pool_size(-1);
  EXPECT_EQ(Message(TakeFleetSettings(policy, &settings)),
            "connections-pool-size -1 is out of range (0..1000)");
  policy = v1::Policy();
  policy.set_read_policy(static_cast<v1::ReadPolicy>(42));
  EXPECT_EQ(Message(TakeFleetSettings(policy, &settings)), "unknown read policy 42");
  policy = v1::Policy();
  policy.set_log_level("loud");
  EXPECT_EQ(Message(TakeFleetSettings(policy, &settings)), "unknown log level 'loud'");
  policy.set_log_level("WARN");
  ASSERT_TRUE(TakeFleetSettings(policy, &settings).ok());
  EXPECT_EQ(settings.log_level, LogLevel::kWarning);
}

TEST(FleetOptionsTest, ParseErrorsNameTheOptionAndChangeNothing) {
  FleetSettings settings;
  EXPECT_EQ(Message(Option("max-redirects").Parse("101", &settings)),
            "invalid value '101' for option 'max-redirects': must be between 1 and 100");
  EXPECT_EQ(Message(Option("auth-user").Parse("a b", &settings)),
            "invalid value 'a b' for option 'auth-user': contains a space");
  EXPECT_EQ(Message(Option("read-policy").Parse("nearest", &settings)),
            "invalid value 'nearest' for option 'read-policy': must be master, prefer-master, "
            "replica, prefer-replica or any");
  EXPECT_EQ(Message(Option("client-query-buffer-limit").Parse("1kb", &settings)),
            "invalid value '1kb' for option 'client-query-buffer-limit': must be at least 1048576");
  EXPECT_EQ(Option("max-redirects").Show(settings), "5");
  v1::Policy policy;
  EXPECT_FALSE(Option("maxclients").Parse("0", &policy).ok());
  EXPECT_EQ(policy.SerializeAsString(), "");
}

TEST(FleetOptionsTest, SecretsAreNeverShown) {
  const FleetOption& auth = Option("auth");
  EXPECT_TRUE(auth.secret());
  FleetSettings settings;
  EXPECT_EQ(auth.Show(settings), "");
  ASSERT_TRUE(auth.Parse("pass word", &settings).ok()) << "a password may hold spaces";
  EXPECT_EQ(settings.auth, "pass word");
  EXPECT_EQ(auth.Show(settings), "(set)");
  v1::Policy policy;
  auth.Put(settings, &policy);
  EXPECT_EQ(auth.Show(policy), "(set)");
  EXPECT_FALSE(Option("auth-user").secret());
}

// Redis's syntax; a value names some classes and the others keep theirs, in the settings and in
// a policy alike; CONFIG GET's form in bytes.
TEST(FleetOptionsTest, ClientOutputBufferLimitMergesClassesAsRedis) {
  const FleetOption& option = Option("client-output-buffer-limit");
  FleetSettings settings;
  EXPECT_EQ(option.Show(settings), "normal 268435456 0 0 pubsub 33554432 8388608 60");
  ASSERT_TRUE(option.Parse("normal 64mb 16mb 30", &settings).ok());
  EXPECT_EQ(option.Show(settings), "normal 67108864 16777216 30 pubsub 33554432 8388608 60");
  ASSERT_TRUE(option.Parse("PUBSUB 0 0 0", &settings).ok());
  EXPECT_EQ(option.Show(settings), "normal 67108864 16777216 30 pubsub 0 0 0");
  v1::Policy policy;
  ASSERT_TRUE(option.Parse("pubsub 1mb 0 0", &policy).ok());
  ASSERT_TRUE(option.Parse("normal 2mb 0 0", &policy).ok());
  EXPECT_EQ(policy.limits().client_output_buffer_limit(), "normal 2097152 0 0 pubsub 1048576 0 0");
  FleetSettings taken;
  ASSERT_TRUE(option.Take(policy, &taken).ok());
  EXPECT_EQ(taken.client_output_buffer_limit, "normal 2097152 0 0 pubsub 1048576 0 0");
}

TEST(FleetOptionsTest, ClientOutputBufferLimitErrors) {
  const FleetOption& option = Option("client-output-buffer-limit");
  FleetSettings settings;
  EXPECT_EQ(Message(option.Parse("normal 1mb 0", &settings)),
            "invalid value 'normal 1mb 0' for option 'client-output-buffer-limit': expected "
            "<class> <hard limit> <soft limit> <soft seconds>, repeated");
  EXPECT_EQ(Message(option.Parse("replica 1mb 0 0", &settings)),
            "invalid value 'replica 1mb 0 0' for option 'client-output-buffer-limit': invalid "
            "client class (slotplane has the classes normal and pubsub)");
  EXPECT_EQ(Message(option.Parse("normal lots 0 0", &settings)),
            "invalid value 'normal lots 0 0' for option 'client-output-buffer-limit': error in "
            "hard, soft or soft_seconds setting");
  EXPECT_EQ(option.Show(settings), "normal 268435456 0 0 pubsub 33554432 8388608 60");
  v1::Policy policy;
  policy.mutable_limits()->set_client_output_buffer_limit("normal -1 0 0");
  EXPECT_FALSE(option.Take(policy, &settings).ok());
}

// Knows "set", "del" and the container "config" (with "config|get").
class TinyCatalog : public AclCommandCatalog {
 public:
  Kind Lookup(std::string_view name) const override {
    if (name == "set" || name == "del") return Kind::kCommand;
    if (name == "config") return Kind::kContainer;
    if (name == "config|get") return Kind::kSubcommand;
    return Kind::kUnknown;
  }
};

TEST(FleetOptionsTest, CommandListsAreNormalizedAndCheckedAgainstTheCatalog) {
  const FleetOption& option = Option("failover-resend-commands");
  FleetSettings settings;
  ASSERT_TRUE(option.Parse("SET, del  set,Config", &settings).ok());
  EXPECT_EQ(option.Show(settings), "config,del,set") << "lower case, sorted, no repeats";
  ASSERT_TRUE(option.Parse("", &settings).ok());
  EXPECT_EQ(option.Show(settings), "");
  EXPECT_EQ(Message(option.Parse("set,g!t", &settings)),
            "invalid value 'set,g!t' for option 'failover-resend-commands': not a command name");
  std::string many;
  for (size_t i = 0; i <= kMaxCommandListNames; ++i) absl::StrAppend(&many, "c", i, ",");
  EXPECT_FALSE(option.Parse(many, &settings).ok());

  TinyCatalog catalog;
  SetFleetCommandCatalog(&catalog);
  EXPECT_TRUE(option.Parse("set,config", &settings).ok());
  EXPECT_EQ(Message(option.Parse("set,nosuch", &settings)),
            "invalid value 'set,nosuch' for option 'failover-resend-commands': unknown command "
            "'nosuch'");
  EXPECT_FALSE(option.Parse("config|get", &settings).ok()) << "not a name: '|'";
  v1::Policy policy;
  policy.mutable_limits()->set_failover_resend_commands("set,nosuch");
  EXPECT_FALSE(option.Take(policy, &settings).ok()) << "a received policy is checked too";
  SetFleetCommandCatalog(nullptr);
}

TEST(FleetOptionsTest, TimeoutIsSecondsAndZeroMeansNever) {
  const FleetOption& option = Option("timeout");
  FleetSettings settings;
  EXPECT_EQ(option.Show(settings), "0");
  ASSERT_TRUE(option.Parse("300", &settings).ok());
  EXPECT_EQ(settings.timeout, 300);
  EXPECT_FALSE(option.Parse("-1", &settings).ok());
}

}  // namespace
}  // namespace slotplane
