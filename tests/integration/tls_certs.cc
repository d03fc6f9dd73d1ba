#include "tests/integration/tls_certs.h"

#include <cstdio>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/integration/child_process.h"
#include "tests/integration/test_util.h"

namespace slotplane::integration {
namespace {

constexpr absl::Duration kOpensslTimeout = absl::Seconds(30);

absl::Status Openssl(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  absl::StatusOr<CommandResult> result = RunCommand(args, dir, kOpensslTimeout);
  if (!result.ok()) return result.status();
  if (!result->Succeeded()) {
    return absl::InternalError(absl::StrCat("openssl ", args[1], " failed: ", result->output));
  }
  return absl::OkStatus();
}

const std::vector<std::string> kNewKey = {"-newkey", "ec", "-pkeyopt",
                                          "ec_paramgen_curve:prime256v1", "-nodes"};

}  // namespace

absl::Status MakeTestCa(const std::string& dir) {
  std::vector<std::string> args = {"req", "-x509", "-days",
                                   "2",   "-subj", "/CN=slotplane TLS test CA"};
  args.insert(args.end(), kNewKey.begin(), kNewKey.end());
  args.insert(args.end(), {"-keyout", dir + "/ca.key", "-out", dir + "/ca.pem"});
  return Openssl(dir, args);
}

absl::Status MakeTestCertificate(const std::string& dir, const std::string& name,
                                 const std::string& cn, const std::string& passphrase) {
  const std::string base = dir + "/" + name;
  std::ofstream(base + ".ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                  "extendedKeyUsage=serverAuth,clientAuth\n";
  std::vector<std::string> req = {"req", "-new", "-subj", "/CN=" + cn};
  req.insert(req.end(), kNewKey.begin(), kNewKey.end());
  req.insert(req.end(), {"-keyout", base + ".key", "-out", base + ".csr"});
  if (absl::Status s = Openssl(dir, req); !s.ok()) return s;
  absl::Status signed_ok = Openssl(
      dir, {"x509", "-req", "-days", "2", "-in", base + ".csr", "-CA", dir + "/ca.pem", "-CAkey",
            dir + "/ca.key", "-CAcreateserial", "-extfile", base + ".ext", "-out", base + ".pem"});
  if (!signed_ok.ok() || passphrase.empty()) return signed_ok;
  absl::Status encrypted = Openssl(dir, {"pkey", "-in", base + ".key", "-aes256", "-passout",
                                         "pass:" + passphrase, "-out", base + ".enc.key"});
  if (!encrypted.ok()) return encrypted;
  if (std::rename((base + ".enc.key").c_str(), (base + ".key").c_str()) != 0) {
    return absl::InternalError(absl::StrCat("rename ", base, ".enc.key"));
  }
  return absl::OkStatus();
}

}  // namespace slotplane::integration
