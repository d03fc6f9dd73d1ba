#include "common/option_table.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "common/build_info.h"
#include "gtest/gtest.h"

namespace slotplane {
namespace {

enum class Color { kRed, kGreen, kBlue };
constexpr const char* kColorNames[] = {"red", "green", "blue"};
constexpr std::pair<const char*, int> kColorAliases[] = {{"grey", 1}};
const EnumNames kColors{kColorNames, kColorAliases};

struct Settings {
  int count = 3;
  bool verbose = false;
  std::string name = "x";
  std::string password;
  Color color = Color::kRed;
  std::vector<NodeAddress> nodes;
};

const OptionTable<Settings>& Table() {
  static const auto* table = new OptionTable<Settings>({
      IntOption("count", &Settings::count, 1, 10, "how many"),
      YesNoOption("verbose", &Settings::verbose),
      StringOption("name", &Settings::name),
      SecretOption("password", &Settings::password),
      EnumOption("color", &Settings::color, kColors),
      AddressListOption("node", &Settings::nodes),
  });
  return *table;
}

const CommandLineSpec& Spec() {
  static const auto* spec = new CommandLineSpec{
      "prog", [] { return std::string("usage\n"); }, {{"-n", "count", "count"}}, "node"};
  return *spec;
}

absl::StatusOr<Settings> Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "prog");
  return Table().ParseCommandLine(static_cast<int>(args.size()), args.data(), Spec());
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST(OptionTableTest, ValueParsersNameTheOption) {
  EXPECT_EQ(*ParseInteger("n", "7", 1, 10), 7);
  EXPECT_EQ(Message(ParseInteger("n", "x", 1, 10).status()),
            "invalid value 'x' for option 'n': not an integer");
  EXPECT_EQ(Message(ParseInteger("n", "11", 1, 10).status()),
            "invalid value '11' for option 'n': must be between 1 and 10");
  EXPECT_EQ(*ParseSize("s", "2mb", 0), 2 << 20);
  EXPECT_EQ(*ParseSize("s", "3k", 0), 3000);
  EXPECT_EQ(*ParseSize("s", "1GB", 0), 1LL << 30);
  EXPECT_EQ(Message(ParseSize("s", "lots", 0).status()),
            "invalid value 'lots' for option 's': not a size (e.g. 512mb)");
  EXPECT_EQ(Message(ParseSize("s", "1kb", 2048).status()),
            "invalid value '1kb' for option 's': must be at least 2048");
  EXPECT_FALSE(ParseSize("s", "99999999999gb", 0).ok()) << "overflow";
  EXPECT_TRUE(*ParseYesNo("b", "TRUE"));
  EXPECT_FALSE(*ParseYesNo("b", "0"));
  EXPECT_EQ(Message(ParseYesNo("b", "maybe").status()),
            "invalid value 'maybe' for option 'b': must be yes or no");
  EXPECT_EQ(*ParseEnum("c", "BLUE", kColors), 2);
  EXPECT_EQ(*ParseEnum("c", "grey", kColors), 1) << "an alias";
  EXPECT_EQ(Message(ParseEnum("c", "pink", kColors).status()),
            "invalid value 'pink' for option 'c': must be red, green or blue");
  EXPECT_EQ(*ParseEnum("log-level", "warn", kLogLevelChoices),
            static_cast<int>(LogLevel::kWarning));
}

TEST(OptionTableTest, ErrorsEchoAtMostTheStartOfAValue) {
  const std::string huge(100000, 'z');
  const std::string message = Message(ParseInteger("n", huge, 1, 10).status());
  EXPECT_EQ(message, "invalid value '" + std::string(kMaxEchoedBytes, 'z') +
                         "\u2026' for option 'n': not an integer");
  std::vector<NodeAddress> nodes;
  const std::string address_error = Message(ParseAddressList("node", {huge}, &nodes));
  EXPECT_LT(address_error.size(), 300u) << address_error;
  EXPECT_EQ(Message(UnknownOption(huge)).size(),
            Message(UnknownOption(std::string(64, 'z'))).size() + 3);
  EXPECT_EQ(Message(BadSecretValue("password", "too short")),
            "invalid value for option 'password': too short");
}

TEST(OptionTableTest, TableChecksNamesAndValueCounts) {
  Settings settings;
  EXPECT_TRUE(Table().Apply(&settings, "COUNT", {"4"}).ok()) << "names ignore case";
  EXPECT_EQ(settings.count, 4);
  EXPECT_EQ(Message(Table().Apply(&settings, "count", {"4", "5"})),
            "option 'count' takes one value, got 2");
  EXPECT_EQ(Message(Table().Apply(&settings, "node", {})), "option 'node' takes one value, got 0");
  EXPECT_TRUE(Table().Apply(&settings, "node", {"a:1,b:2", "c:3"}).ok()) << "repeatable";
  EXPECT_EQ(settings.nodes.size(), 3u);
  absl::Status unknown = Table().Apply(&settings, "nope", {"1"});
  EXPECT_TRUE(absl::IsNotFound(unknown));
  EXPECT_EQ(Message(unknown), "unknown option 'nope'");
  EXPECT_FALSE(Table().Apply(&settings, "count", {"0"}).ok());
  EXPECT_EQ(settings.count, 4) << "unchanged on error";

  ASSERT_TRUE(Table().Apply(&settings, "password", {"s3cret"}).ok());
  EXPECT_EQ(*Table().Get(settings, "password"), "(set)");
  EXPECT_EQ(*Table().Get(settings, "color"), "red");
  EXPECT_EQ(*Table().Get(settings, "node"), "a:1 b:2 c:3");
  EXPECT_EQ(Table().Names().size(), 6u);
}

TEST(OptionTableTest, CommandLine) {
  auto settings = Parse({"--count", "5", "--verbose", "--color", "green", "h:1", "-n", "6"});
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->count, 6) << "-n is --count, applied in order";
  EXPECT_TRUE(settings->verbose) << "a yes/no option alone means yes";
  EXPECT_EQ(settings->color, Color::kGreen);
  ASSERT_EQ(settings->nodes.size(), 1u) << "bare arguments go to the positional option";

  EXPECT_EQ(Message(Parse({"--count"}).status()), "option --count needs a value");
  EXPECT_EQ(Message(Parse({"--bogus", "1"}).status()), "unknown option --bogus");
  EXPECT_EQ(Message(Parse({"-x"}).status()), "unknown option -x");
  EXPECT_EQ(Message(Parse({"-n"}).status()), "-n needs a count");
  EXPECT_EQ(Message(Parse({"-c"}).status()), "-c needs a config file path");

  // --help and --version win wherever they stand, whatever else is wrong.
  auto help = Parse({"--bogus", "1", "--help"});
  ASSERT_TRUE(absl::IsCancelled(help.status()));
  EXPECT_EQ(Message(help.status()), "usage\n");
  auto version = Parse({"-v"});
  ASSERT_TRUE(absl::IsCancelled(version.status()));
  EXPECT_EQ(Message(version.status()),
            absl::StrCat("prog ", SLOTPLANE_VERSION, " (git ", BuildRevision(), ")\n"));
}

TEST(OptionTableTest, SecretsOnTheCommandLineAreHiddenFromTheProcessList) {
  std::string prog = "prog", name_flag = "--name", name = "visible", pass_flag = "--PASSWORD",
              secret = "s3cret", node = "h:1";
  std::vector<char*> argv = {prog.data(),      name_flag.data(), name.data(),
                             pass_flag.data(), secret.data(),    node.data()};
  const std::vector<std::string> hidden =
      Table().HideSecretArguments(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(hidden, std::vector<std::string>{"password"});
  EXPECT_STREQ(argv[4], "xxxxxx") << "the value is overwritten in place, same length";
  EXPECT_STREQ(argv[2], "visible") << "other options are left alone";
  EXPECT_STREQ(argv[5], "h:1");

  std::vector<char*> trailing = {prog.data(), pass_flag.data()};  // no value: nothing to hide
  EXPECT_TRUE(Table().HideSecretArguments(2, trailing.data()).empty());
}

TEST(OptionTableTest, ConfigFileFirstThenFlags) {
  char path[] = "/tmp/slotplane-option-table-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "count 2\nname from-file\nnode a:1\n";
  auto settings = Parse({"--count", "9", "-c", path});
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->count, 9) << "flags override the file, wherever -c stands";
  EXPECT_EQ(settings->name, "from-file");

  std::ofstream(path) << "count 2\n\ncolor pink\n";
  EXPECT_EQ(Message(Parse({"-c", path}).status()),
            std::string(path) + ":3: invalid value 'pink' for option 'color': must be red, " +
                "green or blue");
  std::ofstream(path) << "bogus 1\n";
  EXPECT_EQ(Message(Parse({"-c", path}).status()),
            std::string(path) + ":1: unknown option 'bogus'");
  std::remove(path);
}

}  // namespace
}  // namespace slotplane
