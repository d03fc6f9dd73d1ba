#include "dataplane/control/snapshot_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace slotplane::dataplane {
namespace {

constexpr char kMagic[] = "slotplane-snapshot-cache 1 ";

std::string Header(const std::string& control_plane) {
  return absl::StrCat(kMagic, control_plane, "\n");
}

absl::Status Errno(const std::string& what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

absl::Status SaveSnapshotCache(const std::string& path, const std::string& control_plane,
                               const v1::Snapshot& snapshot) {
  std::string data = Header(control_plane);
  if (!snapshot.AppendToString(&data)) return absl::InternalError("cannot serialize snapshot");
  std::string temp = absl::StrCat(path, ".tmp.", getpid());
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", temp);
  bool ok = WriteAll(fd, data) && fsync(fd) == 0;
  int saved_errno = errno;
  close(fd);
  if (!ok) {
    unlink(temp.c_str());
    errno = saved_errno;
    return Errno("cannot write", temp);
  }
  if (rename(temp.c_str(), path.c_str()) != 0) {
    saved_errno = errno;
    unlink(temp.c_str());
    errno = saved_errno;
    return Errno("cannot rename to", path);
  }
  int dir = open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Snapshot> LoadSnapshotCache(const std::string& path,
                                               const std::string& control_plane) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no cache file ", path));
    return Errno("cannot open", path);
  }
  std::string data;
  char chunk[64 * 1024];
  while (true) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(chunk, static_cast<size_t>(n));
  }
  close(fd);
  size_t newline = data.find('\n');
  if (newline == std::string::npos || data.compare(0, sizeof(kMagic) - 1, kMagic) != 0) {
    return absl::DataLossError(absl::StrCat(path, " is not a slotplane snapshot cache"));
  }
  std::string written_for = data.substr(sizeof(kMagic) - 1, newline - (sizeof(kMagic) - 1));
  if (written_for != control_plane) {
    return absl::FailedPreconditionError(absl::StrCat(path, " was written for control plane ",
                                                      written_for, ", not ", control_plane));
  }
  v1::Snapshot snapshot;
  if (!snapshot.ParseFromArray(data.data() + newline + 1,
                               static_cast<int>(data.size() - newline - 1))) {
    return absl::DataLossError(absl::StrCat(path, ": the snapshot cannot be parsed"));
  }
  return snapshot;
}

}  // namespace slotplane::dataplane
