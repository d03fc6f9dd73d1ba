#pragma once

#include <string>

#include "absl/status/status.h"

// Test certificates for TLS between clients, slotplane and Redis, made at test time with the
// openssl command-line tool (never checked in): one CA per directory, then certificates it signs.
namespace slotplane::integration {

// ca.pem and ca.key in `dir` (a P-256 key, valid two days).
absl::Status MakeTestCa(const std::string& dir);

// `name`.pem and `name`.key in `dir`, signed by the CA of MakeTestCa(dir): subject CN=`cn`,
// subjectAltName localhost and 127.0.0.1, usable by servers and clients alike (Redis presents
// its certificate on both sides of the cluster bus). With a non-empty `passphrase` the key is
// encrypted with it (AES-256).
absl::Status MakeTestCertificate(const std::string& dir, const std::string& name,
                                 const std::string& cn, const std::string& passphrase = "");

}  // namespace slotplane::integration
