#pragma once

#include <string>
#include <vector>

#include "common/option_table.h"
#include "common/tls_config.h"

// The TLS options of a daemon's option table, named as in redis.conf, for the TlsSettings that
// its options struct T holds at a member. slotplane-proxy has both sides (its TLS listener and
// its connections to cluster nodes); slotplane-control only connects to nodes.
namespace slotplane {

inline constexpr const char* kTlsAuthClientsNames[] = {"no", "yes", "optional"};
inline const EnumNames kTlsAuthClientsChoices{kTlsAuthClientsNames};

// `def`, an option of TlsSettings, as an option of T whose TlsSettings is `member`.
template <typename T>
OptionDef<T> TlsMemberOption(OptionDef<TlsSettings> def, TlsSettings T::*member) {
  OptionDef<T> out;
  out.name = def.name;
  out.set = [set = def.set, member](T* o, const OptionValues& values) {
    return set(&(o->*member), values);
  };
  out.get = [get = def.get, member](const T& o) { return get(o.*member); };
  out.yes_no = def.yes_no;
  out.secret = def.secret;
  out.help = def.help;
  return out;
}

// Appends the TLS options to `defs`: with `listener` the server side's too (certificate, key,
// tls-auth-clients, tls-prefer-server-ciphers); always the CA, the client certificate presented
// to cluster nodes, protocols and ciphers. Passphrases are secrets (shown as "(set)").
template <typename T>
std::vector<OptionDef<T>> WithTlsOptions(std::vector<OptionDef<T>> defs, TlsSettings T::*member,
                                         bool listener) {
  using S = TlsSettings;
  std::vector<OptionDef<S>> tls;
  if (listener) {
    tls.push_back(StringOption("tls-cert-file", &S::cert_file,
                               "PEM certificate of the TLS listener (and for cluster nodes)"));
    tls.push_back(StringOption("tls-key-file", &S::key_file, "PEM private key of tls-cert-file"));
    tls.push_back(
        SecretOption("tls-key-file-pass", &S::key_file_pass, "passphrase of tls-key-file"));
  }
  tls.push_back(StringOption("tls-client-cert-file", &S::client_cert_file,
                             "PEM certificate presented to cluster nodes"));
  tls.push_back(StringOption("tls-client-key-file", &S::client_key_file,
                             "PEM private key of tls-client-cert-file"));
  tls.push_back(SecretOption("tls-client-key-file-pass", &S::client_key_file_pass,
                             "passphrase of tls-client-key-file"));
  tls.push_back(StringOption("tls-ca-cert-file", &S::ca_cert_file,
                             "PEM CA that verifies cluster nodes and clients"));
  tls.push_back(StringOption("tls-ca-cert-dir", &S::ca_cert_dir,
                             "directory of CA certificates (c_rehash layout)"));
  if (listener) {
    tls.push_back(EnumOption("tls-auth-clients", &S::auth_clients, kTlsAuthClientsChoices,
                             "yes | no | optional: clients must present a certificate"));
  }
  tls.push_back(
      StringOption("tls-protocols", &S::protocols, "e.g. \"TLSv1.2 TLSv1.3\" (the default)"));
  tls.push_back(StringOption("tls-ciphers", &S::ciphers, "TLSv1.2 cipher list"));
  tls.push_back(StringOption("tls-ciphersuites", &S::ciphersuites, "TLSv1.3 cipher suites"));
  if (listener) {
    tls.push_back(YesNoOption("tls-prefer-server-ciphers", &S::prefer_server_ciphers,
                              "the server's cipher order wins"));
  }
  for (OptionDef<S>& def : tls) defs.push_back(TlsMemberOption<T>(std::move(def), member));
  return defs;
}

}  // namespace slotplane
