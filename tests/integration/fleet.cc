#include "tests/integration/fleet.h"

#include <fstream>
#include <regex>

#include "absl/strings/str_cat.h"

namespace slotplane::integration {

absl::StatusOr<FleetListing> ListFleet(const ControlProcess& control) {
  absl::StatusOr<CommandResult> result = control.Ctl({"--json", "proxies"});
  if (!result.ok()) return result.status();
  if (!result->Succeeded()) {
    return absl::UnavailableError(absl::StrCat("slotplanectl proxies: ", result->output));
  }
  FleetListing listing;
  std::smatch m;
  if (std::regex_search(result->output, m, std::regex(R"("current_version":(\d+))"))) {
    listing.current_version = std::stoull(m[1]);
  }
  const std::regex entry(
      R"re("proxy_id":"([^"]*)".*?"listen_address":"([^"]*)".*?"acked_version":(\d+),)re"
      R"re("last_nack_version":(\d+),"last_nack_error":"((?:[^"\\]|\\.)*)")re");
  for (auto it = std::sregex_iterator(result->output.begin(), result->output.end(), entry);
       it != std::sregex_iterator(); ++it) {
    listing.proxies[(*it)[2]] =
        FleetEntry{(*it)[1], std::stoull((*it)[3]), std::stoull((*it)[4]), (*it)[5]};
  }
  return listing;
}

std::string ListenAddress(const ProxyProcess& proxy) {
  return absl::StrCat("127.0.0.1:", proxy.port());
}

ProxyOptions FleetProxyOptions(const ControlProcess& control, const std::string& id,
                               const std::string& cache_file, std::vector<NodeAddress> seeds) {
  ProxyOptions options;
  options.seeds = std::move(seeds);
  options.extra_args = {"--control-plane", control.address(), "--proxy-id", id};
  if (!control.token_file().empty()) {
    options.extra_args.insert(options.extra_args.end(),
                              {"--control-plane-token-file", control.token_file()});
  }
  if (!control.proxy_token_file().empty()) {
    options.extra_args.insert(options.extra_args.end(),
                              {"--control-plane-proxy-token-file", control.proxy_token_file()});
  }
  if (!cache_file.empty()) {
    options.extra_args.insert(options.extra_args.end(), {"--control-plane-cache", cache_file});
  }
  return options;
}

absl::StatusOr<std::map<std::string, std::string>> FleetInfo(const ProxyProcess& proxy,
                                                             const ClientOptions& options) {
  absl::StatusOr<std::unique_ptr<TestClient>> client = proxy.Connect(options);
  if (!client.ok()) return client.status();
  const Reply reply = (*client)->Command({"PROXY", "INFO", "fleet"});
  if (reply.type != Reply::Type::kString) {
    return absl::InternalError(absl::StrCat("PROXY INFO fleet: ", reply.DebugString()));
  }
  return ParseInfoText(reply.str);
}

absl::Status WaitForFleet(const ControlProcess& control, const std::vector<ProxyProcess*>& proxies,
                          absl::Duration timeout) {
  return WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<FleetListing> listing = ListFleet(control);
        if (!listing.ok()) return listing.status();
        if (listing->proxies.size() != proxies.size()) {
          return absl::UnavailableError(
              absl::StrCat(listing->proxies.size(), " proxies connected, want ", proxies.size()));
        }
        for (ProxyProcess* proxy : proxies) {
          auto it = listing->proxies.find(ListenAddress(*proxy));
          if (it == listing->proxies.end()) {
            return absl::UnavailableError(absl::StrCat(ListenAddress(*proxy), " not listed"));
          }
          if (it->second.acked_version != listing->current_version) {
            return absl::UnavailableError(absl::StrCat(it->second.id, " acked ",
                                                       it->second.acked_version, ", current ",
                                                       listing->current_version));
          }
          absl::StatusOr<std::map<std::string, std::string>> fleet = FleetInfo(*proxy);
          if (!fleet.ok()) return fleet.status();
          if ((*fleet)["stream_state"] != "connected") {
            return absl::UnavailableError(
                absl::StrCat(ListenAddress(*proxy), " stream ", (*fleet)["stream_state"]));
          }
        }
        return absl::OkStatus();
      },
      timeout, absl::Milliseconds(100));
}

absl::Status WaitForOption(const ProxyProcess& proxy, const std::string& name,
                           const std::string& value, absl::Duration timeout) {
  const Reply expected = Reply::Array({Reply::String(name), Reply::String(value)});
  return WaitForOk(
      [&]() -> absl::Status {
        absl::StatusOr<std::unique_ptr<TestClient>> client = proxy.Connect();
        if (!client.ok()) return client.status();
        const Reply reply = (*client)->Command({"PROXY", "CONFIG", "GET", name});
        if (reply == expected) return absl::OkStatus();
        return absl::UnavailableError(
            absl::StrCat(ListenAddress(proxy), ": ", reply.DebugString()));
      },
      timeout, absl::Milliseconds(50));
}

absl::Status MakeTestCertificates(const std::string& dir) {
  std::ofstream(dir + "/server.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                        "extendedKeyUsage=serverAuth\n";
  std::ofstream(dir + "/client.ext") << "extendedKeyUsage=clientAuth\n";
  const std::vector<std::string> new_key = {"-newkey", "ec", "-pkeyopt",
                                            "ec_paramgen_curve:prime256v1", "-nodes"};
  auto req = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"openssl", "req"});
    args.insert(args.begin() + 2, new_key.begin(), new_key.end());
    return args;
  };
  auto sign = [&](const std::string& name) {
    return std::vector<std::string>{"openssl",
                                    "x509",
                                    "-req",
                                    "-days",
                                    "2",
                                    "-in",
                                    dir + "/" + name + ".csr",
                                    "-CA",
                                    dir + "/ca.pem",
                                    "-CAkey",
                                    dir + "/ca.key",
                                    "-CAcreateserial",
                                    "-extfile",
                                    dir + "/" + name + ".ext",
                                    "-out",
                                    dir + "/" + name + ".pem"};
  };
  const std::vector<std::vector<std::string>> steps = {
      req({"-x509", "-days", "2", "-subj", "/CN=slotplane test CA", "-keyout", dir + "/ca.key",
           "-out", dir + "/ca.pem"}),
      req({"-new", "-subj", "/CN=localhost", "-keyout", dir + "/server.key", "-out",
           dir + "/server.csr"}),
      sign("server"),
      req({"-new", "-subj", "/CN=proxy", "-keyout", dir + "/client.key", "-out",
           dir + "/client.csr"}),
      sign("client"),
  };
  for (const auto& step : steps) {
    absl::StatusOr<CommandResult> result = RunCommand(step, dir, absl::Seconds(30));
    if (!result.ok()) return result.status();
    if (!result->Succeeded()) {
      return absl::InternalError(absl::StrCat("openssl failed: ", result->output));
    }
  }
  return absl::OkStatus();
}

}  // namespace slotplane::integration
