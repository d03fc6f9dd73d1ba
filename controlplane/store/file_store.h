#pragma once

#include <memory>
#include <string>

#include "controlplane/store/policy_store.h"

namespace slotplane::control {

// The embedded PolicyStore: one file in the data directory, replaced atomically on every Save
// (write a temporary file, fsync it, rename it over the old one, fsync the directory), so a
// crash at any point leaves either the old or the new state, never a mix. The file carries its
// length and SHA-256, so damage (a truncated or edited file) is reported, never read as an empty
// or partial policy. A leftover temporary file (a crash before the rename) is removed at Open:
// its change was never acknowledged. The directory is locked (flock) for the lifetime of the
// store so that two control planes cannot share it.
class FileStore : public PolicyStore {
 public:
  // Creates `dir` (mode 0700) when missing, takes the lock and removes a leftover temporary
  // file. Fails when the directory cannot be used or another process holds the lock.
  static absl::StatusOr<std::unique_ptr<FileStore>> Open(const std::string& dir);

  ~FileStore() override;

  absl::StatusOr<std::optional<v1::ProxyConfig>> Load() override;
  absl::Status Save(const v1::ProxyConfig& state, uint64_t previous_version) override;
  std::string Describe() const override;

  const std::string& path() const { return path_; }
  std::string temp_path() const { return path_ + ".tmp"; }

  // The file format, exposed for tests: a header line "slotplane-control-state 1 <length>
  // <sha256 hex>\n" followed by <length> bytes of the serialized v1::ProxyConfig.
  static std::string Encode(const v1::ProxyConfig& state);
  static absl::StatusOr<v1::ProxyConfig> Decode(const std::string& bytes);

 private:
  FileStore(std::string dir, int lock_fd);

  std::string dir_;
  std::string path_;
  int lock_fd_;
};

}  // namespace slotplane::control
