#include "controlplane/store/file_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"
#include "common/sha256.h"
#include "common/strings.h"

namespace slotplane::control {
namespace {

constexpr char kFileName[] = "control.state";
constexpr char kLockName[] = "control.lock";
constexpr char kMagic[] = "slotplane-control-state";
constexpr char kFormatVersion[] = "1";

absl::Status ErrnoStatus(const std::string& what) {
  const int error = errno;
  std::string message = absl::StrCat(what, ": ", std::strerror(error));
  if (error == ENOENT) return absl::NotFoundError(message);
  return absl::UnavailableError(message);
}

absl::Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(absl::StrCat("cannot write ", path));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(absl::StrCat("cannot open ", path));
  std::string data;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status status = ErrnoStatus(absl::StrCat("cannot read ", path));
      ::close(fd);
      return status;
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

absl::Status FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(absl::StrCat("cannot open ", path));
  const int rc = ::fsync(fd);
  absl::Status status =
      rc == 0 ? absl::OkStatus() : ErrnoStatus(absl::StrCat("cannot fsync ", path));
  ::close(fd);
  return status;
}

// Writes `data` to `path` (created 0600, truncated) and fsyncs it.
absl::Status WriteFileDurably(const std::string& path, const std::string& data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(absl::StrCat("cannot create ", path));
  absl::Status status = WriteAll(fd, data, path);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoStatus(absl::StrCat("cannot fsync ", path));
  if (::close(fd) != 0 && status.ok()) status = ErrnoStatus(absl::StrCat("cannot close ", path));
  return status;
}

absl::Status EnsureDirectory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus(absl::StrCat("cannot use ", dir));
    if (!S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(dir, " is not a directory"));
    }
    return absl::OkStatus();
  }
  return ErrnoStatus(absl::StrCat("cannot create data directory ", dir));
}

absl::Status Damaged(const std::string& why) { return absl::DataLossError(why); }

}  // namespace

absl::StatusOr<std::unique_ptr<FileStore>> FileStore::Open(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("no data directory given");
  if (absl::Status s = EnsureDirectory(dir); !s.ok()) return s;
  const std::string lock_path = absl::StrCat(dir, "/", kLockName);
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) return ErrnoStatus(absl::StrCat("cannot create ", lock_path));
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(lock_fd);
    if (error == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat("data directory ", dir,
                                                        " is in use by another slotplane-control (",
                                                        lock_path, " is locked)"));
    }
    errno = error;
    return ErrnoStatus(absl::StrCat("cannot lock ", lock_path));
  }
  std::unique_ptr<FileStore> store(new FileStore(dir, lock_fd));
  const std::string temp = store->temp_path();
  if (::unlink(temp.c_str()) == 0) {
    SP_LOG(kWarning) << "removed " << temp
                     << ": a save was interrupted before it completed (that change was never "
                        "acknowledged)";
  }
  return store;
}

FileStore::FileStore(std::string dir, int lock_fd)
    : dir_(std::move(dir)), path_(absl::StrCat(dir_, "/", kFileName)), lock_fd_(lock_fd) {}

FileStore::~FileStore() { ::close(lock_fd_); }  // closing releases the flock

std::string FileStore::Describe() const { return absl::StrCat("file ", path_); }

std::string FileStore::Encode(const v1::ProxyConfig& state) {
  std::string payload;
  state.SerializeToString(&payload);
  return absl::StrCat(kMagic, " ", kFormatVersion, " ", payload.size(), " ", Sha256Hex(payload),
                      "\n", payload);
}

absl::StatusOr<v1::ProxyConfig> FileStore::Decode(const std::string& bytes) {
  const size_t newline = bytes.find('\n');
  if (newline == std::string::npos || newline > 256) {
    return Damaged(bytes.empty() ? "the file is empty" : "no header line");
  }
  const std::vector<std::string> header =
      absl::StrSplit(AbslView(std::string_view(bytes).substr(0, newline)), ' ');
  if (header.size() != 4 || header[0] != kMagic)
    return Damaged("not a slotplane-control state file");
  if (header[1] != kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat("state file format ", header[1],
                                                      " is not supported (this build reads ",
                                                      kFormatVersion, ")"));
  }
  size_t length = 0;
  if (!absl::SimpleAtoi(header[2], &length)) return Damaged("bad length in the header");
  const std::string_view payload = std::string_view(bytes).substr(newline + 1);
  if (payload.size() != length) {
    return Damaged(absl::StrCat("the file is truncated or extended: ", payload.size(),
                                " bytes of data, the header says ", length));
  }
  if (!ConstantTimeEquals(Sha256Hex(payload), header[3])) {
    return Damaged("checksum mismatch (the data was changed or damaged)");
  }
  v1::ProxyConfig state;
  if (!state.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return Damaged("the data does not parse");
  }
  return state;
}

absl::StatusOr<std::optional<v1::ProxyConfig>> FileStore::Load() {
  absl::StatusOr<std::string> bytes = ReadAll(path_);
  if (!bytes.ok()) {
    if (absl::IsNotFound(bytes.status())) return std::nullopt;
    return bytes.status();
  }
  absl::StatusOr<v1::ProxyConfig> state = Decode(*bytes);
  if (!state.ok()) {
    return absl::Status(
        state.status().code(),
        absl::StrCat("state file ", path_, " is damaged: ", state.status().message(),
                     ". Refusing to start rather than lose acknowledged changes: restore the "
                     "file from a backup, or move it away to start from the default policy"));
  }
  return *std::move(state);
}

absl::Status FileStore::Save(const v1::ProxyConfig& state, uint64_t previous_version) {
  (void)previous_version;  // the directory lock makes this process the only writer
  const std::string temp = temp_path();
  if (absl::Status s = WriteFileDurably(temp, Encode(state)); !s.ok()) {
    ::unlink(temp.c_str());
    return s;
  }
  if (::rename(temp.c_str(), path_.c_str()) != 0) {
    absl::Status s = ErrnoStatus(absl::StrCat("cannot rename ", temp, " to ", path_));
    ::unlink(temp.c_str());
    return s;
  }
  // The rename is durable only once the directory entry is.
  return FsyncPath(dir_, O_RDONLY | O_DIRECTORY);
}

}  // namespace slotplane::control
