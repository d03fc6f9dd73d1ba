#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controlplane/ctl/ctl_args.h"
#include "grpcpp/client_context.h"
#include "slotplane/v1/admin.grpc.pb.h"

namespace slotplane::ctl {

// A connection to the Admin service with slotplanectl's flags applied: TLS or plaintext, the
// bearer token on every call, a deadline on every call.
class AdminClient {
 public:
  // Reads the token and TLS files; fails (with a message for the user) when they are unusable.
  static absl::StatusOr<std::unique_ptr<AdminClient>> Create(const CtlArgs& args);

  // A context carrying the token, with a deadline `timeout` from now.
  std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout) const;
  v1::Admin::Stub& stub() { return *stub_; }
  const std::string& address() const { return address_; }

 private:
  AdminClient(std::string address, std::string token, std::unique_ptr<v1::Admin::Stub> stub)
      : address_(std::move(address)), token_(std::move(token)), stub_(std::move(stub)) {}

  std::string address_;
  std::string token_;
  std::unique_ptr<v1::Admin::Stub> stub_;
};

// kExitRefused or kExitUnreachable for a failed call (kExitOk for OK).
int ExitCodeFor(const grpc::Status& status);

// Prints "slotplanectl: <what>: <CODE>: <message>" (and a hint for a few codes) to stderr and
// returns ExitCodeFor(status).
int ReportError(const grpc::Status& status, const std::string& what, const std::string& address);

}  // namespace slotplane::ctl
